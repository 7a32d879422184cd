"""Grad-CAM, Guided Grad-CAM, Integrated Gradients and occlusion against Captum's
LayerGradCam, GuidedGradCam, IntegratedGradients and Occlusion: on a small ResNet (residual
additions, functional relu, batch norm), on a VGG with in-place ReLUs and on a trained digit
classifier, with the same layer, baselines and steps."""

from __future__ import annotations

import pytest
import torch
from captum.attr import GuidedGradCam, IntegratedGradients, LayerAttribution, LayerGradCam
from captum.attr import Occlusion as CaptumOcclusion
from models_not_vgg import GeluNet, TinyResNet, trained_like

from convlens import models
from convlens.demo.photos import bundled_photographs
from convlens.errors import ConvlensError
from convlens.explain.grad_cam import grad_cam, guided_grad_cam
from convlens.explain.guided_backprop import guided_backprop
from convlens.explain.integrated_gradients import integrated_gradients
from convlens.explain.occlusion import occlusion


def _photos(side: int = 32, n: int = 3) -> torch.Tensor:
    """Real photographs, normalised roughly as ImageNet's."""
    photos = list(bundled_photographs().values())[:n]
    x = torch.stack([torch.from_numpy(p[: side * 4 : 4, : side * 4 : 4].copy()) for p in photos])
    return (x.permute(0, 3, 1, 2).float() / 255 - 0.45) / 0.25


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}, model.training


@pytest.fixture
def resnet():
    return trained_like(TinyResNet)


def test_grad_cam_equals_captums_layer_grad_cam_upsampled(resnet):
    x, t = _photos(), torch.tensor([0, 3, 1])
    ours = grad_cam(resnet, x, t, layer="conv_b")
    layer = LayerGradCam(resnet, resnet.conv_b).attribute(x, target=t, relu_attributions=True)
    ref = LayerAttribution.interpolate(layer, x.shape[-2:], interpolate_mode="bilinear")[:, 0]
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-6)
    assert ours.shape == (3, 32, 32) and ours.min() >= 0 and ours.amax() > 0


def test_grad_cam_defaults_to_the_last_convolution_and_lists_them_for_a_wrong_name(resnet):
    x, t = _photos(), 2
    torch.testing.assert_close(grad_cam(resnet, x, t), grad_cam(resnet, x, t, layer="conv_b"))
    with pytest.raises(ConvlensError, match=r"'conv_c': no such layer; .* conv1, conv_a, conv_b"):
        grad_cam(resnet, x, t, layer="conv_c")
    with pytest.raises(ConvlensError, match=r"'fc': outputs \(3, 5\), not B x C x H x W"):
        grad_cam(resnet, x, t, layer="fc")


def test_grad_cam_behind_an_in_place_relu_equals_the_out_of_place_network():
    """VGG's ReLU(inplace=True) after the layer must not change what Grad-CAM reads."""
    x, t = _photos(), torch.tensor([4, 0, 2])
    inplace = trained_like(lambda: TinyResNet(inplace=True))
    plain = trained_like(lambda: TinyResNet(inplace=False))
    for layer in ("conv1", "conv_b"):
        torch.testing.assert_close(
            grad_cam(inplace, x, t, layer=layer), grad_cam(plain, x, t, layer=layer)
        )


def test_guided_grad_cam_equals_captums(resnet):
    x, t = _photos(), torch.tensor([1, 1, 4])
    ours = guided_grad_cam(resnet, x, t, layer="conv_b")
    ref = GuidedGradCam(resnet, resnet.conv_b).attribute(x, target=t, interpolate_mode="bilinear")
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-7)


def test_guided_backprop_says_when_a_model_has_no_relu():
    with pytest.raises(ConvlensError, match="calls none"):
        guided_backprop(trained_like(GeluNet), _photos(), 0)


