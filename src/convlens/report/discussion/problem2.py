"""Problem 2's discussion (2b-2h): sentences whose wording follows the numbers."""

from __future__ import annotations

from convlens.explain.quality import ExplanationQuality
from convlens.problem2.answers import ClassModels, Top5Row, Uncertainty, ValidationAccuracy
from convlens.report.wording import compare, three
from convlens.uncertainty.calibration import Calibration


def accuracy_2b(v: ValidationAccuracy) -> str:
    missed = v.misclassified
    shown = ", ".join(missed[:5]) + (f" and {len(missed) - 5} more" if len(missed) > 5 else "")
    text = (
        f"VGG16 put the true class first for {v.top1_correct} of the {v.n} validation "
        f"images (top-1 accuracy {three(v.top1)}) and among its five most probable classes for "
        f"{v.top5_correct} (top-5 accuracy {three(v.top5)})."
    )
    if missed:
        text += f" Missed at top-1: {shown}."
    return text


def class_models_2c(cv: ClassModels) -> str:
    rows = cv.classes
    parts = []
    for r in rows:
        verb = compare(r.prob_blur, r.prob_no_blur)
        parts.append(
            f"*{r.name}*: probability {three(r.prob_blur)} with blur, {verb} "
            f"{three(r.prob_no_blur)} without"
        )
    text = "At the last step, " + "; ".join(parts) + "."
    lower = sum(r.hf_energy_blur < r.hf_energy_no_blur for r in rows)
    text += (
        f" The share of each image's energy in the upper half of its spatial frequencies "
        f"was lower with blur for {lower} of the {len(rows)} classes ("
        + "; ".join(
            f"*{r.name}* {three(r.hf_energy_blur)} vs {three(r.hf_energy_no_blur)}" for r in rows
        )
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
        f"probability {three(sure.top[0].prob)}; the least certain is "
        f"*{unsure.top[0].name}* for {unsure.image}, with {three(unsure.top[0].prob)}"
    )
    if len(unsure.top) > 1:
        second = unsure.top[1]
        text += (
            f", where the runner-up *{second.name}* has {three(second.prob)}: for such an image "
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
            f"random order (deletion area {three(r.deletion_auc)} vs {three(rnd.deletion_auc)})"
        )
    text = ("Over the test images, " + "; ".join(parts) + ".") if parts else ""
    if q.randomisation:
        last = q.randomisation[-1]
        text += (
            f" With the top {len(q.randomisation)} weighted layers re-initialised, the rank "
            f"correlation with the trained model's maps fell to {three(last.saliency)} for "
            f"saliency and {three(last.guided_backprop)} for guided backpropagation"
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
        f"{three(flag.mutual_information)} nats is the largest of the test images, so the "
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
            f"{three(m.ece)} against {three(d.ece)} with dropout off: {better} calibrated, and "
            f"its negative log-likelihood {three(m.nll)} against {three(d.nll)}."
        )
    return text
