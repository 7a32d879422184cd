"""Class model visualisation (Simonyan et al. 2013, section 2) with Yosinski et al.'s
regularisers (2015, section 3).

Gradient ascent on the unnormalised class score, starting from the zero image (the dataset
mean after normalisation):  I* = argmax_I S_c(I) - lambda ||I||^2.  Every few steps the image
may be blurred (removes the high frequencies that gradient ascent amplifies), pixels with a
small norm or a small contribution may be set to zero, and the image may be jittered
(randomly shifted before each step) so that no single pixel alignment is exploited.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, fields, replace

import torch
from torch import nn

from convlens.engine.layout import as_layout, channels_last, placed
from convlens.errors import ConvlensError
from convlens.explain.blur import gaussian_blur
from convlens.explain.model_state import as_targets, preserved
from convlens.progress import progress_bar
from convlens.runtime import autocast
from convlens.timing import StepTimer


@dataclass
class ClassVizConfig:
    steps: int = 150
    lr: float = 0.1  # Adam step in normalised units: p > 0.9 within ~10 steps on the demo
    optimizer: str = "adam"  # or "sgd": Simonyan's plain gradient ascent
    l2: float = 1e-3  # lambda of Simonyan's ||I||^2 penalty (in the objective)
    decay: float = 0.0  # Yosinski's L2 decay: I <- (1 - decay) I after each step
    blur_every: int = 0  # k: Gaussian blur every k steps (0 = never); the exam uses k = 5
    blur_sigma: float = 0.5
    jitter: int = 0  # random shift of up to this many pixels before each step
    clip_norm_pct: float = 0.0  # zero pixels whose norm is below this percentile
    clip_contrib_pct: float = 0.0  # zero pixels whose |I * grad| is below this percentile
    # Keep pixels inside the valid (normalised) range: floats, or tensors broadcastable to the
    # batch such as per-channel bounds.
    clamp: tuple | None = None


@dataclass
class ClassVizResult:
    images: torch.Tensor  # B x C x H x W, in the model's input space
    classes: list[int]
    score: list[list[float]] = field(default_factory=list)  # per step, per class
    prob: list[list[float]] = field(default_factory=list)
    seconds: float = 0.0

    def steps_to(self, prob: float) -> list[int | None]:
        """For each class, the first step whose softmax probability reaches `prob`."""
        out = []
        for j in range(len(self.classes)):
            hit = next((s for s, row in enumerate(self.prob) if row[j] >= prob), None)
            out.append(hit)
        return out


def _percentile_mask(values: torch.Tensor, pct: float) -> torch.Tensor:
    """B x 1 x H x W mask keeping pixels at or above the per-image percentile."""
    flat = values.flatten(1)
    thresh = torch.quantile(flat, pct / 100.0, dim=1).view(-1, 1, 1, 1)
    return (values >= thresh).float()


def class_model_visualisation(
    model: nn.Module,
    classes,
    image_shape: tuple[int, int, int] = (3, 224, 224),
    *,
    config: ClassVizConfig | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    blur_images=None,
    progress: bool = False,
    precision: str = "fp32",
    **overrides,
) -> ClassVizResult:
    """Optimise one image per class, all classes together as one batch.

    `blur_images` (one bool per class, default all) says which images the blur every
    `blur_every` steps applies to, so blurred and unblurred runs can share one batch: each
    image's optimisation is independent of the others (Adam is per pixel, the objective a
    sum over images), so the result equals separate runs.

    `precision` "bf16" (or "auto" where bf16 is native) runs the model's passes under bf16
    autocast with channels_last; the image, its gradient and the optimiser stay in fp32.
    `benchmarks/bench_class_models.py` measures how far the outcome moves from fp32."""
    unknown = sorted(set(overrides) - {f.name for f in fields(ClassVizConfig)})
    if unknown:
        raise ConvlensError(f"unknown class visualisation option(s) {unknown}")
    cfg = replace(config or ClassVizConfig(), **overrides)  # the caller's config stays as it was
    if cfg.steps < 1:
        raise ConvlensError(f"steps must be >= 1, got {cfg.steps}")
    device = torch.device(device)
    targets = as_targets(classes, len(torch.as_tensor(classes).flatten()), device)
    gen = torch.Generator().manual_seed(seed)
    blur_mask = None
    if blur_images is not None:
        blur_mask = torch.as_tensor(list(blur_images), dtype=torch.bool, device=device)
        if blur_mask.shape != (targets.numel(),):
            raise ConvlensError(f"blur_images: one flag per class ({targets.numel()}) expected")
    img = torch.zeros((targets.numel(), *image_shape), device=device, requires_grad=True)
    opt = _optimizer(img, cfg)
    result = ClassVizResult(images=img, classes=[int(c) for c in targets])
    timer = StepTimer()
    low = channels_last(device, precision, "gradients")  # only with low precision
    placement = placed(model, device, precision, "gradients") if low else contextlib.nullcontext()
    with timer.step("ascent"), preserved(model), placement, torch.enable_grad():
        bar = progress_bar(range(cfg.steps), "class models", progress)
        for step in bar:
            opt.zero_grad(set_to_none=True)
            shift = (0, 0)
            if cfg.jitter:
                shift = tuple(
                    torch.randint(-cfg.jitter, cfg.jitter + 1, (2,), generator=gen).tolist()
                )
            x = torch.roll(img, shifts=shift, dims=(2, 3)) if cfg.jitter else img
            x = as_layout(x, low)
            with autocast(device, precision):
                scores = model(x).float()
            target_scores = scores.gather(1, targets.view(-1, 1)).squeeze(1)
            objective = target_scores - cfg.l2 * img.pow(2).flatten(1).sum(1)
            (-objective.sum()).backward()  # minimise the negative: gradient *ascent*
            with torch.no_grad():
                result.score.append(target_scores.tolist())
                result.prob.append(
                    torch.softmax(scores.float(), 1)
                    .gather(1, targets.view(-1, 1))
                    .squeeze(1)
                    .tolist()
                )
                grad = img.grad.clone()
                bar.set_postfix(lowest_prob=f"{min(result.prob[-1]):.3f}", refresh=False)
            opt.step()
            _regularise(img, grad, cfg, step, blur_mask)
    result.images = img.detach()
    result.seconds = timer.seconds["ascent"]
    return result


def _optimizer(img: torch.Tensor, cfg: ClassVizConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam([img], lr=cfg.lr)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD([img], lr=cfg.lr)
    raise ConvlensError(f"optimizer must be 'adam' or 'sgd', got {cfg.optimizer!r}")


@torch.no_grad()
def _regularise(img, grad, cfg: ClassVizConfig, step: int, blur_mask) -> None:
    """After step `step`'s update, in place: decay, the blur every `blur_every` steps (on the
    images `blur_mask` selects), the clipping of small norms and contributions, the clamp."""
    if cfg.decay:
        img.mul_(1 - cfg.decay)
    if cfg.blur_every and (step + 1) % cfg.blur_every == 0:
        if blur_mask is None:
            img.copy_(gaussian_blur(img, cfg.blur_sigma))
        else:
            img[blur_mask] = gaussian_blur(img[blur_mask], cfg.blur_sigma)
    if cfg.clip_norm_pct:
        img.mul_(_percentile_mask(img.norm(dim=1, keepdim=True), cfg.clip_norm_pct))
    if cfg.clip_contrib_pct:
        contrib = (img * -grad).sum(1, keepdim=True).abs()
        img.mul_(_percentile_mask(contrib, cfg.clip_contrib_pct))
    if cfg.clamp is not None:
        lo, hi = (torch.as_tensor(b, device=img.device) for b in cfg.clamp)
        img.clamp_(lo, hi)


def high_frequency_share(images: torch.Tensor) -> list[float]:
    """Per image, the share of its (mean-removed) spectral energy at spatial frequencies above
    half the Nyquist frequency: the fine texture that plain gradient ascent builds up."""
    x = images.detach().float().cpu()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2).sum(1)  # B x H x W, summed over channels
    fy = torch.fft.fftfreq(x.shape[-2]).abs().view(-1, 1)
    fx = torch.fft.fftfreq(x.shape[-1]).abs().view(1, -1)
    high = (torch.maximum(fy, fx) > 0.25).float()  # 0.5 cycles/pixel is Nyquist
    total = power.flatten(1).sum(1).clamp_min(1e-12)
    return ((power * high).flatten(1).sum(1) / total).tolist()
