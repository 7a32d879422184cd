"""The report's "at a glance" table: one row per exam question with its headline answer,
whether it ran on the exam's data or the built-in demo, and a link to its section. Every
number comes from the results."""

from __future__ import annotations

from convlens.probe.probe_records import RANDOM, beyond_noise
from convlens.report.results_file import ReportResults
from convlens.report.wording import three


def glance_rows(results: ReportResults) -> list[dict]:
    """[{"question", "answer", "data"}] for 1a-3d."""
    return [
        {"question": q, "answer": a, "data": d}
        for q, a, d in _problem1(results) + _problem2(results) + _problem3(results)
    ]


def _problem1(results: ReportResults) -> list[tuple[str, str, str]]:
    p1 = results.problem1
    z2 = p1.argmin_l2
    theory = "theory"
    return [
        ("1a", f"CE(z, y) = -log z_y; for z = (0.7, 0.3): {three(p1.ce_example.ce)}", theory),
        ("1b", "without a stochastic z the loss can fall below 0 or be undefined", theory),
        ("1c", f"{p1.dataset_ce.operations} operations for N = {p1.dataset_ce.n}", theory),
        (
            "1d",
            f"argmin: none {tuple(p1.argmin_none)}, l2 ({three(z2[0])}, {three(z2[1])}), "
            f"l1 {tuple(p1.argmin_l1)}",
            theory,
        ),
        ("1e", "only the l2 penalty moves the minimiser off the one-hot target", theory),
    ]


def _problem2(results: ReportResults) -> list[tuple[str, str, str]]:
    p2 = results.problem2
    data = "demo (digits)" if p2.demo else "exam (VGG16)"
    if p2.demo:
        acc = f"demo classifier test accuracy {three(p2.digits.test_accuracy)}"
    elif p2.validation is not None:
        acc = f"top-1 {three(p2.validation.top1)}, top-5 {three(p2.validation.top5)}"
    else:
        acc = "no labelled images"
    flag = max(p2.uncertainty.images, key=lambda r: r.mutual_information)
    deletion = {r.method: three(r.deletion_auc) for r in p2.quality.deletion_insertion}
    top1 = [f"{r.top[0].name} ({three(r.top[0].prob)})" for r in p2.top5]
    blur = ", ".join(
        f"{r.name} {three(r.prob_no_blur)} / {three(r.prob_blur)}" for r in p2.class_viz.classes
    )
    return [
        ("2a", "saliency, guided backprop, class models: what each explains", "background"),
        ("2b", acc, data),
        ("2c", "final probability without / with blur: " + blur, data),
        ("2d", "top-1: " + ", ".join(top1), data),
        (
            "2e-2f",
            f"deletion area: saliency {deletion['saliency']}, guided backprop "
            f"{deletion['guided backprop']}, random {deletion['random map']}",
            data,
        ),
        ("2g", "dropout training is approximate variational inference", "background"),
        (
            "2h",
            f"most uncertain: {flag.image} (mutual information {three(flag.mutual_information)})",
            data,
        ),
    ]


def _problem3(results: ReportResults) -> list[tuple[str, str, str]]:
    p3 = results.problem3
    data = "demo (photographs)" if p3.demo else "exam (problem3.zip)"
    nets = p3.study.networks
    k = p3.probe.k
    fused = [
        (acc.image_accuracy, name, m)
        for name, n in nets.items()
        for m, acc in n.evaluation.methods.items()
        if m.startswith("network+")
    ]
    best_fusion = ""
    if fused:  # the best method that joins a network with something else, named as a fusion
        acc, name, m = max(fused)
        best_fusion = f"; best fusion: {name} {m} {three(acc)}"
    raw = next(n.probe.raw.knn for n in nets.values() if n.probe.raw is not None)
    pairs = {name: (n.probe.trained.knn, n.probe.random.knn) for name, n in nets.items()}
    glance_3d = [("3d", "trained minus random twin: " + _gains(nets), data)]
    if p3.shapes is not None:  # the demo's second probe, whose classes are shapes
        glance_3d.append(
            (
                "3d",
                "trained minus random twin on the digits: " + _gains(p3.shapes.networks),
                "demo (handwritten digits)",
            )
        )
    return [
        (
            "3a",
            ", ".join(f"{name} {len(n.history)} epoch(s)" for name, n in nets.items())
            + f" on {p3.n_train} images",
            data,
        ),
        (
            "3b",
            "image-level, each network alone: "
            + ", ".join(f"{name} {three(n.alone)}" for name, n in nets.items())
            + best_fusion,
            data,
        ),
        (
            "3c",
            f"k-NN (k = {k}): raw pixels {three(raw)}; "
            + ", ".join(f"{name} {three(a)} (random {three(b)})" for name, (a, b) in pairs.items()),
            data,
        ),
        *glance_3d,
    ]


def _gains(networks: dict) -> str:
    """Each network's trained minus random k-NN (with its 95 % interval when it was tested), and
    which networks beat both random twins by more than the intervals' noise."""
    parts, beyond = [], []
    for name, n in networks.items():
        differences = n.probe.differences or {}
        d = differences.get(RANDOM)
        if d is None:
            parts.append(f"{name} {n.probe.trained.knn - n.probe.random.knn:+.3f}")
            continue
        parts.append(f"{name} {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
        if beyond_noise(differences) > 0:
            beyond.append(name)
    if not any(n.probe.differences for n in networks.values()):
        return ", ".join(parts)
    verdict = ", ".join(beyond) if beyond else "none"
    return ", ".join(parts) + f"; beyond the noise against every twin: {verdict}"
