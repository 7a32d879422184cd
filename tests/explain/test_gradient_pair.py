"""One forward pass for both maps: equal, bit for bit, to the two separate computations and to
Captum, for every way a model may call its ReLUs, on real photographs."""

import pytest
import torch
from captum.attr import GuidedBackprop, Saliency
from PIL import Image
from test_explain import Net

from convlens.data.transforms import preprocess
from convlens.demo.photos import bundled_photographs
from convlens.errors import ConvlensError
from convlens.explain import guided_backprop, saliency
from convlens.explain.gradient_pair import saliency_and_guided
from convlens.models import vgg11


def _photographs(size=32):
    photos = bundled_photographs()
    x = torch.stack(
        [preprocess(Image.fromarray(photos[n])) for n in ("astronaut", "chelsea", "coffee")]
    )
    return torch.nn.functional.interpolate(x, size=(size, size), mode="area")


@pytest.mark.parametrize("style", ["inplace", "reused", "functional", "modules"])
def test_pair_equals_separate_maps_and_captum(style):
    torch.manual_seed(0)
    model = Net(style).eval()
    x = torch.nn.functional.interpolate(_photographs(), size=(16, 16), mode="area")
    t = torch.tensor([0, 3, 4])
    pair = saliency_and_guided(model, x, t)
    assert torch.equal(pair.saliency, saliency(model, x, t))
    assert torch.equal(pair.guided_backprop, guided_backprop(model, x, t))
    assert not torch.equal(pair.saliency, pair.guided_backprop.abs().amax(1))  # two rules ran
    captum_sal = Saliency(model).attribute(x.clone(), target=t, abs=True).amax(1)
    torch.testing.assert_close(pair.saliency, captum_sal, atol=0, rtol=0)
    if style == "modules":  # Captum's hooks see module ReLUs only
        captum_gbp = GuidedBackprop(model).attribute(x.clone(), target=t)
        torch.testing.assert_close(pair.guided_backprop, captum_gbp, atol=0, rtol=0)
    with torch.no_grad():
        assert torch.equal(pair.scores, model(x))


def test_pair_on_a_vgg_defaults_to_the_predicted_class():
    torch.manual_seed(0)
    model = vgg11(num_classes=7, input_size=32, hidden=16).eval()
    x = _photographs()
    pair = saliency_and_guided(model, x)
    predicted = pair.scores.argmax(1)
    assert torch.equal(pair.saliency, saliency(model, x, predicted))
    assert torch.equal(pair.guided_backprop, guided_backprop(model, x, predicted))
    assert all(p.grad is None and p.requires_grad for p in model.parameters())


def test_pair_rejects_bad_targets():
    model = Net("modules").eval()
    with pytest.raises(ConvlensError, match="out of range"):
        saliency_and_guided(model, torch.zeros(2, 3, 16, 16), torch.tensor([0, 9]))
