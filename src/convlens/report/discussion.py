"""The report's discussion of the numbers in front of the reader, built from results.json.

Each function takes one section's results and returns Markdown sentences whose wording follows
the outcome ("better than" or "worse than"); every number it prints is a number of the results
(a test checks both). Fixed background text lives in report/text/; this is the part that
changes when the results change."""

from __future__ import annotations

from convlens.explain.quality import ExplanationQuality
from convlens.jigsaw.results import Evaluation, minutes
from convlens.probe.results import RANDOM, SECOND_TWIN, Difference, Probe, beyond_noise
from convlens.problem2.results import ClassModels, Top5Row, Uncertainty, ValidationAccuracy
from convlens.problem3.results import NetworkResult
from convlens.uncertainty.report import Calibration


def _f(x: float) -> str:
    return f"{x:.3f}"


def _compare(a: float, b: float, tol: float = 0.005) -> str:
    if a > b + tol:
        return "higher than"
    if a < b - tol:
        return "lower than"
    return "about the same as"


def accuracy_2b(v: ValidationAccuracy) -> str:
    missed = v.misclassified
    shown = ", ".join(missed[:5]) + (f" and {len(missed) - 5} more" if len(missed) > 5 else "")
    text = (
        f"VGG16 put the true class first for {v.top1_correct} of the {v.n} validation "
        f"images (top-1 accuracy {_f(v.top1)}) and among its five most probable classes for "
        f"{v.top5_correct} (top-5 accuracy {_f(v.top5)})."
    )
    if missed:
        text += f" Missed at top-1: {shown}."
    return text


def class_models_2c(cv: ClassModels) -> str:
    rows = cv.classes
    parts = []
    for r in rows:
        verb = _compare(r.prob_blur, r.prob_no_blur)
        parts.append(
            f"*{r.name}*: probability {_f(r.prob_blur)} with blur, {verb} "
            f"{_f(r.prob_no_blur)} without"
        )
    text = "At the last step, " + "; ".join(parts) + "."
    lower = sum(r.hf_energy_blur < r.hf_energy_no_blur for r in rows)
    text += (
        f" The share of each image's energy in the upper half of its spatial frequencies "
        f"was lower with blur for {lower} of the {len(rows)} classes ("
        + "; ".join(f"*{r.name}* {_f(r.hf_energy_blur)} vs {_f(r.hf_energy_no_blur)}" for r in rows)
        + ")"
    )
    if lower == len(rows):
        text += ": blurring removes the high-frequency patterns the unblurred ascent builds up."
    elif lower == 0:
        text += ": here the blur did not lower it for any class."
    else:
        text += (
            ": for the others the unblurred ascent itself ended no rougher, so the blur's "
            "effect on texture is not uniform here."
        )
    return text


def top5_2d(rows: list[Top5Row]) -> str:
    top1 = [r.top[0].prob for r in rows]
    sure = rows[max(range(len(rows)), key=top1.__getitem__)]
    unsure = rows[min(range(len(rows)), key=top1.__getitem__)]
    text = (
        f"The most certain prediction is *{sure.top[0].name}* for {sure.image}, with "
        f"probability {_f(sure.top[0].prob)}; the least certain is "
        f"*{unsure.top[0].name}* for {unsure.image}, with {_f(unsure.top[0].prob)}"
    )
    if len(unsure.top) > 1:
        second = unsure.top[1]
        text += (
            f", where the runner-up *{second.name}* has {_f(second.prob)}: for such an image "
            "the top-5 list, not the single best guess, is the honest answer"
        )
    return text + "."


