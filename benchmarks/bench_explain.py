"""Saliency and guided backprop throughput against Captum on VGG16 (same batch, same run): each
map alone, and both maps of the same images (the report's 2e + 2f and every layer of the
randomisation check) from one shared forward pass against Captum's two calls; then class
visualisation of 3 classes as one batch against 3 separate runs."""

import time
import warnings

import torch
from captum.attr import GuidedBackprop, Saliency
from common import best_of, header

from convlens.explain import class_model_visualisation, guided_backprop, saliency
from convlens.explain.gradient_pair import saliency_and_guided
from convlens.models import vgg16


def main(batch: int = 4) -> None:
    warnings.filterwarnings("ignore", module="captum")
    header(f"explanations on VGG16, batch {batch}, fp32")
    torch.manual_seed(0)
    model = vgg16().eval()
    for p in model.parameters():  # Captum leaves weights trainable; a fair race freezes both
        p.requires_grad_(False)
    x = torch.randn(batch, 3, 224, 224)
    t = torch.arange(batch)
    pairs = [
        (
            "saliency",
            lambda: saliency(model, x, t),
            lambda: Saliency(model).attribute(x, target=t, abs=True).amax(1),
        ),
        (
            "guided backprop",
            lambda: guided_backprop(model, x, t),
            lambda: GuidedBackprop(model).attribute(x, target=t),
        ),
    ]
    for name, ours, theirs in pairs:
        a, b = best_of(ours, repeats=2), best_of(theirs, repeats=2)
        print(
            f"{name:16s} convlens {batch / a:6.2f} img/s   captum {batch / b:6.2f} img/s   "
            f"ratio x{b / a:4.2f}"
        )

    def captum_both():
        return (
            Saliency(model).attribute(x, target=t, abs=True).amax(1),
            GuidedBackprop(model).attribute(x, target=t),
        )

    a = best_of(lambda: saliency_and_guided(model, x, t), repeats=2)
    b = best_of(captum_both, repeats=2)
    pair, (sal, gbp) = saliency_and_guided(model, x, t), captum_both()
    same = torch.equal(pair.saliency, sal) and torch.equal(pair.guided_backprop, gbp)
    print(
        f"{'both maps':16s} convlens {batch / a:6.2f} img/s   captum {batch / b:6.2f} img/s   "
        f"ratio x{b / a:4.2f}   maps bit-identical to Captum's: {same}"
    )

    header("class model visualisation, 3 classes, 20 steps, 224x224, fp32")
    kw = {"image_shape": (3, 224, 224), "steps": 20}
    start = time.perf_counter()
    class_model_visualisation(model, [1, 2, 3], **kw)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    for c in (1, 2, 3):
        class_model_visualisation(model, [c], **kw)
    separate = time.perf_counter() - start
    ratio = separate / batched
    print(f"one batch {batched:6.1f} s   three runs {separate:6.1f} s   ratio x{ratio:4.2f}")


if __name__ == "__main__":
    main()
