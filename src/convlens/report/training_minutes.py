"""How Problem 3's training minutes were spent, as the report prints it: the budget's note,
the table of planned, given, used and handed-on minutes, and why each network stopped."""

from __future__ import annotations

from convlens.problem3.budget import TrainingBudget
from convlens.problem3.study_records import NetworkResult
from convlens.report.document import Document


def budget_table(doc: Document, nets: dict[str, NetworkResult]) -> None:
    """(3a) planned, given, used and handed on, per network."""
    doc.table(
        [
            {
                "network": name,
                "planned (min)": n.needed_minutes,
                "given (min)": n.budget_minutes,
                "used (min)": n.training_minutes,
                "handed on (min)": max(round(n.budget_minutes - n.training_minutes, 2), 0.0),
                "epochs": len(n.history),
                "stopped at": stopped_words(n),
            }
            for name, n in nets.items()
        ],
        caption="(3a) how Problem 3's training minutes were spent: planned before training "
        "from each network's measured speed, given in turn from what the networks before "
        "it left, used, and handed on to the networks after it",
    )


def budget_text(nets: dict[str, NetworkResult], budget: TrainingBudget | None) -> str:
    """What the budget was and, for each network that stopped at its share, how much its
    validation accuracy was still rising over its last two epochs (a measurement, not a guess
    about convergence)."""
    if budget is None:
        return "No time budget was set: each network trained its fixed number of epochs."
    if budget.given:
        origin = "given with --minutes"
    elif budget.fitted:
        origin = "fitted to the demo's minutes at the speed measured on this machine"
    else:
        origin = "what the networks need at the speed measured on this machine before training"
    shared = "the epochs planned for each network" if budget.fitted else "need"
    text = f"Problem 3 had {budget.total_minutes:g} min of training ({origin}), shared by {shared}."
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


def stopped_words(n: NetworkResult) -> str:
    """Why a network's training ended, in words (budget, epochs, or perfect validation)."""
    if n.stopped == "budget":
        return f"budget ({n.budget_minutes:g} min, {n.planned_epochs} epochs planned)"
    if n.stopped == "perfect":
        return "perfect validation"
    return "all epochs"