def maps_2ef(q: ExplanationQuality) -> str:
    rows = {r.method: r for r in q.deletion_insertion}
    rnd = rows.get("random map")
    parts = []
    for name in ("saliency", "guided backprop"):
        r = rows.get(name)
        if r is None or rnd is None:
            continue
        faster = "faster" if r.deletion_auc < rnd.deletion_auc else "slower"
        parts.append(
            f"deleting pixels in {name} order lowered the target probability {faster} than in "
            f"random order (deletion area {_f(r.deletion_auc)} vs {_f(rnd.deletion_auc)})"
        )
    text = ("Over the test images, " + "; ".join(parts) + ".") if parts else ""
    if q.randomisation:
        last = q.randomisation[-1]
        text += (
            f" With the top {len(q.randomisation)} weighted layers re-initialised, the rank "
            f"correlation with the trained model's maps fell to {_f(last.saliency)} for "
            f"saliency and {_f(last.guided_backprop)} for guided backpropagation"
        )
        if last.guided_backprop > max(0.5, last.saliency):
            text += (
                ": guided backpropagation barely depends on the weights it explains, as Adebayo "
                "et al. found, while saliency does."
            )
        elif last.guided_backprop > last.saliency:
            text += ": both maps follow the weights, guided backpropagation less than saliency."
        else:
            text += ": both maps follow the weights they explain."
    return text.strip()


def mc_dropout_2h(u: Uncertainty, calibration: Calibration | None) -> str:
    flag = max(u.images, key=lambda r: r.mutual_information)
    changed = [r.image for r in u.images if r.top[0].name != r.deterministic_top1.name]
    text = (
        f"The MC spread flags {flag.image}: its mutual information "
        f"{_f(flag.mutual_information)} nats is the largest of the test images, so the "
        "sampled networks disagree most there."
    )
    if changed:
        text += f" MC dropout changed the top-1 class of {', '.join(changed)}."
    else:
        text += " MC dropout changed no top-1 class: the mean of the samples and the dropout-off "
        text += "network agree on every test image."
    if calibration is not None:
        d, m = calibration.deterministic, calibration.mc_dropout
        better = "better" if m.ece < d.ece else "worse"
        text += (
            f" On {calibration.n} labelled images, MC dropout's calibration error (ECE) was "
            f"{_f(m.ece)} against {_f(d.ece)} with dropout off: {better} calibrated, and "
            f"its negative log-likelihood {_f(m.nll)} against {_f(d.nll)}."
        )
    return text


def deshuffle_3b(ev: Evaluation) -> str:
    methods = ev.methods
    order = sorted(methods, key=lambda m: -methods[m].image_accuracy)
    listed = "; ".join(f"{m} {_f(methods[m].image_accuracy)}" for m in order)
    best = methods[order[0]]
    bar = "clears" if best.image_accuracy >= 0.6 else "does not reach"
    text = (
        f"Image-level accuracy on {ev.n_test} test images: {listed}. The highest, {order[0]}, "
        f"{bar} the exam's bar of 0.60."
    )
    moved = ev.misplaced or {}
    if any(moved.values()):
        text += (
            f" Of the network's wrong orders, {moved['2']} swap two tiles and leave two in "
            f"place, {moved['3']} misplace three and {moved['4']} all four; its quarter-level "
            f"accuracy is {_f(ev.network.quarter_accuracy)}."
        )
    return text


