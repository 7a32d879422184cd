"""Grad-CAM, Guided Grad-CAM, Integrated Gradients and occlusion against Captum, on a full-size
VGG (same images, same targets, same run), each with Captum's recommended batching: Integrated
Gradients with internal_batch_size, occlusion with perturbations_per_eval. Prints images per
second for both, the ratio, and whether the maps agree.

    python bench_attributions.py [--side 224] [--images 2]
"""

import argparse
import warnings

import torch
from captum.attr import (
    GuidedGradCam,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    Occlusion,
)
from common import best_of, cpu_kind, header

from convlens.explain.grad_cam import grad_cam, guided_grad_cam
from convlens.explain.integrated_gradients import integrated_gradients
from convlens.explain.occlusion import occlusion
from convlens.models import vgg11


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--side", type=int, default=224)
    p.add_argument("--images", type=int, default=2)
    p.add_argument("--steps", type=int, default=16)
    args = p.parse_args()
    warnings.filterwarnings("ignore", module="captum")
    header(f"attributions on VGG-11 at {args.side} px, {args.images} images, fp32; {cpu_kind()}")
    torch.manual_seed(0)
    model = vgg11(num_classes=1000).eval()
    for param in model.parameters():  # Captum leaves weights trainable; a fair race freezes both
        param.requires_grad_(False)
    x = torch.randn(args.images, 3, args.side, args.side)
    t = torch.arange(args.images)
    layer = model.features[18]  # the last convolution
    window, stride = args.side // 4, args.side // 8
    n, steps = args.images, args.steps
    races = [
        (
            "grad-cam",
            lambda: grad_cam(model, x, t, layer="features.18"),
            lambda: LayerAttribution.interpolate(
                LayerGradCam(model, layer).attribute(x, target=t, relu_attributions=True),
                x.shape[-2:],
                interpolate_mode="bilinear",
            )[:, 0],
            1.0,
        ),
        (
            "guided grad-cam",
            lambda: guided_grad_cam(model, x, t, layer="features.18"),
            lambda: GuidedGradCam(model, layer).attribute(x, target=t, interpolate_mode="bilinear"),
            1.0,
        ),
        (
            f"integrated gradients ({steps} steps)",
            lambda: integrated_gradients(model, x, t, steps=steps).attributions,
            lambda: IntegratedGradients(model).attribute(
                x,
                baselines=torch.zeros_like(x),
                target=t,
                n_steps=steps + 1,
                method="riemann_trapezoid",
                internal_batch_size=16,
            ),
            (steps + 1) / steps,  # Captum's trapezoid weights add up to steps/(steps + 1)
        ),
        (
            f"occlusion ({window} px, stride {stride})",
            lambda: occlusion(model, x, t, window=window, stride=stride),
            lambda: Occlusion(model).attribute(
                x,
                sliding_window_shapes=(3, window, window),
                strides=(3, stride, stride),
                baselines=0.0,
                target=t,
                perturbations_per_eval=16,
            ),
            1.0,
        ),
    ]
    for name, ours, theirs, factor in races:
        a, b = best_of(ours, repeats=1), best_of(theirs, repeats=1)
        ours_map, ref = ours().detach(), theirs().detach().float() * factor
        err = float((ours_map - ref).abs().max() / ref.abs().max().clamp_min(1e-12))
        print(
            f"{name:36s} convlens {n / a:7.3f} img/s   captum {n / b:7.3f} img/s   "
            f"ratio x{b / a:4.2f}   largest difference {err:.1e} of the largest value"
        )


if __name__ == "__main__":
    main()
