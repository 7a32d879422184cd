"""The report's "at a glance" table: one row per exam question with its headline answer,
whether it ran on the exam's data or the built-in demo, and a link to its section. Every
number comes from results.json."""

from __future__ import annotations


def _f(x: float) -> str:
    return f"{x:.3f}"


def glance_rows(results: dict) -> list[dict]:
    """[{"question", "answer", "data"}] for 1a-3d."""
    p1, p2, p3 = results["problem1"], results["problem2"], results["problem3"]
    z2 = p1["argmin_l2"]
    theory = "theory"
    rows = [
        ("1a", f"CE(z, y) = -log z_y; for z = (0.7, 0.3): {_f(p1['ce_example']['ce'])}", theory),
        ("1b", "without a stochastic z the loss can fall below 0 or be undefined", theory),
        (
            "1c",
            f"{p1['dataset_ce']['operations']} operations for N = {p1['dataset_ce']['n']}",
            theory,
        ),
        (
            "1d",
            f"argmin: none {tuple(p1['argmin_none'])}, l2 ({_f(z2[0])}, {_f(z2[1])}), "
            f"l1 {tuple(p1['argmin_l1'])}",
            theory,
        ),
        ("1e", "only the l2 penalty moves the minimiser off the one-hot target", theory),
    ]
    demo2 = p2["mode"] == "demo"
    data2 = "demo (digits)" if demo2 else "exam (VGG16)"
    if demo2:
        acc = f"demo classifier test accuracy {_f(p2['digits']['test_accuracy'])}"
    else:
        v = p2.get("validation")
        acc = f"top-1 {_f(v['top1'])}, top-5 {_f(v['top5'])}" if v else "no labelled images"
    cv = p2["class_viz"]["classes"]
    u = p2["uncertainty"]["images"]
    flag = max(u, key=lambda r: r["mutual_information"])
    q = {r["method"]: _f(r["deletion_auc"]) for r in p2["quality"]["deletion_insertion"]}
    top1 = [f"{r['top'][0]['name']} ({_f(r['top'][0]['prob'])})" for r in p2["top5"]]
    mi = _f(flag["mutual_information"])
    rows += [
        ("2a", "saliency, guided backprop, class models: what each explains", "background"),
        ("2b", acc, data2),
        (
            "2c",
            "final probability without / with blur: "
            + ", ".join(f"{r['name']} {_f(r['prob_no_blur'])} / {_f(r['prob_blur'])}" for r in cv),
            data2,
        ),
        (
            "2d",
            "top-1: " + ", ".join(top1),
            data2,
        ),
        (
            "2e-2f",
            f"deletion area: saliency {q['saliency']}, guided backprop "
            f"{q['guided backprop']}, random {q['random map']}",
            data2,
        ),
        ("2g", "dropout training is approximate variational inference", "background"),
        (
            "2h",
            f"most uncertain: {flag['image']} (mutual information {mi})",
            data2,
        ),
    ]
    data3 = "demo (photographs)" if p3["mode"] == "demo" else "exam (problem3.zip)"
    nets = p3.get("study", {}).get("networks") or {p3["arch"]: p3}
    k = p3["probe"]["k"]

    def alone(n):
        return _f(n["evaluation"]["methods"]["network"]["image_accuracy"])

    def best_fusion():
        """The best method that joins a network with something else, named as a fusion."""
        fused = [
            (acc["image_accuracy"], name, m)
            for name, n in nets.items()
            for m, acc in n["evaluation"]["methods"].items()
            if m.startswith("network+")
        ]
        if not fused:
            return ""
        acc, name, m = max(fused)
        return f"; best fusion: {name} {m} {_f(acc)}"

    def probe_pair(n):
        t = {r["features"]: r for r in n["probe"]["table"]}
        return t["de-shuffling network"][f"knn{k}"], t["random network"][f"knn{k}"]

    raw = next(
        r[f"knn{k}"]
        for n in nets.values()
        for r in n["probe"]["table"]
        if r["features"] == "raw pixels"
    )
    pairs = {name: probe_pair(n) for name, n in nets.items()}
    closest = max(pairs, key=lambda name: pairs[name][0] - pairs[name][1])
    rows += [
        (
            "3a",
            ", ".join(f"{name} {len(n['history'])} epoch(s)" for name, n in nets.items())
            + f" on {p3['n_train']} images",
            data3,
        ),
        (
            "3b",
            "image-level, each network alone: "
            + ", ".join(f"{name} {alone(n)}" for name, n in nets.items())
            + best_fusion(),
            data3,
        ),
        (
            "3c",
            f"k-NN (k = {k}): raw pixels {_f(raw)}; "
            + ", ".join(f"{name} {_f(a)} (random {_f(b)})" for name, (a, b) in pairs.items()),
            data3,
        ),
        (
            "3d",
            f"closest to beating its random twin: {closest} ({_f(pairs[closest][0])} vs "
            f"{_f(pairs[closest][1])})",
            data3,
        ),
    ]
    return [{"question": q_, "answer": a, "data": d} for q_, a, d in rows]