def probe_3c(p: Probe) -> str:
    raw, net, rnd = p.raw, p.trained, p.random
    if raw is None:
        return ""
    k = p.k
    ranking = sorted(p.table, key=lambda r: -r.knn)
    text = (
        f"With k-NN (k = {k}) the order is "
        + " > ".join(f"{r.features} ({_f(r.knn)})" for r in ranking)
        + "."
    )
    verdict = _compare(net.knn, rnd.knn)
    text += (
        f" The trained network's features are {verdict} the same architecture with random "
        f"weights ({_f(net.knn)} vs {_f(rnd.knn)})"
    )
    diff = (p.differences or {}).get(RANDOM)
    judged = beyond_noise(p.differences or {}) if p.differences else None
    if diff is not None:
        text += (
            f"; the difference {diff.difference:+.3f} has the paired bootstrap interval "
            f"[{diff.low:+.3f}, {diff.high:+.3f}] over the test images"
        )
    if judged == 1 or (judged is None and net.knn > rnd.knn + 0.005):
        text += ", so de-shuffling taught the network something the probe can use"
    elif judged == 0 and net.knn > rnd.knn + 0.005:
        text += (
            ", within the noise of which test images were drawn (or against one random twin "
            "only): this probe does not show that de-shuffling taught the network more than "
            "random weights give"
        )
    else:
        text += (
            ": solving the puzzles did not make the features better for telling these classes "
            "apart. The pretext task can be solved from low-level cues along the seams (edge "
            "continuity, colour), which need not be the cues that separate classes, and a "
            "random convolutional network already gives features that preserve local structure"
        )
    text += (
        f". Cosine k-NN gives {_f(net.cosine_knn)} for the trained network and "
        f"{_f(rnd.cosine_knn)} for the random one; the linear probe "
        f"{_f(net.linear)} and {_f(rnd.linear)}."
    )
    if raw.knn >= max(net.knn, rnd.knn):
        text += (
            f" Raw pixels ({_f(raw.knn)}) beat both networks here: on these images the distance "
            "between pixels is already a better class signal than either network's features."
        )
    return text


def networks_3b(nets: dict[str, NetworkResult], validation: str = "validation images") -> str:
    """The de-shuffling networks against each other and the exam's bar; `validation` names
    what the validation images are (held-out photographs, or a random part of the file)."""
    acc = {n: v.alone for n, v in nets.items()}
    order = sorted(acc, key=lambda n: -acc[n])
    listed = ", ".join(f"{n} {_f(acc[n])} after {nets[n].training_minutes} min" for n in order)
    cleared = [n for n in order if acc[n] >= 0.6]
    text = f"Image-level accuracy of each network alone: {listed}. "
    if cleared:
        text += f"{' and '.join(cleared)} clear{'s' if len(cleared) == 1 else ''} the exam's 0.60"
    else:
        text += "None clears the exam's 0.60 with these settings"
    short = [n for n in order if acc[n] < 0.6]
    if short:
        text += f"; {', '.join(short)} {'does' if len(short) == 1 else 'do'} not"
    text += "."
    reached = []
    for n in order:
        history = nets[n].history
        for h, minute in zip(history, minutes(history), strict=True):
            if h.val_accuracy >= 0.6:
                reached.append(f"{n} after {minute:.1f} min (epoch {h.epoch})")
                break
    if reached:
        text += f" On the {validation} the bar was first reached by {'; '.join(reached)}."
    if "edgenet" in acc and "cfn" in acc and acc["edgenet"] > acc["cfn"] + 0.005:
        text += (
            f" EdgeNet, which only ever looks at the strips along the seams, is ahead of the "
            f"context-free network ({_f(acc['edgenet'])} vs {_f(acc['cfn'])}): how edges "
            "continue across a seam is the strongest cue for this puzzle, and the CFN is built "
            "not to see it."
        )
    return text


def study_3d(nets: dict[str, NetworkResult]) -> str:
    """Which pretext setting, if any, beats its random twin on the probe, and why."""
    gaps = {name: (n.probe.trained.knn, n.probe.random.knn) for name, n in nets.items()}
    diff = {n: a - b for n, (a, b) in gaps.items()}
    closest = max(diff, key=diff.get)
    listed = "; ".join(
        f"{n} {_f(a)} vs {_f(b)} ({_compare(a, b)} random)" for n, (a, b) in gaps.items()
    )
    text = f"Test k-NN of each trained network against its random twin: {listed}. "
    tested = {n: v.probe.differences for n, v in nets.items() if v.probe.differences}
    if tested:
        return text + _noise_3d(tested) + _held_back(diff)
    winners = [n for n in diff if diff[n] >= 0.03]
    if winners:
        text += (
            f"{' and '.join(winners)} beat{'s' if len(winners) == 1 else ''} random features by "
            "at least 3 points: solving the puzzles taught features that the probe can use. "
        )
    elif diff[closest] > 0.005:
        text += (
            f"{closest} comes closest, ahead of its random twin by less than 3 points: a "
            "small gain, within what another seed or split could change. "
        )
    else:
        text += f"No trained network beats its random twin; {closest} comes closest. "
    return text + _held_back(diff)


