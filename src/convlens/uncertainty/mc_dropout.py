"""Monte Carlo dropout (Gal & Ghahramani 2016): keep dropout on at test time and average.

Each forward pass with fresh dropout masks is a sample from an approximate posterior
predictive; the spread of the samples measures the model's (epistemic) uncertainty.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass, field

import torch
from torch import nn

from convlens.engine.forward import batched
from convlens.errors import ConvlensError
from convlens.model_modes import modes_restored
from convlens.progress import progress_bar
from convlens.runtime import Runtime
from convlens.uncertainty.metrics import entropy
from convlens.uncertainty.split import dropout_modules, find_split

# Keep the T x B x K samples when they fit in this many floats (else only running summaries).
KEEP_SAMPLES_LIMIT = 20_000_000


@dataclass
class MCResult:
    mean: torch.Tensor  # B x K predictive mean of the softmax
    predictive_entropy: torch.Tensor  # B: H[mean]
    expected_entropy: torch.Tensor  # B: mean over samples of H[p_t]
    mutual_information: torch.Tensor  # B: BALD = predictive - expected entropy
    variance: torch.Tensor  # B x K variance of each class's probability across samples
    deterministic: torch.Tensor  # B x K softmax with dropout off
    samples: torch.Tensor | None  # T x B x K, or None when too large
    topk_ids: torch.Tensor  # B x k of the MC mean
    topk_probs: torch.Tensor
    path: str  # "prefix once" or "full passes"
    notes: list[str] = field(default_factory=list)

    @property
    def std(self) -> torch.Tensor:
        return self.variance.sqrt()


@contextlib.contextmanager
def dropout_active(model: nn.Module):
    """Dropout layers in train mode, everything else (batch norm!) in eval; restored after."""
    with modes_restored(model):
        model.eval()
        for m in dropout_modules(model):
            m.train()
        yield model


def has_dropout(model: nn.Module) -> bool:
    """Whether the model has a dropout layer that drops anything (p > 0)."""
    return any(getattr(m, "p", 1.0) > 0 for m in dropout_modules(model))


def mc_dropout(
    model: nn.Module,
    images: torch.Tensor,
    *,
    samples: int = 50,
    seed: int = 0,
    topk: int = 5,
    fast: bool = True,
    max_rows: int = 4096,
    prefix_batch: int = 16,
    runtime: Runtime = Runtime(),
) -> MCResult:
    """T = `samples` stochastic predictions for each image, summarised.

    fast=True computes the deterministic prefix once and runs only the stochastic suffix,
    `max_rows` (sample x image) rows at a time; when no split is found, or it does not
    reproduce the model's output, full forward passes are used and a note says so. It
    computes where the model and images are, in fp32; only `runtime`'s progress bar applies.
    """
    progress = runtime.progress
    if samples < 2:
        raise ConvlensError(f"samples must be >= 2 for Monte Carlo dropout, got {samples}")
    if not has_dropout(model):
        raise ConvlensError(
            "the model has no dropout layer that drops anything (p > 0): Monte Carlo dropout "
            "needs one"
        )
    if images.ndim < 2:
        raise ConvlensError(f"images must be a batch, got shape {tuple(images.shape)}")
    b = images.shape[0]
    notes: list[str] = []
    with torch.no_grad(), dropout_active(model):
        for m in dropout_modules(model):
            m.eval()
        split, feats, det_logits = _deterministic_pass(
            model, images, fast, prefix_batch, progress, notes
        )
        for m in dropout_modules(model):
            m.train()
        k = det_logits.shape[1]
        keep = samples * b * k <= KEEP_SAMPLES_LIMIT
        kept = torch.empty(samples, b, k) if keep else None
        s1 = torch.zeros(b, k, dtype=torch.float64)
        s2 = torch.zeros(b, k, dtype=torch.float64)
        ent = torch.zeros(b, dtype=torch.float64)
        with torch.random.fork_rng(devices=[images.device] if images.is_cuda else []):
            torch.manual_seed(seed)
            per_chunk = max(1, max_rows // b) if split is not None else 1
            for start in _bar(range(0, samples, per_chunk), progress, "MC dropout: samples"):
                n = min(per_chunk, samples - start)
                if split is not None:
                    rep = (
                        feats.unsqueeze(0).expand(n, *feats.shape).reshape(n * b, *feats.shape[1:])
                    )
                    logits = split.suffix(rep)
                else:
                    logits = torch.cat([model(c) for c in images.split(prefix_batch)])
                probs = torch.softmax(logits.float(), dim=-1).view(n, b, k).cpu()
                if kept is not None:
                    kept[start : start + n] = probs
                p64 = probs.double()
                s1 += p64.sum(0)
                s2 += (p64 * p64).sum(0)
                ent += entropy(p64).sum(0)
    mean = s1 / samples
    variance = ((s2 - samples * mean * mean) / (samples - 1)).clamp_min(0)
    pred_ent = entropy(mean)
    exp_ent = ent / samples
    top = mean.float().topk(min(topk, k), dim=1)
    return MCResult(
        mean=mean.float(),
        predictive_entropy=pred_ent.float(),
        expected_entropy=exp_ent.float(),
        mutual_information=(pred_ent - exp_ent).clamp_min(0).float(),
        variance=variance.float(),
        deterministic=torch.softmax(det_logits.float(), 1).cpu(),
        samples=kept,
        topk_ids=top.indices,
        topk_probs=top.values,
        path="prefix once" if split is not None else "full passes",
        notes=notes,
    )


def _deterministic_pass(model, images, fast: bool, prefix_batch: int, progress: bool, notes):
    """(split, prefix features, logits) with dropout off, through the one forward loop: through
    the shared prefix once where `fast` finds a split that reproduces the model (split and
    features None otherwise, with a note saying why)."""
    split = find_split(model) if fast else None
    if split is not None and not _split_verified(model, split, images[:1]):
        notes.append(f"split at {split.where} does not reproduce the model; full passes")
        split = None
    # in chunks: a whole labelled set would not fit through VGG16 at once
    where = dict(
        batch_size=prefix_batch, runtime=Runtime(images.device, "fp32", progress), on_device=True
    )
    if split is not None:
        prefix = lambda m, x: split.prefix(x)  # noqa: E731
        feats = batched(model, images, prefix, desc="MC dropout: shared prefix", **where)
        return split, feats, split.suffix(feats)
    logits = batched(model, images, desc="MC dropout: deterministic pass", **where)
    if fast:
        notes.append("no prefix/suffix split found for this model; full passes used")
    return None, None, logits


def _bar(iterable, progress: bool, desc: str):
    return progress_bar(iterable, desc, progress)


_VERIFIED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _split_verified(model: nn.Module, split, x: torch.Tensor) -> bool:
    """Does suffix(prefix(x)) equal model(x) with dropout off? Checked on one image, once per
    model object, so the check costs one single-image pass and not one per call."""
    if model not in _VERIFIED:
        _VERIFIED[model] = torch.allclose(split.suffix(split.prefix(x)), model(x), 1e-4, 1e-4)
    return _VERIFIED[model]


def naive_mc_dropout_samples(
    model: nn.Module, images: torch.Tensor, samples: int, *, seed: int = 0
):
    """T full forward passes with dropout on: the oracle `mc_dropout`'s shared-prefix path is
    tested against (tests/uncertainty/test_mc_dropout.py) and timed against
    (benchmarks/bench_mc_dropout.py); kept in the library so a user can check the fast path on
    their own model."""
    out = []
    with torch.no_grad(), dropout_active(model), torch.random.fork_rng():
        torch.manual_seed(seed)
        for _ in range(samples):
            out.append(torch.softmax(model(images).float(), dim=-1))
    return torch.stack(out)
