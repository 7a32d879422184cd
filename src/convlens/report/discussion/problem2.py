"""Problem 2's discussion (2b-2h): each sentence that states a result of the run is worded by
the verdicts of convlens.report.findings, and says nothing (or the opposite) where the numbers
do not support it."""

from __future__ import annotations

from convlens.probe.bootstrap import LEVEL
from convlens.problem2.answers import (
    ClassModels,
    Top5Row,
    Uncertainty,
    ValidationAccuracy,
)
from convlens.report.findings import (
    TIE,
    and_list,
    binomial_interval,
    compare,
    direction,
    leaders,
    percent,
    three,
)
from convlens.uncertainty.calibration import Calibration

# Below this top-1 probability the network itself rates its best guess more likely wrong than
# right: the one point where "read the top-5, not the top-1" follows from its own numbers.
EVEN_ODDS = 0.5


def accuracy_2b(v: ValidationAccuracy, network: str = "VGG16") -> str:
    missed = v.misclassified
    shown = ", ".join(missed[:5]) + (f" and {len(missed) - 5} more" if len(missed) > 5 else "")
    low, high = binomial_interval(v.top1_correct, v.n, LEVEL)
    who = network[0].upper() + network[1:]
    text = (
        f"{who} put the true class first for {v.top1_correct} of the {v.n} validation "
        f"images (top-1 accuracy {three(v.top1)}) and among its five most probable classes for "
        f"{v.top5_correct} (top-5 accuracy {three(v.top5)}). With {v.n} images, another draw "
        f"from the same source could move the top-1 accuracy within its {percent(LEVEL)} binomial "
        f"interval [{three(low)}, {three(high)}]; differences inside it are sampling noise."
    )
    if missed:
        text += f" Missed at top-1: {shown}."
    return text


def class_models_2c(cv: ClassModels) -> str:
    rows = cv.classes
    parts = [
        f"*{r.name}*: probability {three(r.prob_blur)} with blur, "
        f"{compare(r.prob_blur, r.prob_no_blur)} {three(r.prob_no_blur)} without"
        for r in rows
    ]
    text = "At the last step, " + "; ".join(parts) + ". " + _blur_confidence(cv)
    moved = [direction(r.hf_energy_blur, r.hf_energy_no_blur) for r in rows]
    lower, higher = moved.count(-1), moved.count(1)
    text += (
        f" The share of each image's energy in the upper half of its spatial frequencies "
        f"was lower with blur for {lower} of the {len(rows)} classes ("
        + "; ".join(
            f"*{r.name}* {three(r.hf_energy_blur)} vs {three(r.hf_energy_no_blur)}" for r in rows
        )
        + ")"
    )
    if lower == len(rows):
        return text + ": the blur removed high frequencies that the unblurred ascent builds up."
    if lower == 0:
        raised = f" and raised it for {higher}" if higher else ""
        return text + f": here the blur did not lower it for any class{raised}."
    return text + ": for the others it did not, so its effect on texture is not uniform here."


def _blur_confidence(cv: ClassModels) -> str:
    """Whether the network is as convinced by the blurred images as by the unblurred ones."""
    moved = [direction(r.prob_blur, r.prob_no_blur) for r in cv.classes]
    if all(m == 0 for m in moved):
        return (
            f"With a blur every {cv.blur_every} steps the network is as convinced as without "
            "for every class: the blur selected smoother images it rates as highly."
        )
    if all(m < 0 for m in moved):
        return (
            "The blur cost probability for every class: the network is less convinced by the "
            "smoother images than by the unblurred ones."
        )
    if all(m > 0 for m in moved):
        return "With blur the probability is higher for every class."
    return (
        f"With blur the probability is lower for {moved.count(-1)}, about the same for "
        f"{moved.count(0)} and higher for {moved.count(1)} of the {len(moved)} classes."
    )


def top5_2d(rows: list[Top5Row]) -> str:
    top1 = {r.image: r.top[0].prob for r in rows}
    by_image = {r.image: r for r in rows}
    if direction(max(top1.values()), min(top1.values())) == 0:
        text = (
            f"Every test image's top-1 probability is about the same "
            f"({three(min(top1.values()))} to {three(max(top1.values()))})."
        )
    else:
        sure = leaders(top1)
        unsure = leaders({image: -p for image, p in top1.items()})
        text = (
            f"The most certain prediction{_s(sure)}: {_named(sure, by_image)}; the least "
            f"certain: {_named(unsure, by_image)}."
        )
    unsure_images = [r for r in rows if r.top[0].prob < EVEN_ODDS]
    if unsure_images:
        text += (
            " For "
            + "; ".join(_runner_up(r) for r in unsure_images)
            + " the network gives its best guess less than even odds: there the top-5 list, "
            "not the single best guess, is the answer to read."
        )
    return text


def _runner_up(r: Top5Row) -> str:
    if len(r.top) < 2:
        return f"{r.image} ({three(r.top[0].prob)})"
    return f"{r.image} ({three(r.top[0].prob)}, runner-up *{r.top[1].name}* {three(r.top[1].prob)})"


def _s(names: list[str]) -> str:
    return "s" if len(names) > 1 else ""


def _named(images: list[str], rows: dict[str, Top5Row]) -> str:
    return "; ".join(
        f"*{rows[i].top[0].name}* for {i}, with probability {three(rows[i].top[0].prob)}"
        for i in images
    )


def mc_dropout_2h(u: Uncertainty, calibration: Calibration | None) -> str:
    mi = {r.image: r.mutual_information for r in u.images}
    flagged = leaders(mi)
    if len(flagged) == len(mi) and len(mi) > 1:
        text = (
            "No test image stands out: their mutual informations are all within "
            f"{TIE} nats of each other (at most {three(max(mi.values()))})."
        )
    else:
        text = (
            f"The MC spread flags {and_list(flagged)}: mutual information "
            + ", ".join(three(mi[i]) for i in flagged)
            + f" nats, the largest of the test images{' (tied)' if len(flagged) > 1 else ''}, "
            "so the sampled networks disagree most there."
        )
    changed = [r.image for r in u.images if r.top[0].name != r.deterministic_top1.name]
    if changed:
        text += f" MC dropout changed the top-1 class of {', '.join(changed)}."
    else:
        text += " MC dropout changed no top-1 class: the mean of the samples and the dropout-off "
        text += "network agree on every test image."
    if calibration is not None:
        text += " " + _calibration(calibration)
    return text


def _calibration(c: Calibration) -> str:
    d, m = c.deterministic, c.mc_dropout
    ece = {1: "better calibrated", -1: "worse calibrated", 0: "about as well calibrated"}
    nll = {1: "lower", -1: "higher", 0: "about the same"}
    return (
        f"On {c.n} labelled images, MC dropout's calibration error (ECE) was {three(m.ece)} "
        f"against {three(d.ece)} with dropout off: {ece[direction(d.ece, m.ece)]}; its "
        f"negative log-likelihood was {nll[direction(d.nll, m.nll)]} ({three(m.nll)} against "
        f"{three(d.nll)})."
    )
