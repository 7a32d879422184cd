"""Problem 3's discussion (3b-3d): each sentence that states a result of the run is worded by
the verdicts of convlens.report.findings (the tie, and the paired intervals where measured);
every sentence about a network's features reads that network's one `gain` verdict."""

from __future__ import annotations

from convlens.jigsaw.networks.catalogue import EXAM_BAR
from convlens.jigsaw.run_records import Evaluation, minutes
from convlens.probe.bootstrap import LEVEL
from convlens.probe.probe_records import RANDOM, SECOND_TWIN, Difference, Probe, beyond_noise
from convlens.problem3.study_records import NetworkResult
from convlens.report.findings import (
    TIE,
    and_list,
    compare,
    direction,
    gain,
    leaders,
    percent,
    ranking,
    three,
)


def deshuffle_3b(ev: Evaluation) -> str:
    accuracy = {m: a.image_accuracy for m, a in ev.methods.items()}
    best = leaders(accuracy)
    text = f"Image-level accuracy on {ev.n_test} test images: {ranking(accuracy)}. "
    text += f"The highest{' (tied)' if len(best) > 1 else ''}: " + "; ".join(
        f"{m} {'clears' if accuracy[m] >= EXAM_BAR else 'does not reach'}" for m in best
    )
    text += f" the exam's bar of {EXAM_BAR:.2f}."
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
    text = (
        f"With k-NN (k = {p.k}) the order is "
        + ranking({r.features: r.knn for r in p.table})
        + f". The trained network's features are {_against_random(p)} the same "
        f"architecture with random weights ({three(net.knn)} vs {three(rnd.knn)})"
    )
    diff = (p.differences or {}).get(RANDOM)
    if diff is not None:
        text += (
            f"; the difference {diff.difference:+.3f} has the paired bootstrap interval "
            f"[{diff.low:+.3f}, {diff.high:+.3f}] over the test images"
        )
    g = gain(p)
    if g.verdict > 0 and g.tested:
        text += (
            ", outside the noise against every random twin, so de-shuffling taught the network "
            "something the probe can use"
        )
    elif g.verdict > 0:
        text += (
            ", with no interval measured: this probe alone does not show that the lead is more "
            "than which test images were drawn"
        )
    elif g.tested and g.difference > TIE and g.verdict == 0:
        text += (
            ", within the noise of which test images were drawn (or beyond it against one "
            "random twin only): this probe does not show that de-shuffling taught the network "
            "more than random weights give"
        )
    elif g.verdict < 0:
        text += ": solving the puzzles made the features worse for telling these classes apart"
    else:
        text += ": this probe shows no gain from solving the puzzles"
    text += (
        f". Cosine k-NN gives {three(net.cosine_knn)} for the trained network and "
        f"{three(rnd.cosine_knn)} for the random one; the linear probe "
        f"{three(net.linear)} and {three(rnd.linear)}."
    )
    if direction(raw.knn, net.knn) > 0 and direction(raw.knn, rnd.knn) > 0:
        text += (
            f" Raw pixels ({three(raw.knn)}) beat both networks here: on these images the "
            "distance between pixels is a better class signal than either network's features."
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
        text += f"{and_list(cleared)} {verb} the exam's {EXAM_BAR:.2f}"
    else:
        text += f"None clears the exam's {EXAM_BAR:.2f} with these settings"
    short = [n for n in order if acc[n] < EXAM_BAR]
    if short and cleared:
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
    if "edgenet" in acc and "cfn" in acc:
        text += _seams_against_context(nets["edgenet"], nets["cfn"])
    return text


def _seams_against_context(edge: NetworkResult, cfn: NetworkResult) -> str:
    """EdgeNet (reads the seams) against the CFN (built not to see them): a hypothesis about the
    cue, worded as one, since the difference has no interval and the minutes differ."""
    ahead = direction(edge.alone, cfn.alone)
    if ahead == 0:
        return (
            f" EdgeNet and the context-free network tie ({three(edge.alone)} vs "
            f"{three(cfn.alone)}): this run does not tell whether the seams or the tiles' "
            "content is the stronger cue."
        )
    net = {"edgenet": edge, "cfn": cfn}
    label = {"edgenet": "EdgeNet", "cfn": "the context-free network"}
    lead, behind = ("edgenet", "cfn") if ahead > 0 else ("cfn", "edgenet")
    first, second = net[lead], net[behind]
    text = (
        f" {label[lead][0].upper() + label[lead][1:]} is ahead of {label[behind]} "
        f"({three(first.alone)} vs {three(second.alone)}, after {first.training_minutes} and "
        f"{second.training_minutes} min)"
    )
    minutes = (
        ", and trained for different minutes"
        if edge.training_minutes != cfn.training_minutes
        else ""
    )
    if ahead > 0:
        return text + (
            ": consistent with continuity across a seam being the stronger cue for this puzzle "
            "(the CFN is built not to see it), a hypothesis this comparison does not isolate, "
            f"since the networks differ in more than what they see{minutes}."
        )
    return text + ": here the tiles' content carried the puzzle better than the seams did."


def study_3d(nets: dict[str, NetworkResult]) -> str:
    """Each network's features against its random twin(s), one verdict per network."""
    listed = "; ".join(
        f"{name} {three(n.probe.trained.knn)} vs {three(n.probe.random.knn)} "
        f"({_against_random(n.probe)} random)"
        for name, n in nets.items()
    )
    text = f"Test k-NN of each trained network against its random twin: {listed}. "
    tested = {n: v.probe.differences for n, v in nets.items() if v.probe.differences}
    if tested:
        text += _noise_3d(tested)
    untested = [n for n in nets if n not in tested]
    if untested:
        text += _untested(untested, nets)
    return text + _held_back(nets)


def _against_random(p: Probe) -> str:
    """The trained features against the random twin, in words: by the interval where one was
    measured (the verdict of both twins), else by the tie."""
    g = gain(p)
    if not g.tested:
        return compare(p.trained.knn, p.random.knn)
    return {1: "better than", -1: "worse than", 0: "within the noise of"}[g.verdict]


def _untested(names: list[str], nets: dict[str, NetworkResult]) -> str:
    ahead = [n for n in names if gain(nets[n].probe).verdict > 0]
    if not ahead:
        return f"No trained network among {and_list(names)} is ahead of its random twin. "
    return (
        f"{and_list(ahead)} {'is' if len(ahead) == 1 else 'are'} ahead of the random twin, but "
        "no interval was measured, so this run does not show the lead to be more than noise. "
    )


def _noise_3d(tested: dict[str, dict[str, Difference]]) -> str:
    """Which trained-minus-random differences are larger than their noise: the paired bootstrap
    interval over the test images excludes zero against both random twins."""
    parts, verdicts = [], {}
    for name, d in tested.items():
        a, b = d[RANDOM], d[SECOND_TWIN]
        parts.append(
            f"{name} {a.difference:+.3f} [{a.low:+.3f}, {a.high:+.3f}] against its "
            f"twin and {b.difference:+.3f} [{b.low:+.3f}, {b.high:+.3f}] against a "
            "second one"
        )
        verdicts[name] = beyond_noise(d)
    text = (
        f"Trained minus random, with {percent(LEVEL)} paired bootstrap intervals over the test "
        "images: " + "; ".join(parts) + ". Each interval resamples the test images only; the "
        "second twin, another random initialisation whose block is chosen on its own "
        "validation split, shows how far the initialisation moves the difference. Neither "
        "covers which images carry the probe's labels, a draw that matters when a class has "
        "few. "
    )
    real_gain = [n for n, v in verdicts.items() if v > 0]
    real_loss = [n for n, v in verdicts.items() if v < 0]
    rest = [n for n, v in verdicts.items() if v == 0]
    if real_gain:
        text += (
            f"For {and_list(real_gain)} the gain is larger than its noise against both "
            "twins: solving the puzzles taught features the probe can use. "
        )
    if real_loss:
        text += f"For {and_list(real_loss)} the trained features are really worse. "
    if rest:
        text += (
            f"For {and_list(rest)} the difference is within its noise against at least one "
            "twin: another test set or another random initialisation could reverse it. "
        )
    return text


def _held_back(nets: dict[str, NetworkResult]) -> str:
    """Hypotheses, worded as such, for networks whose features show no gain."""
    no_gain = [n for n, v in nets.items() if gain(v.probe).verdict <= 0]
    text = ""
    if "edgenet" in no_gain:
        text += (
            "EdgeNet's trunk only ever sees the strips along the seams, which may be why its "
            "features carry little of what separates the classes (a hypothesis this run does "
            "not test). "
        )
    others = [n for n in no_gain if n != "edgenet"]
    if others:
        longest = max(nets[n].training_minutes for n in nets)
        machine = next(iter(nets.values())).machine
        text += (
            f"For {and_list(others)}, two explanations this run does not test: no network "
            f"trained for more than {longest} min (on {machine}), where published jigsaw "
            "features were trained for days on GPUs (Noroozi & Favaro 2016); and a random "
            "convolutional network with pooling can already be a strong texture descriptor "
            "for a k-NN."
        )
    return text


def shapes_3d(photos: dict[str, NetworkResult], shapes: dict[str, NetworkResult]) -> str:
    """The probe whose classes are shapes beside the photo probe: one verdict per network."""
    solved = ", ".join(f"{name} {three(n.alone)}" for name, n in shapes.items())
    text = f"On the digit puzzles the networks alone de-shuffle {solved} of the test images. "
    tested = {n: v.probe.differences for n, v in shapes.items() if v.probe.differences}
    if tested:
        text += _noise_3d(tested)
    untested = [n for n in shapes if n not in tested]
    if untested:
        text += _untested(untested, shapes)
    both = [name for name in shapes if name in photos]
    if both:
        text += "Trained minus random on the digits against the photographs: " + "; ".join(
            f"{name} {gain(shapes[name].probe).difference:+.3f} against "
            f"{gain(photos[name].probe).difference:+.3f}"
            for name in both
        )
        text += ". "
    real = [n for n, v in shapes.items() if gain(v.probe).tested and gain(v.probe).verdict > 0]
    if real:
        text += (
            f"Where the classes are shapes, what the puzzles taught {and_list(real)} is "
            "something the probe can use."
        )
    else:
        text += "No network's digit features beat every random twin outside the noise."
    return text.strip()
