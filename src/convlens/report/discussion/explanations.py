"""Problem 2's discussion of 2e-2f: each attribution method against the random map on
deletion and insertion, the cascading randomisation (Adebayo et al. 2018), which method passed
which check, and whether Integrated Gradients had enough steps; worded by the verdicts of
convlens.report.findings, and silent (or saying the opposite) where the numbers do not show it."""

from __future__ import annotations

from convlens.explain.quality import EXAM_METHODS, RANDOM_MAP, ExplanationQuality
from convlens.problem2.answers import MethodMaps
from convlens.report.findings import and_list, direction, three

# A map whose rank correlation with the trained model's maps stays above this after the
# randomisation keeps more of its ordering than it loses: it does not follow the weights.
KEPT = 0.5


def maps_2ef(q: ExplanationQuality) -> str:
    rnd = q.of(RANDOM_MAP)
    methods = [q.of(m) for m in EXAM_METHODS if q.of(m) is not None]
    if rnd is None:
        text = "No random map was scored, so the deletion areas have no baseline to read against."
    else:
        words = {1: "faster than", -1: "slower than", 0: "no faster than"}
        text = "Over the test images, " + "; ".join(
            f"deleting pixels in {r.method} order lowered the target probability "
            f"{words[direction(rnd.deletion_auc, r.deletion_auc)]} in random order (deletion "
            f"area {three(r.deletion_auc)} vs {three(rnd.deletion_auc)})"
            for r in methods
        )
        text += "."
    if q.layers and all(q.of(m) is not None for m in EXAM_METHODS):
        text += " " + _randomisation(q)
    if rnd is not None and set(q.methods) - set(EXAM_METHODS):
        text += " " + every_method_verdict(q)
    return text.strip()


def _randomisation(q: ExplanationQuality) -> str:
    s, g = q.of("saliency").randomised[-1], q.of("guided backprop").randomised[-1]
    text = (
        f"With the top {len(q.layers)} weighted layers re-initialised, the rank "
        f"correlation with the trained model's maps was {three(s)} for saliency and {three(g)} "
        "for guided backpropagation"
    )
    follows = {"saliency": s < KEPT, "guided backpropagation": g < KEPT}
    if all(follows.values()):
        text += ": both maps follow the weights they explain."
    elif not any(follows.values()):
        text += (
            ": neither map follows the weights, so both show the image more than the "
            "classifier; Adebayo et al. (2018) found this of guided backpropagation only."
        )
    elif follows["saliency"]:
        text += (
            ": saliency follows the weights and guided backpropagation barely does, as "
            "Adebayo et al. (2018) found."
        )
    else:
        text += (
            ": guided backpropagation follows the weights and saliency barely does, the "
            "opposite of what Adebayo et al. (2018) found."
        )
    return text


def check_verdicts(q: ExplanationQuality) -> dict[str, dict[str, int]]:
    """Each method's verdict per check against the random map: deletion (+1 deleted faster,
    -1 slower, 0 a tie), insertion (+1 higher area, -1 lower, 0 a tie) and, where layers were
    re-initialised, randomisation (+1 its maps followed the weights, -1 they kept their order)."""
    rnd = q.of(RANDOM_MAP)
    verdicts = {}
    for m in q.methods:
        c = q.of(m)
        v = {
            "deletion": direction(rnd.deletion_auc, c.deletion_auc),
            "insertion": direction(c.insertion_auc, rnd.insertion_auc),
        }
        if q.layers:
            v["randomisation"] = 1 if c.randomised[-1] < KEPT else -1
        verdicts[m] = v
    return verdicts


_FAILED = {
    ("deletion", -1): "deleted the target's evidence slower than the random map",
    ("deletion", 0): "deleted the target's evidence no faster than the random map",
    ("insertion", -1): "restored the target probability slower than the random map",
    ("insertion", 0): "restored the target probability no faster than the random map",
    ("randomisation", -1): (
        f"kept a rank correlation of at least {KEPT} with its trained maps when the weights "
        "were randomised, so it shows the image more than the classifier"
    ),
}


def every_method_verdict(q: ExplanationQuality) -> str:
    """Which methods passed which check, from this run's numbers (check_verdicts)."""
    verdicts = check_verdicts(q)
    checks = list(next(iter(verdicts.values())))
    what = and_list(checks)
    passed = [m for m, v in verdicts.items() if all(x == 1 for x in v.values())]
    if passed:
        text = (
            f"Of the {len(verdicts)} methods, {and_list(passed)} passed every check ({what}, "
            "each against the random map)."
        )
    else:
        text = f"None of the {len(verdicts)} methods passed every check ({what})."
    failed = []
    for check in checks:
        for outcome in (-1, 0):
            names = [m for m, v in verdicts.items() if v[check] == outcome]
            if names and (check, outcome) in _FAILED:
                failed.append(f"{and_list(names)} {_FAILED[check, outcome]}")
    if failed:
        joined = "; ".join(failed)
        text += " " + joined[0].upper() + joined[1:] + "."
    return text


# Integrated Gradients' attributions within this share of the score change they explain add up
# as the method promises (Sundararajan et al. recommend 20-300 steps to get within 5 %)
COMPLETE = 0.05


def completeness(o: MethodMaps) -> str:
    """Whether Integrated Gradients' path had enough steps, from its completeness errors."""
    errors = o.ig_relative_completeness_error
    worst = max(errors)
    text = (
        "Integrated Gradients' attributions added up to the score change they explain with a "
        f"relative error of at most {three(worst)} over the test images ({o.ig_steps} steps)"
    )
    if worst <= COMPLETE:
        return text + ": inside the five per cent Sundararajan et al. ask for."
    over = sum(e > COMPLETE for e in errors)
    return (
        text + f", outside the five per cent Sundararajan et al. ask for on {over} of "
        f"{len(errors)} images: more steps would make its maps more faithful to the score."
    )
