"""convlens.problem2.estimate: the passes it counts are the passes the steps make, and timing
leaves the model as it found it."""

import torch
from torch import nn

from convlens.demo.digits import digits_vgg
from convlens.explain.deletion import deletion_insertion_curves
from convlens.problem2.estimate import deletion_frames, pass_seconds, problem2_seconds


class Counting(nn.Module):
    """A small classifier that counts the images its forward pass sees."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.LazyLinear(5))
        self.images = 0

    def forward(self, x):
        self.images += len(x)
        return self.net(x)


def test_deletion_frames_counts_what_deletion_insertion_sends_through_the_network():
    torch.manual_seed(0)
    model = Counting().eval()
    x = torch.rand(3, 3, 16, 16)
    model(x)
    maps = {name: torch.rand(3, 16, 16) for name in ("saliency", "guided backprop", "random")}
    for steps in (4, 12):
        model.images = 0
        deletion_insertion_curves(model, x, maps, 0, steps=steps)
        assert model.images == deletion_frames(steps) * 3


def test_seconds_follow_the_passes_of_each_step():
    s = problem2_seconds(
        1.0,
        3.0,
        n_validation=95,
        n_test=5,
        n_checked=5,
        deletion_steps=12,
        randomised_layers=4,
        class_viz_images=6,
        class_viz_steps=150,
        class_viz_backward=0.5,
    )
    assert s["2b_accuracy_and_calibration"] == 95
    assert s["2ef_maps"] == 5 * (1 + 2 * 2)  # one forward, two backward passes
    assert s["explanation_checks"] == 5 * (deletion_frames(12) + 4 * 5)
    assert s["2c_class_models"] == 6 * 150 * 0.5  # in its own precision


def test_timing_leaves_the_model_as_it_was():
    model = digits_vgg().train()
    model.features[0].weight.requires_grad_(False)
    before = [p.requires_grad for p in model.parameters()]
    forward, backward = pass_seconds(model, (1, 32, 32), batch=4)
    assert forward > 0 and backward > 0
    assert model.training and [p.requires_grad for p in model.parameters()] == before
    assert all(p.grad is None for p in model.parameters())
    assert model.features[0].weight.is_contiguous()
