"""Report section for Problem 3: de-shuffling and the k-NN probe, on the exam's problem3 data
when given, else on exam-format data built from real photographs."""

from __future__ import annotations

from pathlib import Path

from convlens import atomic
from convlens.demo.normal_data import digit_study_data
from convlens.demo.photo_probe import photo_study_data
from convlens.errors import ConvlensError
from convlens.figures.problem3 import draw_study
from convlens.fingerprint import fingerprint
from convlens.jigsaw.data import NpzData, load_npz
from convlens.jigsaw.model import shuffle_invariant
from convlens.jigsaw.recipes import recipe
from convlens.jigsaw.tiles import deshuffle
from convlens.probe.knn import LINEAR_MAX_DIM, LINEAR_PCA_POWER
from convlens.probe.results import RANDOM, RAW, TRAINED, Choice, Probe, ProbeRow
from convlens.problem3 import run_study
from convlens.problem3.budget import TrainingBudget, budget_dict, plan_budget, read_budget
from convlens.problem3.deshuffle import labelled_train
from convlens.problem3.results import NetworkResult, Problem3Results, Study
from convlens.report import discussion
from convlens.report.document import Document, package_text
from convlens.runtime import resolve_device


def settings(ctx) -> dict:
    return {
        "minutes": ctx.minutes,
        "problem3": str(ctx.problem3),
        "problem3_content": fingerprint(ctx.problem3),
        "problem2": str(ctx.problem2),
        # the demo's puzzles include the problem2 photographs when they are present
        "problem2_content": None if ctx.problem3 else fingerprint(ctx.problem2),
        "networks": list(ctx.networks),
    }


# What the report trains, per mode: the training set sizes of the demo (puzzles for training,
# puzzles for testing, probe crops per photograph for training and testing), and the epochs each
# network needs on that data to clear its bar (the exam's data: convlens.problem3.budget). The
# budget is their sum at the speed measured on this machine, or `--minutes` in all, shared by
# need. The quick report trains one epoch of each.
DEMO = {"full": (2000, 400, 30, 10), "quick": (300, 96, 8, 4)}
DEMO_NEEDED = {"edgenet": 2, "vgg11_bn": 30, "cfn": 30}
# The demo's probe whose classes are shapes: every network trained again, on puzzles cut from
# handwritten digits, for this part of the photo networks' budget (one epoch in the quick
# report, on fewer digits).
SHAPES_SHARE = 0.25
SHAPES_QUICK = (300, 96)
BUDGET_FILE = "budget.json"


def _demo_data(ctx) -> tuple[NpzData, NpzData]:
    folders = (
        [ctx.problem2 / "validation_images", ctx.problem2 / "test_images"]
        if (ctx.problem2 and ctx.problem2.is_dir())
        else []
    )
    n_train, n_test, per_train, per_test = DEMO["quick" if ctx.quick else "full"]
    return photo_study_data(folders, n_train, n_test, per_train, per_test, seed=ctx.seed)


RESULTS = Problem3Results  # what compute returns and the cache reads back


def _inputs(ctx) -> tuple[NpzData, NpzData, str, dict]:
    """The puzzles, the probe's labelled images, the mode and each network's recipe."""
    if ctx.problem3:
        shuffled = load_npz(ctx.problem3, "DataShuffled.npz", kind="orders")
        normal = load_npz(ctx.problem3, "DataNormal.npz", kind="classes")
        mode = "exam"
    else:
        shuffled, normal = _demo_data(ctx)
        mode = "demo"
    side = shuffled.train.images.shape[-1] if shuffled.train is not None else 96
    extra = {"epochs": 1} if ctx.quick else {}
    configs = {
        name: recipe(name, side, seed=ctx.seed, device=ctx.device, **extra) for name in ctx.networks
    }
    return shuffled, normal, mode, configs


def check(ctx) -> None:
    """Open and check the section's inputs before the report's first step: both files read and
    validated, with labelled puzzles to train on, test orders to evaluate and classes to probe."""
    if not ctx.problem3:
        return
    shuffled = load_npz(ctx.problem3, "DataShuffled.npz", kind="orders")
    normal = load_npz(ctx.problem3, "DataNormal.npz", kind="classes")
    labelled_train(shuffled)
    test = shuffled.test
    if test is None or test.labels is None or not test.known.any():
        raise ConvlensError(f"{shuffled.source}: needs test images 'c' with known orders 'd'")
    if any(p is None or p.labels is None for p in (normal.train, normal.test)):
        raise ConvlensError(f"{normal.source}: the probe needs a, b, c and d (images and classes)")


