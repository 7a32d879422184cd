"""Problem 1's discussion: what the numerical check of the closed forms found."""

from __future__ import annotations

from convlens.theory.problem1 import TheoryChecks


def minimisers_1d(checks: TheoryChecks) -> str:
    penalties = {"no penalty": checks.none, "l2": checks.l2, "l1": checks.l1}
    worst = max(a.abs_diff for a in penalties.values())
    off = [name for name, a in penalties.items() if not a.agree]
    if off:
        text = (
            "scipy's optimum does not agree with the closed form for "
            + ", ".join(f"{name} (difference {penalties[name].abs_diff:.1e})" for name in off)
            + ": the closed form or the optimiser is wrong there."
        )
    else:
        text = (
            "scipy's optimum agrees with the closed form for every penalty, within the check's "
            f"tolerance (largest difference {worst:.1e})."
        )
    if checks.dataset_ce_2n_operations:
        return text + " The loop of 1c counted two operations per sample."
    return text + " The loop of 1c did not count two operations per sample."