@pytest.mark.parametrize("baseline", ["black", "blurred"])
def test_integrated_gradients_equal_captums_and_are_complete(resnet, baseline):
    x, t = _photos(), torch.tensor([2, 0, 3])
    ours = integrated_gradients(resnet, x, t, baseline=baseline, steps=64, max_batch=50)
    from convlens.explain.integrated_gradients import baseline_of

    base = baseline_of(x, baseline)
    ref, delta = IntegratedGradients(resnet).attribute(
        x,
        baselines=base,
        target=t,
        n_steps=65,
        method="riemann_trapezoid",
        return_convergence_delta=True,
    )
    # Captum's "riemann_trapezoid" gives each of its n points 1/n (the ends 1/2n): its weights
    # add up to (n-1)/n, not 1; ours are the trapezoidal rule's 1/(n-1). Same points, same
    # gradients: ours are Captum's times n/(n-1), and complete where Captum's fall short.
    torch.testing.assert_close(ours.attributions, ref.float() * 65 / 64, rtol=1e-4, atol=1e-7)
    assert (ours.completeness_error <= delta.abs().float() + 1e-6).all()
    assert (ours.completeness_error <= 0.05 * ours.score_change.abs() + 1e-3).all()


def test_integrated_gradients_do_not_depend_on_the_batching(resnet):
    x = _photos()
    a = integrated_gradients(resnet, x, 1, steps=10, max_batch=3).attributions
    b = integrated_gradients(resnet, x, 1, steps=10, max_batch=33).attributions
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("model", [TinyResNet, GeluNet])
def test_occlusion_equals_captums(model):
    net = trained_like(model)
    x, t = _photos(), torch.tensor([0, 2, 4])
    ours = occlusion(net, x, t, window=8, stride=4, baseline=0.0, max_batch=7)
    ref = CaptumOcclusion(net).attribute(
        x, sliding_window_shapes=(3, 8, 8), strides=(3, 4, 4), baselines=0.0, target=t
    )
    torch.testing.assert_close(ours, ref.float(), rtol=1e-4, atol=1e-6)


def test_every_method_leaves_the_model_as_it_found_it(resnet):
    resnet.train()
    before, training = _state(resnet)
    x = _photos()
    grad_cam(resnet, x, 0)
    guided_grad_cam(resnet, x, 0)
    integrated_gradients(resnet, x, 0, steps=4)
    occlusion(resnet, x, 0, window=16, stride=16)
    after, still = _state(resnet)
    assert still is training and all(torch.equal(before[k], after[k]) for k in after)
    assert all(p.requires_grad and p.grad is None for p in resnet.parameters())


def test_on_a_vgg_with_in_place_relus_every_method_equals_captum():
    torch.manual_seed(0)
    vgg = models.vgg11(width=0.125, hidden=32, num_classes=10).eval()
    x, t = _photos(side=32), torch.tensor([3, 7, 0])
    ours = grad_cam(vgg, x, t, layer="features.15")
    ref = LayerAttribution.interpolate(
        LayerGradCam(vgg, vgg.features[15]).attribute(x, target=t, relu_attributions=True),
        x.shape[-2:],
        interpolate_mode="bilinear",
    )[:, 0]
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-7)
    ig = integrated_gradients(vgg, x, t, steps=16, max_batch=20)
    ref_ig = IntegratedGradients(vgg).attribute(
        x, baselines=torch.zeros_like(x), target=t, n_steps=17, method="riemann_trapezoid"
    )
    torch.testing.assert_close(ig.attributions, ref_ig.float() * 17 / 16, rtol=1e-4, atol=1e-7)


def test_on_the_trained_digit_classifier(digits_model):
    model, data = digits_model
    x, t = data.x_test[:4], data.y_test[:4]
    ours = occlusion(model, x, t, window=8, stride=8)
    ref = CaptumOcclusion(model).attribute(
        x, sliding_window_shapes=(1, 8, 8), strides=(1, 8, 8), baselines=0.0, target=t
    )
    torch.testing.assert_close(ours, ref.float(), rtol=1e-4, atol=1e-6)
    ig = integrated_gradients(model, x, t, steps=32)
    assert (ig.completeness_error <= 0.05 * ig.score_change.abs() + 1e-2).all()