def _budget(ctx, runs: Path, shuffled: NpzData, configs: dict, needed: dict | None, minutes):
    """The study's shared budget, measured once and kept beside its runs, so that an
    interrupted report resumes every network with the same share (None in the quick report)."""
    if ctx.quick:
        return None
    path = runs / BUDGET_FILE
    if path.exists():
        return read_budget(path)
    images, orders = labelled_train(shuffled)
    originals = deshuffle(images[:256], orders[:256])  # enough for a few measured steps
    budget = plan_budget(originals, len(images), configs, minutes, needed)
    runs.mkdir(parents=True, exist_ok=True)
    atomic.write_json(path, budget_dict(budget))
    return budget


def _runs(ctx, key: str) -> Path:
    return ctx.out / "runs" / f"jigsaw-{key[:12]}"


# k-NN and its selection per pair of probe training and test images (seconds), measured on a
# 2-core CPU; the features are timed from each network's measured inference speed
KNN_SECONDS_PER_PAIR = 4e-6
CURVE_IMAGES = 600  # the feature curve after every epoch (convlens.probe.curve)


def estimate(ctx, key: str) -> dict[str, float]:
    """Seconds each part is expected to take on this machine: each network's share of the
    training budget (measured, then kept for compute), its evaluation and its probe."""
    shuffled, normal, mode, configs = _inputs(ctx)
    runs = _runs(ctx, key)
    needed = DEMO_NEEDED if mode == "demo" else None
    budget = _budget(ctx, runs, shuffled, configs, needed, ctx.minutes)
    seconds = _study_seconds(budget, configs, shuffled, normal, tta=True)
    if mode == "demo":
        digits, digit_normal, digit_configs, _, shapes = _shapes_inputs(ctx, key, budget)
        for part, sec in _study_seconds(
            shapes, digit_configs, digits, digit_normal, tta=False
        ).items():
            seconds[f"{part} (digits)"] = sec
    return seconds


def _study_seconds(budget, configs, shuffled: NpzData, normal: NpzData, tta: bool) -> dict:
    n_train = int(shuffled.train.known.sum())
    n_val = n_train * next(iter(configs.values())).val_fraction
    n_test = int(shuffled.test.known.sum()) if shuffled.test is not None else 0
    n_tr, n_te = len(normal.train.images), len(normal.test.images)
    seconds = {}
    for name, cfg in configs.items():
        need = budget.needs[name] if budget else None
        epochs = need.epochs if need else cfg.epochs
        per_image = need.inference_seconds_per_image if need else 0.0
        training = budget.planned_minutes(name) * 60 if budget else 0.0
        views = 1 if (not tta or shuffle_invariant(cfg.model)) else 25
        seconds[f"3a_training {name}"] = training + epochs * CURVE_IMAGES * per_image
        seconds[f"3b_evaluation {name}"] = (n_test * views + n_val) * per_image
        # features of every probe image through the trained network and two random twins
        seconds[f"3c_probe {name}"] = (
            3 * (n_tr + n_te) * per_image + KNN_SECONDS_PER_PAIR * n_tr * n_te
        )
    return seconds


def compute(ctx, key: str) -> Problem3Results:
    """`key` is the section's cache key: one run folder per data and settings, so an
    interrupted report resumes the training where its last checkpoint stopped, and other data
    never resume a run trained on something else."""
    shuffled, normal, mode, configs = _inputs(ctx)
    runs = _runs(ctx, key)
    needed = DEMO_NEEDED if mode == "demo" else None
    budget = _budget(ctx, runs, shuffled, configs, needed, ctx.minutes)
    study = draw_study(_study(ctx, shuffled, normal, configs, runs, budget=budget), ctx.figures)
    main = study.first
    shapes = _shapes_study(ctx, key, budget) if mode == "demo" else None
    return Problem3Results(
        mode=mode,
        shuffled_source=shuffled.source,
        normal_source=normal.source,
        n_train=int(len(shuffled.train.images)),
        epochs=configs[ctx.networks[0]].epochs,
        arch=ctx.networks[0],
        history=main.history,
        training_minutes=main.training_minutes,
        evaluation=main.evaluation,
        probe=main.probe,
        study=study,
        seconds={
            f"{step_} {name}{suffix}": sec
            for suffix, s in (("", study), (" (digits)", shapes))
            if s is not None
            for name, n in s.networks.items()
            for step_, sec in n.seconds.items()
        },
        shapes=shapes,
        budget=budget,
    )


