"""Report section for Problem 3: de-shuffling and the k-NN probe, on the exam's problem3 data
when given, else on exam-format data built from real photographs (and real digits)."""

from __future__ import annotations

import time

import numpy as np

from convlens.demo.jigsaw_data import collect_photographs, make_jigsaw_arrays
from convlens.demo.normal_data import make_digits_normal
from convlens.fingerprint import fingerprint
from convlens.jigsaw.checkpoint import CHECKPOINT
from convlens.jigsaw.config import TrainConfig
from convlens.jigsaw.data import NpzData, Split, load_npz
from convlens.jigsaw.workflow import evaluate_run, run_training
from convlens.probe.workflow import probe_run
from convlens.report import discussion
from convlens.report.cache import cache_key
from convlens.report.document import Document, package_text
from convlens.runtime import resolve_device


def settings(ctx) -> dict:
    return {
        "problem3": str(ctx.problem3),
        "problem3_content": fingerprint(ctx.problem3),
        "problem2": str(ctx.problem2),
        # the demo's puzzles include the problem2 photographs when they are present
        "problem2_content": None if ctx.problem3 else fingerprint(ctx.problem2),
    }


def _as_data(arrays: dict, source: str, kind: str) -> NpzData:
    def split(x, y, groups=None):
        known = np.ones(len(x), bool) if kind == "orders" else None
        return Split(x, y, known, groups)

    # The demo's crops know their photograph: validation then holds out whole photographs.
    train = split(arrays["a"], arrays["b"], arrays.get("source_train"))
    return NpzData(train, split(arrays["c"], arrays["d"]), source, "uint8")


def compute(ctx) -> dict:
    quick = ctx.quick
    if ctx.problem3:
        shuffled = load_npz(ctx.problem3, "DataShuffled.npz", kind="orders")
        normal = load_npz(ctx.problem3, "DataNormal.npz", kind="classes")
        mode = "exam"
        cfg = TrainConfig(seed=ctx.seed, device=ctx.device)
    else:
        folders = (
            [ctx.problem2 / "validation_images", ctx.problem2 / "test_images"]
            if (ctx.problem2 and ctx.problem2.is_dir())
            else []
        )
        photos = collect_photographs(folders)
        arrays = make_jigsaw_arrays(
            photos, n_train=300 if quick else 3000, n_test=96 if quick else 600, seed=ctx.seed
        )
        shuffled = _as_data(arrays, f"random 96x96 crops of {len(photos)} photographs", "orders")
        normal = _as_data(
            make_digits_normal(size=96, seed=ctx.seed),
            "scikit-learn's handwritten digits at 96x96",
            "classes",
        )
        mode = "demo"
        cfg = TrainConfig(seed=ctx.seed, epochs=1 if quick else 4, device=ctx.device)
    # One run folder per data and settings: an interrupted report resumes the training where
    # its last checkpoint stopped, and other data never resume a run trained on something else.
    key = cache_key(section="problem3", seed=ctx.seed, quick=ctx.quick, **settings(ctx))
    run = ctx.out / "runs" / f"jigsaw-{key[:12]}"
    seconds = {}
    started = time.perf_counter()
    ctx.step(f"problem3: 3a training {cfg.model.arch} for {cfg.epochs} epoch(s)")
    train = run_training(shuffled, run, cfg, resume=(run / CHECKPOINT).exists(), progress=True)
    device = resolve_device(ctx.device)
    seconds["3a_training"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    ctx.step("problem3: 3b evaluating every de-shuffling method")
    ev = evaluate_run(run, shuffled, out=ctx.figures, tta=True, device=device, progress=True)
    ev["figure"] = "jigsaw_examples.png"
    seconds["3b_evaluation"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    ctx.step("problem3: 3c k-NN probe")
    probe = probe_run(
        run, normal, k=3, seed=ctx.seed, out=ctx.figures, progress=True, device=device
    )
    probe["figure"] = "probe_embedding.png"
    seconds["3c_probe"] = round(time.perf_counter() - started, 2)
    return {
        "mode": mode,
        "shuffled_source": shuffled.source,
        "normal_source": normal.source,
        "n_train": int(len(shuffled.train.images)),
        "epochs": cfg.epochs,
        "arch": cfg.model.arch,
        "history": train["history"],
        "training_minutes": round(sum(h["seconds"] for h in train["history"]) / 60, 2),
        "evaluation": {k: v for k, v in ev.items() if k != "confusion_network"},
        "probe": probe,
        "seconds": seconds,
    }


def render(doc: Document, r: dict, ctx) -> None:
    doc.heading("Problem 3: learning to de-shuffle")
    if r["mode"] == "demo":
        doc.note(
            "**This section ran on the built-in demo.** `problem3.zip` was not given, so the "
            f"de-shuffling data are exam-format puzzles cut from {r['shuffled_source']} (train "
            "and test from different photographs), and the k-NN probe uses "
            f"{r['normal_source']}. Run `convlens report --problem3 problem3.zip` for the exam's "
            "data.",
            kind="missing",
        )
    doc.markdown(package_text("jigsaw.md"))
    doc.table(
        [
            {
                "epoch": h["epoch"],
                "train loss": h["train_loss"],
                "train accuracy": h["train_accuracy"],
                "validation image-level": h["val_accuracy"],
                "seconds": h["seconds"],
            }
            for h in r["history"]
        ],
        caption=f"(3b) training of {r['arch']} on {r['n_train']} images "
        f"({r['training_minutes']} min on this machine)",
    )
    ev = r["evaluation"]
    doc.table(
        [
            {
                "method": m,
                "image-level": a["image_accuracy"],
                "images right": a["image_correct"],
                "quarter-level": a["quarter_accuracy"],
                "quarters right": a["quarter_correct"],
                "n": a["n"],
            }
            for m, a in ev["methods"].items()
        ],
        caption=f"(3b) accuracy on {ev['n_test']} labelled test images "
        f"(seam temperature {ev['seam_temperature']:.3g} and weight {ev['seam_weight']:.3g}, "
        f"fitted on {ev['combination_fitted_on']})",
    )
    doc.discussion(discussion.deshuffle_3b(ev))
    if ev.get("tta", "").startswith("equals"):
        doc.note(
            "Test-time augmentation is not listed separately: EdgeNet scores an arrangement by "
            "its four seams, whatever order the input came in, so the 24 re-shuffled views give "
            "exactly the same scores (a test checks this)."
        )
    doc.figure(
        ctx.figures / ev["figure"],
        "(3b) shuffled test images, the network's "
        "restoration and the truth: correct examples first, then mistakes",
    )
    doc.markdown(package_text("probe.md"))
    p = r["probe"]
    doc.table(
        [
            {
                c: row[c]
                for c in ("features", "dim", "knn3", "correct", "n", "cosine_knn3", "linear")
            }
            for row in p["table"]
        ],
        caption=f"(3c) test accuracy of k-NN (k = 3, the exam's setting), cosine k-NN and a "
        f"linear probe; {p['n_train']} training and {p['n_test']} test images, "
        f"features from the layer '{p['layer']}'",
    )
    doc.discussion(discussion.probe_3c(p))
    doc.table(
        [{"features": n, **{f"k={k}": v for k, v in s.items()}} for n, s in p["sweep"].items()],
        caption="(3c) k-NN accuracy for several k",
    )
    doc.figure(ctx.figures / p["figure"], "(3c) PCA of the test features, coloured by class")