def _noise_3d(tested: dict[str, dict[str, Difference]]) -> str:
    """Which trained-minus-random differences are larger than their noise: the paired bootstrap
    interval over the test images excludes zero against both random twins."""
    parts, real_gain, real_loss = [], [], []
    for name, d in tested.items():
        a, b = d[RANDOM], d[SECOND_TWIN]
        parts.append(
            f"{name} {a.difference:+.3f} [{a.low:+.3f}, {a.high:+.3f}] against its "
            f"twin and {b.difference:+.3f} [{b.low:+.3f}, {b.high:+.3f}] against a "
            "second one"
        )
        verdict = beyond_noise(d)
        if verdict:
            (real_gain if verdict > 0 else real_loss).append(name)
    text = (
        "Trained minus random, with 95 % paired bootstrap intervals over the test images: "
        + "; ".join(parts)
        + ". Each interval resamples the test images only; the second twin, another random "
        "initialisation, shows how far the initialisation moves the difference. Neither covers "
        "which images carry the probe's labels, a draw that matters when a class has few. "
    )
    if real_gain:
        text += (
            f"For {' and '.join(real_gain)} the gain is larger than its noise against both "
            "twins: solving the puzzles taught features the probe can use. "
        )
    if real_loss:
        text += f"For {' and '.join(real_loss)} the trained features are really worse. "
    rest = [n for n in tested if n not in real_gain + real_loss]
    if rest:
        text += (
            f"For {', '.join(rest)} the difference is within its noise: another test set or "
            "another random initialisation could reverse it. "
        )
    return text


def _held_back(diff: dict) -> str:
    text = ""
    edge = diff.get("edgenet")
    if edge is not None and edge <= 0.005:
        text += (
            "EdgeNet solves the puzzles from the seams alone, so its trunk learns how strips "
            "continue, not what objects look like. "
        )
    if any(d <= 0.005 for name, d in diff.items() if name != "edgenet"):
        text += (
            "Two things can hold the others back here: the compute budget is minutes on a CPU "
            "where published jigsaw features took days on GPUs, and a random convolutional "
            "network with pooling is already a strong texture descriptor for a k-NN."
        )
    return text


def shapes_3d(photos: dict[str, NetworkResult], shapes: dict[str, NetworkResult]) -> str:
    """The probe whose classes are shapes beside the photo probe: which gains are real on each."""
    solved = ", ".join(f"{name} {_f(n.alone)}" for name, n in shapes.items())
    text = f"On the digit puzzles the networks alone de-shuffle {solved} of the test images. "
    tested = {n: v.probe.differences for n, v in shapes.items() if v.probe.differences}
    if tested:
        text += _noise_3d(tested)
    both = [name for name in shapes if name in photos]
    if both:
        text += "Trained minus random on the digits against the photographs: " + "; ".join(
            f"{name} {_gain(shapes[name]):+.3f} against {_gain(photos[name]):+.3f}" for name in both
        )
        text += ". "
    large = [
        name
        for name, n in shapes.items()
        if _gain(n) >= 0.05 and (n.probe.differences or {}).get(RANDOM, _UNTESTED).real
    ]
    if large:
        text += (
            f"{' and '.join(large)} gain{'s' if len(large) == 1 else ''} at least 5 k-NN points "
            "on the digits, outside the interval: where the classes are shapes, what the "
            "puzzles taught is what the probe needs."
        )
    else:
        text += (
            "No network gains 5 k-NN points on the digits outside its interval: in this budget "
            "the puzzles teach little that a random network's pooled blocks do not already give."
        )
    return text


_UNTESTED = Difference(0.0, 0.0, 0.0, False)


def _gain(n: NetworkResult) -> float:
    return n.probe.trained.knn - n.probe.random.knn