def _shapes_inputs(ctx, key: str, photo_budget):
    """The digits study's puzzles, probe images, recipes, runs folder and budget (a part of the
    photo networks' budget)."""
    shuffled, normal = digit_study_data(limit=SHAPES_QUICK if ctx.quick else None, seed=ctx.seed)
    extra = {"epochs": 1} if ctx.quick else {}
    configs = {
        name: recipe(name, seed=ctx.seed, device=ctx.device, **extra) for name in ctx.networks
    }
    runs = ctx.out / "runs" / f"jigsaw-{key[:12]}-digits"
    minutes = None if photo_budget is None else SHAPES_SHARE * photo_budget.total_minutes
    budget = _budget(ctx, runs, shuffled, configs, DEMO_NEEDED, minutes)
    return shuffled, normal, configs, runs, budget


def _shapes_study(ctx, key: str, photo_budget) -> Study:
    """3c-3d again where the probe's classes are shapes: the same networks trained on digit
    puzzles and probed on the digits (test-time augmentation skipped: only the probe is new)."""
    shuffled, normal, configs, runs, budget = _shapes_inputs(ctx, key, photo_budget)
    return _study(
        ctx,
        shuffled,
        normal,
        configs,
        runs,
        step=lambda text: ctx.step(text.replace("problem3:", "problem3 (digits):")),
        tta=False,
        budget=budget,
    )


def _study(ctx, shuffled: NpzData, normal: NpzData, configs: dict, runs: Path, **kw) -> Study:
    """run_study with the report's settings; `runs` holds the networks' runs."""
    kw.setdefault("step", ctx.step)
    return run_study(
        shuffled,
        normal,
        runs,
        configs,
        k=3,
        seed=ctx.seed,
        device=resolve_device(ctx.device),
        **kw,
    )


def render(doc: Document, r: Problem3Results, ctx) -> None:
    doc.heading("Problem 3: learning to de-shuffle")
    if r.demo:
        doc.note(
            "**This section ran on the built-in demo.** `problem3.zip` was not given, so the "
            f"de-shuffling data are exam-format puzzles cut from {r.shuffled_source} (train "
            "and test from different photographs), and the k-NN probe uses "
            f"{r.normal_source}. Run `convlens report --problem3 problem3.zip` for the exam's "
            "data.",
            kind="missing",
        )
    doc.markdown(package_text("jigsaw.md"))
    doc.table(
        [
            {
                "epoch": h.epoch,
                "train loss": h.train_loss,
                "train accuracy": h.train_accuracy,
                "validation image-level": h.val_accuracy,
                "seconds": h.seconds,
            }
            for h in r.history
        ],
        caption=f"(3b) training of {r.arch} on {r.n_train} images "
        f"({r.training_minutes} min on this machine)",
    )
    ev = r.evaluation
    doc.table(
        [
            {
                "method": m,
                "image-level": a.image_accuracy,
                "images right": a.image_correct,
                "quarter-level": a.quarter_accuracy,
                "quarters right": a.quarter_correct,
                "n": a.n,
            }
            for m, a in ev.methods.items()
        ],
        caption=f"(3b) accuracy on {ev.n_test} labelled test images "
        f"(seam temperature {ev.seam_temperature:.3g} and weight {ev.seam_weight:.3g}, "
        f"fitted on {ev.combination_fitted_on})",
    )
    doc.discussion(discussion.deshuffle_3b(ev))
    if ev.tta.startswith("equals"):
        doc.note(
            "Test-time augmentation is not listed separately: this network scores an arrangement "
            "the same whatever order the input came in (EdgeNet by its four seams, the CFN from "
            "tiles seen alone), so the 24 re-shuffled views give exactly the same scores (a "
            "test checks this), and they are not computed."
        )
    doc.figure(
        ctx.figures / ev.figure,
        "(3b) shuffled test images, the network's "
        "restoration and the truth: correct examples first, then mistakes",
    )
    doc.markdown(package_text("probe.md"))
    p = r.probe
    doc.table(
        [
            {
                "features": row.features,
                "dim": row.dim,
                f"knn{row.k}": row.knn,
                "correct": row.correct,
                "n": row.n,
                f"cosine_knn{row.k}": row.cosine_knn,
                "linear": row.linear,
                "linear probe reads": row.linear_input,
            }
            for row in p.table
        ],
        caption=f"(3c) test accuracy of k-NN (k = {p.k}, the exam's setting), cosine k-NN and a "
        f"linear probe (standardised inputs, logistic regression; inputs wider than "
        f"{LINEAR_MAX_DIM} columns first through a randomized PCA fitted on the training "
        f"images only, {LINEAR_PCA_POWER} power iterations); {p.n_train} training and "
        f"{p.n_test} test images, "
        f"features from the layer '{p.layer}'",
    )
    doc.discussion(discussion.probe_3c(p))
    doc.table(
        [{"features": n, **{f"k={k}": v for k, v in s.items()}} for n, s in p.sweep.items()],
        caption="(3c) k-NN accuracy for several k",
    )
    if p.figure:
        doc.figure(ctx.figures / p.figure, "(3c) PCA of the test features, coloured by class")
    _render_study(doc, r.study, ctx, r.budget, r.mode)
    if r.shapes is not None:
        _render_shapes(doc, r.shapes, r.study)


