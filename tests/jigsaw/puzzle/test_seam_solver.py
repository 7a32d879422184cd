"""convlens.jigsaw.puzzle.seam_solver: the training-free seam score solves real photographs."""

from convlens.jigsaw import orders_to_classes
from convlens.jigsaw.puzzle.seam_solver import seam_costs


def test_seam_score_solves_real_photographs(photo_arrays):
    costs = seam_costs(photo_arrays["c"])
    acc = (costs.argmin(1).numpy() == orders_to_classes(photo_arrays["d"])).mean()
    assert acc > 0.6  # training-free, on 32x32 crops (higher at 96x96)
