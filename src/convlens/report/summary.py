"""The report's "at a glance" table: one row per exam question with its headline answer,
whether it ran on the exam's data or the built-in demo, and a link to its section. Every
number comes from the results."""

from __future__ import annotations

from convlens.probe.probe_records import RANDOM
from convlens.report.findings import and_list, gain, leaders, three
from convlens.report.results_file import ReportResults

# The methods that fuse a network with something else (test-time augmentation is the network
# alone over re-shuffled views, not a fusion).
FUSIONS = ("network+seam", "network+tta+seam")


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
        (
            "1a",
            f"CE(z, y) = -log z_y; for z = {tuple(p1.ce_example.z)}: {three(p1.ce_example.ce)}",
            theory,
        ),
        ("1b", _non_stochastic(p1), theory),
        ("1c", f"{p1.dataset_ce.operations} operations for N = {p1.dataset_ce.n}", theory),
        (
            "1d",
            f"argmin: none {tuple(p1.argmin_none)}, l2 ({three(z2[0])}, {three(z2[1])}), "
            f"l1 {tuple(p1.argmin_l1)}",
            theory,
        ),
        ("1e", _moved(p1), theory),
    ]


def _non_stochastic(p1) -> str:
    """What the 1b table's rows show: a loss below zero, or none at all."""
    values = [r.ce for r in p1.non_stochastic]
    said = []
    if any(v < 0 for v in values):
        said.append(f"fall to {three(min(v for v in values if v < 0))}")
    if any(v != v for v in values):  # NaN: the logarithm of a negative entry
        said.append("be undefined")
    if not said:
        return "the examples of a z off the simplex gave no loss below zero"
    return "without a stochastic z the loss can " + " or ".join(said)


def _moved(p1) -> str:
    """Which penalties move the minimiser away from the unregularised one (to 1e-6)."""
    moved = [
        name
        for name, z in (("l2", p1.argmin_l2), ("l1", p1.argmin_l1))
        if max(abs(a - b) for a, b in zip(z, p1.argmin_none, strict=True)) > 1e-6
    ]
    if not moved:
        return "no penalty moves the minimiser off the one-hot target"
    if len(moved) == 2:
        return "both penalties move the minimiser off the one-hot target"
    return f"only the {moved[0]} penalty moves the minimiser off the one-hot target"


def _problem2(results: ReportResults) -> list[tuple[str, str, str]]:
    p2 = results.problem2
    data = {"demo": "demo (digits)", "imagenet": "exam (VGG16)"}.get(p2.mode, "your model")
    if p2.demo:
        acc = f"demo classifier test accuracy {three(p2.digits.test_accuracy)}"
    elif p2.validation is not None:
        acc = f"top-1 {three(p2.validation.top1)}, top-5 {three(p2.validation.top5)}"
    else:
        acc = "no labelled images"
    if p2.uncertainty is not None:
        mi = {r.image: r.mutual_information for r in p2.uncertainty.images}
        flagged = leaders(mi)
        most = f"most uncertain: {and_list(flagged)} (mutual information {three(mi[flagged[0]])})"
    else:
        most = "not run: the model has no dropout"
    deletion = ", ".join(f"{r.method} {three(r.deletion_auc)}" for r in p2.quality.checks)
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
            f"deletion area: {deletion}",
            data,
        ),
        ("2g", "dropout training is approximate variational inference", "background"),
        ("2h", most, data),
    ]


def _problem3(results: ReportResults) -> list[tuple[str, str, str]]:
    p3 = results.problem3
    data = "demo (photographs)" if p3.demo else "exam (problem3.zip)"
    nets = p3.study.networks
    k = p3.probe.k
    fused = {
        f"{name} {m}": acc.image_accuracy
        for name, n in nets.items()
        for m, acc in n.evaluation.methods.items()
        if m in FUSIONS
    }
    best_fusion = ""
    if fused:  # the methods that join a network with the seam score, ties named together
        best = leaders(fused)
        best_fusion = f"; best fusion: {and_list(best)} {three(fused[best[0]])}"
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
            + _trained_on(p3.study.first, p3.n_train),
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


def _trained_on(first, n_train: int) -> str:
    """The images trained on: the file's, less those held out to validate, where recorded."""
    if first.n_fit is None:
        return f" on the training file's {n_train} images"
    return f" on {first.n_fit} images ({first.n_validation} more held out to validate)"


def _gains(networks: dict) -> str:
    """Each network's trained minus random k-NN (with its interval when it was tested), and
    which networks beat every random twin by more than the intervals' noise (one verdict per
    network: convlens.report.findings.gain)."""
    parts, beyond = [], []
    for name, n in networks.items():
        d = (n.probe.differences or {}).get(RANDOM)
        g = gain(n.probe)
        if d is None:
            parts.append(f"{name} {g.difference:+.3f}")
            continue
        parts.append(f"{name} {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
        if g.verdict > 0:
            beyond.append(name)
    if not any(n.probe.differences for n in networks.values()):
        return ", ".join(parts)
    verdict = ", ".join(beyond) if beyond else "none"
    return ", ".join(parts) + f"; beyond the noise against every twin: {verdict}"