def _render_shapes(doc: Document, shapes: Study, photos: Study) -> None:
    doc.markdown(package_text("shapes.md"))
    doc.table(
        [
            {
                "network": name,
                "epochs": len(n.history),
                "minutes": n.training_minutes,
                "stopped at": _stopped(n),
                "de-shuffling alone": n.alone,
            }
            for name, n in shapes.networks.items()
        ],
        caption="(3a-3b) the networks trained on digit puzzles: image-level accuracy alone on "
        "the test puzzles",
    )
    first = shapes.first.probe
    doc.table(
        _probe_rows(shapes.networks),
        caption=_probe_caption(first).replace("(3c)", "(3c, digits)", 1),
    )
    doc.discussion(discussion.shapes_3d(photos.networks, shapes.networks))


def _validation_words(mode: str) -> str:
    """What a run's validation images are: the demo knows each crop's photograph and holds out
    whole photographs; the exam's file says nothing of where its images came from, so its
    validation images are a random tenth of the file, which may share photographs with the
    images trained on and then reads higher than unseen photographs would."""
    if mode == "demo":
        return "validation images (photographs held out of training)"
    return "validation images (a random tenth of the training file, not held-out photographs)"


def _render_study(
    doc: Document, study: Study, ctx, budget: TrainingBudget | None, mode: str
) -> None:
    nets = study.networks
    doc.markdown(package_text("study.md"))
    doc.table(
        [
            {
                "network": name,
                "settings": n.settings,
                "epochs": len(n.history),
                "minutes": n.training_minutes,
                "stopped at": _stopped(n),
                **{
                    column: n.evaluation.method(m).image_accuracy
                    for column, m in (
                        ("alone", "network"),
                        ("with TTA", "network+tta"),
                        ("with seam score", "network+seam"),
                        ("seam score only", "seam"),
                    )
                },
                "quarter-level (alone)": n.evaluation.network.quarter_accuracy,
            }
            for name, n in nets.items()
        ],
        caption=f"(3a-3b) {len(nets)} network(s) on the same puzzles: image-level accuracy of each "
        "network alone, with test-time augmentation, fused with the seam score, and the seam "
        "score alone, on the same test images",
    )
    doc.discussion(discussion.networks_3b(nets, _validation_words(mode)))
    if study.learning_figure:
        doc.figure(
            ctx.figures / study.learning_figure,
            f"(3b) image-level accuracy on the {_validation_words(mode)} against training "
            "minutes, every network, with the exam's bar",
        )
    first = study.first
    doc.note(f"Trained on {first.cpu} in {first.precision}. " + _budget_text(nets, budget))
    if budget is not None:
        doc.table(
            [
                {
                    "network": name,
                    "planned (min)": n.needed_minutes,
                    "given (min)": n.budget_minutes,
                    "used (min)": n.training_minutes,
                    "handed on (min)": max(round(n.budget_minutes - n.training_minutes, 2), 0.0),
                    "epochs": len(n.history),
                    "stopped at": _stopped(n),
                }
                for name, n in nets.items()
            ],
            caption="(3a) how Problem 3's training minutes were spent: planned before training "
            "from each network's measured speed, given in turn from what the networks before "
            "it left, used, and handed on to the networks after it",
        )
    doc.table(_probe_rows(nets), caption=_probe_caption(first.probe))
    doc.discussion(discussion.study_3d(nets))
    if study.curve_figure:
        doc.figure(
            ctx.figures / study.curve_figure,
            f"(3c) the features during training: k-NN accuracy of the best block (standardised) "
            f"on a validation split of {study.curve_images} probe training images after every "
            "epoch, against training minutes; dashed: the same architecture with random weights",
        )
    doc.table(
        [
            {
                "features": c.network if c.network == RAW else f"{name}, {_weights(c.network)}",
                "block": c.block,
                "dim": c.dim,
                "standardised": "yes" if c.standardised else "no",
                "validation k-NN": c.val_knn,
                "test k-NN": c.test_knn,
                "chosen": "yes" if c.chosen else "",
            }
            for name, n in nets.items()
            for c in n.probe.layers or []
        ],
        caption="(3c) every candidate of the probe; the test column is shown for completeness "
        "and was never used to choose",
    )


