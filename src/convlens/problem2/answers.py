"""Problem 2's records: what each step returns and what results.json's "problem2" section holds
(convlens.record writes and reads them). Arrays a figure is drawn from travel in fields that are
not stored; the figures layer (convlens.figures.problem2) draws them and fills in the names."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from convlens.explain.quality import ExplanationQuality
from convlens.record import key
from convlens.uncertainty.calibration import Calibration, ClassProbability, UncertaintyRow
from convlens.uncertainty.mc_dropout import MCResult


@dataclass(frozen=True)
class ValidationAccuracy:
    """2b: top-1 and top-5 accuracy on labelled images; `rows` (one per image, also the
    predictions CSV) are not stored in results.json."""

    n: int
    top1: float
    top5: float
    top1_correct: int
    top5_correct: int
    misclassified: list[str]
    rows: list[dict] | None = key(stored=False, default=None)


@dataclass(frozen=True)
class ClassModelRow:
    class_id: int
    name: str
    prob_no_blur: float
    prob_blur: float
    score_no_blur: float
    score_blur: float
    steps_to_09_blur: int | None = key("steps_to_0.9_blur")
    hf_energy_no_blur: float
    hf_energy_blur: float


@dataclass(frozen=True)
class ClassModels:
    """2c: one image per class, without and with a blur every `blur_every` steps."""

    classes: list[ClassModelRow]
    figure: str | None
    steps: int
    blur_every: int
    seconds: float
    precision: str  # what the model's passes ran in ("auto" resolved)
    images_no_blur: torch.Tensor | None = key(stored=False, default=None)
    images_blur: torch.Tensor | None = key(stored=False, default=None)


@dataclass(frozen=True)
class Top5Row:
    image: str
    top: list[ClassProbability]


@dataclass(frozen=True)
class Top5:
    """2d: the k most probable classes of each image (figures: one per image, when drawn)."""

    rows: list[Top5Row]
    predicted: list[int]
    figures: list[str]


@dataclass(frozen=True)
class MapRow:
    image: str
    class_id: int
    name: str
    saliency_max: float
    guided_positive_max: float


@dataclass(frozen=True)
class Maps:
    """2e-2f: the saliency map (B x H x W) and the guided backpropagation map (B x C x H x W)
    of each image for its target class."""

    rows: list[MapRow]
    figure: str | None
    saliency: torch.Tensor | None = key(stored=False, default=None)
    guided_backprop: torch.Tensor | None = key(stored=False, default=None)


@dataclass(frozen=True)
class MethodMaps:
    """Beside 2e-2f: the other methods' maps of each test image for its target class (the
    figure sets them beside the exam's two), what each was run with, and a line for each method
    the model cannot take. Integrated Gradients' completeness error is relative to the score
    change it explains, one per image."""

    methods: list[str]
    skipped: list[str]
    ig_steps: int | None
    ig_relative_completeness_error: list[float] | None
    occlusion_window: int | None
    occlusion_stride: int | None
    figure: str | None
    maps: dict | None = key(stored=False, default=None)


@dataclass(frozen=True)
class Uncertainty:
    """2h: Monte Carlo dropout per image (`result` holds the samples the figures show)."""

    images: list[UncertaintyRow]
    figures: list[str]
    samples: int
    path: str
    notes: list[str]
    result: MCResult | None = key(stored=False, default=None)


@dataclass(frozen=True)
class DigitsMetrics:
    test_accuracy: float
    final_loss: float


@dataclass(frozen=True)
class Problem2Found:
    validation: int
    test: int


@dataclass(frozen=True, kw_only=True)
class Problem2Results:
    """results.json's "problem2": VGG16 on ImageNet ("imagenet"), the digits demo ("demo") or
    a user's own classifier (`convlens report --model`, "user").
    The fields are in the file's order; what the setup found comes first (the demo: why, and
    its classifier; ImageNet: the images and the weights)."""

    mode: str
    missing_weights: str | None = key(omit_if_none=True, default=None)
    digits: DigitsMetrics | None = key(omit_if_none=True, default=None)
    vgg16_parameters: int | None = key(omit_if_none=True, default=None)
    problem2_found: Problem2Found | None = key(omit_if_none=True, default=None)
    test_images: str | None = key(omit_if_none=True, default=None)
    weights: str | None = key(omit_if_none=True, default=None)
    user_model: str | None = key(omit_if_none=True, default=None)  # --model's MODULE:FUNCTION
    not_run: list[str] | None = key(omit_if_none=True, default=None)  # steps a model cannot take
    validation: ValidationAccuracy | None = key(omit_if_none=True, default=None)
    calibration: Calibration | None = key(omit_if_none=True, default=None)
    top5: list[Top5Row]
    top5_figures: list[str]
    explanations: Maps
    other_methods: MethodMaps | None = key(omit_if_none=True, default=None)
    quality: ExplanationQuality
    class_viz: ClassModels
    class_viz_all: ClassModels | None = key(omit_if_none=True, default=None)
    uncertainty: Uncertainty | None
    seconds: dict[str, float]

    @property
    def demo(self) -> bool:
        return self.mode == "demo"

    @property
    def network(self) -> str:
        """The network the section inspected, as its sentences name it."""
        return {"imagenet": "VGG16", "demo": "the digits classifier"}.get(
            self.mode, f"the model {self.user_model}"
        )
