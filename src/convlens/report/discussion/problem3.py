"""Problem 3's discussion (3b-3d): sentences whose wording follows the numbers and their
intervals."""

from __future__ import annotations

from convlens.jigsaw.run_records import Evaluation, minutes
from convlens.jigsaw.training.recipes import EXAM_BAR
from convlens.probe.probe_records import RANDOM, SECOND_TWIN, Difference, Probe, beyond_noise
from convlens.problem3.study_records import NetworkResult
from convlens.report.wording import TIE, compare, three


def deshuffle_3b(ev: Evaluation) -> str:
    methods = ev.methods
    order = sorted(methods, key=lambda m: -methods[m].image_accuracy)
    listed = "; ".join(f"{m} {three(methods[m].image_accuracy)}" for m in order)
    best = methods[order[0]]
    bar = "clears" if best.image_accuracy >= EXAM_BAR else "does not reach"
    text = (
        f"Image-level accuracy on {ev.n_test} test images: {listed}. The highest, {order[0]}, "
        f"{bar} the exam's bar of {EXAM_BAR:.2f}."
    )
    moved = ev.misplaced or {}
    if any(moved.values()):
        text += (
            f" Of the network's wrong orders, {moved['2']} swap two tiles and leave two in "
            f"place, {moved['3']} misplace three and {moved['4']} all four; its quarter-level "
            f"accuracy is {three(ev.network.quarter_accuracy)}."
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
        + " > ".join(f"{r.features} ({three(r.knn)})" for r in ranking)
        + "."
    )
    verdict = compare(net.knn, rnd.knn)
    text += (
        f" The trained network's features are {verdict} the same architecture with random "
        f"weights ({three(net.knn)} vs {three(rnd.knn)})"
    )
    diff = (p.differences or {}).get(RANDOM)
    judged = beyond_noise(p.differences or {}) if p.differences else None
    if diff is not None:
        text += (
            f"; the difference {diff.difference:+.3f} has the paired bootstrap interval "
            f"[{diff.low:+.3f}, {diff.high:+.3f}] over the test images"
        )
    if judged == 1 or (judged is None and net.knn > rnd.knn + TIE):
        text += ", so de-shuffling taught the network something the probe can use"
    elif judged == 0 and net.knn > rnd.knn + TIE:
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
        f". Cosine k-NN gives {three(net.cosine_knn)} for the trained network and "
        f"{three(rnd.cosine_knn)} for the random one; the linear probe "
        f"{three(net.linear)} and {three(rnd.linear)}."
    )
    if raw.knn >= max(net.knn, rnd.knn):
        text += (
            f" Raw pixels ({three(raw.knn)}) beat both networks here: on these images the distance "
            "between pixels is already a better class signal than either network's features."
        )
    return text


def networks_3b(nets: dict[str, NetworkResult], validation: str = "validation images") -> str:
    """The de-shuffling networks against each other and the exam's bar; `validation` names
    what the validation images are (held-out photographs, or a random part of the file)."""
    acc = {n: v.alone for n, v in nets.items()}
    order = sorted(acc, key=lambda n: -acc[n])
    listed = ", ".join(f"{n} {three(acc[n])} after {nets[n].training_minutes} min" for n in order)
    cleared = [n for n in order if acc[n] >= EXAM_BAR]
    text = f"Image-level accuracy of each network alone: {listed}. "
    if cleared:
        verb = "clears" if len(cleared) == 1 else "clear"
        text += f"{' and '.join(cleared)} {verb} the exam's {EXAM_BAR:.2f}"
    else:
        text += f"None clears the exam's {EXAM_BAR:.2f} with these settings"
    short = [n for n in order if acc[n] < EXAM_BAR]
    if short:
        text += f"; {', '.join(short)} {'does' if len(short) == 1 else 'do'} not"
    text += "."
    reached = []
    for n in order:
        history = nets[n].history
        for h, minute in zip(history, minutes(history), strict=True):
            if h.val_accuracy >= EXAM_BAR:
                reached.append(f"{n} after {minute:.1f} min (epoch {h.epoch})")
                break
    if reached:
        text += f" On the {validation} the bar was first reached by {'; '.join(reached)}."
    if "edgenet" in acc and "cfn" in acc and acc["edgenet"] > acc["cfn"] + TIE:
        text += (
            f" EdgeNet, which only ever looks at the strips along the seams, is ahead of the "
            f"context-free network ({three(acc['edgenet'])} vs {three(acc['cfn'])}): how edges "
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
        f"{n} {three(a)} vs {three(b)} ({compare(a, b)} random)" for n, (a, b) in gaps.items()
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
    elif diff[closest] > TIE:
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
        "initialisation whose block is chosen on its own validation split, shows how far the "
        "initialisation moves the difference. Neither covers "
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
    if edge is not None and edge <= TIE:
        text += (
            "EdgeNet solves the puzzles from the seams alone, so its trunk learns how strips "
            "continue, not what objects look like. "
        )
    if any(d <= TIE for name, d in diff.items() if name != "edgenet"):
        text += (
            "Two things can hold the others back here: the compute budget is minutes on a CPU "
            "where published jigsaw features took days on GPUs, and a random convolutional "
            "network with pooling is already a strong texture descriptor for a k-NN."
        )
    return text


def shapes_3d(photos: dict[str, NetworkResult], shapes: dict[str, NetworkResult]) -> str:
    """The probe whose classes are shapes beside the photo probe: which gains are real on each."""
    solved = ", ".join(f"{name} {three(n.alone)}" for name, n in shapes.items())
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