def _weights(features: str) -> str:
    return "trained" if features == TRAINED else "random"


def _probe_rows(nets: dict[str, NetworkResult]) -> list[dict]:
    """Each network's chosen block, trained and random, then raw pixels."""
    rows = []
    for name, n in nets.items():
        d = (n.probe.differences or {}).get(RANDOM)
        for features in (TRAINED, RANDOM):
            c, t = n.probe.choices[features], n.probe.row(features)
            interval = f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]" if d else ""
            rows.append(
                _probe_row(name, _weights(features), c, t)
                | {"trained - random [95 %]": interval if features == TRAINED else ""}
            )
    raw = next(n.probe for n in nets.values() if n.probe.raw is not None)
    rows.append(_probe_row("raw pixels", "", raw.choices[RAW], raw.raw, block=""))
    return rows


def _probe_row(network: str, weights: str, c: Choice, t: ProbeRow, block=None) -> dict:
    return {
        "network": network,
        "weights": weights,
        "block": c.block if block is None else block,
        "standardised": "yes" if c.standardised else "no",
        "validation k-NN": c.val_knn,
        "test k-NN": t.knn,
        "cosine": t.cosine_knn,
        "linear": t.linear,
        "trained - random [95 %]": "",
    }


def _probe_caption(p: Probe) -> str:
    return (
        f"(3c) every network against its random twin and raw pixels: the block and "
        f"standardisation were chosen on a validation split of the {p.n_train} probe "
        f"training images, then k-NN (k = {p.k}) was fitted on all of them and tested on "
        f"{p.n_test} test images"
    )


def _budget_text(nets: dict[str, NetworkResult], budget: TrainingBudget | None) -> str:
    """What the budget was and, for each network that stopped at its share, how much its
    validation accuracy was still rising over its last two epochs (a measurement, not a guess
    about convergence)."""
    if budget is None:
        return "No time budget was set: each network trained its fixed number of epochs."
    origin = (
        "given with --minutes"
        if budget.given
        else "what the networks need at the speed measured on this machine before training"
    )
    text = f"Problem 3 had {budget.total_minutes:g} min of training ({origin}), shared by need."
    for name, n in nets.items():
        if n.stopped != "budget":
            continue
        vals = [h.val_accuracy for h in n.history]
        text += (
            f" {name} stopped at its share after {len(vals)} of at most {n.max_epochs} epochs"
            + (
                f"; its validation accuracy changed by {vals[-1] - vals[-3]:+.3f} over its "
                "last two epochs."
                if len(vals) >= 3
                else "."
            )
        )
    return text


def _stopped(n: NetworkResult) -> str:
    """Why a network's training ended, in words (budget, epochs, or perfect validation)."""
    if n.stopped == "budget":
        return f"budget ({n.budget_minutes:g} min, {n.planned_epochs} epochs planned)"
    if n.stopped == "perfect":
        return "perfect validation"
    return "all epochs"
