"""Results made up for tests, built with the records' own constructors: a field a record
gains or loses breaks these builders at construction, not a report at render time."""

from __future__ import annotations

from convlens import theory
from convlens.explain.quality import RANDOM_MAP, ExplanationQuality, MethodCheck
from convlens.jigsaw.run_records import Epoch, Evaluation, MethodAccuracy
from convlens.probe.probe_records import (
    RANDOM,
    RAW,
    TRAINED,
    Candidate,
    Choice,
    Difference,
    Probe,
    ProbeRow,
)
from convlens.problem2.answers import (
    ClassModelRow,
    ClassModels,
    DigitsMetrics,
    MapRow,
    Maps,
    Problem2Results,
    Top5Row,
    Uncertainty,
)
from convlens.problem3.budget import Need, TrainingBudget
from convlens.problem3.study_records import NetworkResult, Problem3Results, Study
from convlens.report.results_file import ReportResults
from convlens.uncertainty.calibration import (
    Calibration,
    CalibrationMetrics,
    ClassProbability,
    ErrorDetection,
    ReliabilityBin,
    SampledClass,
    UncertaintyRow,
)


def probe_row(features: str, acc: float, k: int = 3) -> ProbeRow:
    return ProbeRow(
        features=features,
        dim=64,
        k=k,
        knn=acc,
        correct=round(acc * 100),
        n=100,
        cosine_knn=acc + 0.01,
        linear=acc + 0.02,
        linear_input="as is",
        per_class={"0": acc, "1": acc},
    )


def difference(d: float, low: float, high: float, real: bool) -> Difference:
    return Difference(difference=d, low=low, high=high, real=real)


def probe(trained: float, random: float, raw: float | None = None, differences=None) -> Probe:
    rows = [probe_row(RAW, raw)] if raw is not None else []
    rows += [probe_row(TRAINED, trained), probe_row(RANDOM, random)]
    names = [r.features for r in rows]
    return Probe(
        k=3,
        table=rows,
        sweep={name: {"1": 0.5, "3": 0.5} for name in names},
        layer="auto",
        n_train=200,
        n_test=100,
        choices={name: Choice("block2", True, 0.5) for name in names},
        layers=[Candidate(name, "block2", 64, True, 0.5, 0.5, True) for name in names],
        differences=differences,
    )


def method(acc: float, quarters: int | None = None, n: int = 100) -> MethodAccuracy:
    quarters = round(acc * 4 * n) if quarters is None else quarters
    return MethodAccuracy(n, round(acc * n), acc, quarters, quarters / (4 * n))


def evaluation(acc: float, quarters: int | None = None, **others: float) -> Evaluation:
    """The network alone at `acc`, and other methods by name (network_seam=0.9 for
    "network+seam")."""
    methods = {"network": method(acc, quarters)}
    methods |= {name.replace("_", "+"): method(a) for name, a in others.items()}
    return Evaluation(
        run="runs/x",
        best_epoch=3,
        n_test=100,
        seam_temperature=0.05,
        seam_weight=0.5,
        combination_fitted_on="24 held-out validation images",
        methods=methods,
        highest_on_test=max(methods, key=lambda m: methods[m].image_accuracy),
        tta="computed",
        figure="jigsaw_examples.png",
    )


def epoch(n: int, seconds: float, val: float) -> Epoch:
    return Epoch(n, 1.0, 0.5, val, seconds, probe_knn=0.4, probe_block="block2")


def network(
    arch: str, acc: float, minutes: float, trained: float, random: float, history=None, raw=None
) -> NetworkResult:
    return NetworkResult(
        arch=arch,
        settings="width 0.5",
        history=history or [],
        training_minutes=minutes,
        budget_minutes=4.0,
        planned_epochs=len(history or []),
        max_epochs=30,
        stopped="budget",
        precision="fp32",
        cpu="a test CPU",
        evaluation=evaluation(acc, network_seam=0.9, seam=0.88),
        probe=probe(trained, random, raw=raw),
        random_curve=0.35,
        seconds={"3a_training": 1.0},
        needed_minutes=3.5,
    )


BUDGET = TrainingBudget(
    needs={
        "edgenet": Need(epochs=3, seconds_per_epoch=50.0, inference_seconds_per_image=1e-3),
        "vgg11_bn": Need(epochs=16, seconds_per_epoch=22.0, inference_seconds_per_image=1e-3),
    },
    total_minutes=8.4,
    given=False,
)


def class_row(name: str, prob_no_blur, prob_blur, hf_no_blur, hf_blur) -> ClassModelRow:
    return ClassModelRow(
        class_id=0,
        name=name,
        prob_no_blur=prob_no_blur,
        prob_blur=prob_blur,
        score_no_blur=1.0,
        score_blur=1.0,
        steps_to_09_blur=None,
        hf_energy_no_blur=hf_no_blur,
        hf_energy_blur=hf_blur,
    )


def class_models(rows: list[ClassModelRow]) -> ClassModels:
    return ClassModels(rows, "class_viz.png", 20, 5, 1.0, "fp32")


def uncertainty_row(image: str, mi: float, name: str, det: str) -> UncertaintyRow:
    return UncertaintyRow(
        image=image,
        top=[SampledClass(1, name, 0.6, 0.1)],
        predictive_entropy=0.8,
        expected_entropy=0.7,
        mutual_information=mi,
        deterministic_top1=ClassProbability(2, det, 0.55),
    )


def uncertainty(rows: list[UncertaintyRow]) -> Uncertainty:
    return Uncertainty(images=rows, figures=[], samples=50, path="prefix once", notes=[])


def metrics(ece: float, nll: float) -> CalibrationMetrics:
    return CalibrationMetrics(0.8, nll, 0.3, ece, [ReliabilityBin(0.0, 1.0, 95, 0.8, 0.75)])


def calibration(det_ece=0.2, mc_ece=0.1) -> Calibration:
    return Calibration(
        n=95,
        samples=30,
        path="prefix once",
        deterministic=metrics(det_ece, 1.5),
        mc_dropout=metrics(mc_ece, 1.4),
        uncertainty_vs_errors={"mutual_information": ErrorDetection(0.1, 0.2, 0.7)},
        figure="reliability.png",
    )


def quality(
    deletion: dict[str, float],
    randomised: list[tuple[float, float]],
    insertion: dict[str, float] | None = None,
    others: dict[str, list[float]] | None = None,
):
    """Checks of saliency and guided backprop (`randomised`: a pair per layer), and of the
    `others` (their correlation per layer); insertion areas 0.5 unless given."""
    per_layer = {
        "saliency": [s for s, _ in randomised],
        "guided backprop": [g for _, g in randomised],
        **(others or {}),
    }
    insertion = insertion or {}
    return ExplanationQuality(
        checks=[
            MethodCheck(
                m, d, insertion.get(m, 0.5), per_layer.get(m, []) if m != RANDOM_MAP else []
            )
            for m, d in deletion.items()
        ],
        layers=[f"layer{i}" for i in range(len(randomised))],
        n_images=5,
    )


def problem2() -> Problem2Results:
    return Problem2Results(
        mode="demo",
        top5=[Top5Row("a.jpg", [ClassProbability(1, "dog", 0.7), ClassProbability(2, "cat", 0.2)])],
        top5_figures=[],
        explanations=Maps([MapRow("a.jpg", 1, "dog", 0.2, 0.3)], "explanations.png"),
        quality=quality({"saliency": 0.1, "guided backprop": 0.3, "random map": 0.2}, [(0.2, 0.9)]),
        class_viz=class_models([class_row("tench", 0.99, 0.95, 0.4, 0.1)]),
        uncertainty=uncertainty(
            [
                uncertainty_row("a.jpg", 0.01, "cat", "cat"),
                uncertainty_row("b.jpg", 0.3, "dog", "wolf"),
            ]
        ),
        seconds={"2d_top5": 0.5},
        missing_weights="weights vgg16-397923af.pth not found",
        digits=DigitsMetrics(0.95, 0.2),
        vgg16_parameters=138357544,
        calibration=calibration(),
    )


def problem3() -> Problem3Results:
    nets = {
        "edgenet": network("edgenet", 0.97, 2.5, 0.4, 0.45, [epoch(1, 150.0, 0.97)], raw=0.3),
        "vgg11_bn": network("vgg11_bn", 0.66, 6.1, 0.39, 0.35, [epoch(1, 366.0, 0.62)]),
    }
    study = Study(nets, curve_images=200, curve_figure="c.png", learning_figure="l.png")
    main = nets["edgenet"]
    return Problem3Results(
        mode="demo",
        shuffled_source="photographs",
        normal_source="other photographs",
        n_train=2000,
        epochs=8,
        arch="edgenet",
        history=main.history,
        training_minutes=main.training_minutes,
        evaluation=main.evaluation,
        probe=main.probe,
        study=study,
        seconds={"3a_training edgenet": 1.0},
        shapes=Study({"vgg11_bn": network("vgg11_bn", 0.3, 0.5, 0.61, 0.52, raw=0.9)}, 100),
        budget=BUDGET,
    )


def report_results() -> ReportResults:
    return ReportResults(
        convlens_version="0",
        seed=0,
        problem1=theory.theory_results(),
        problem2=problem2(),
        problem3=problem3(),
        seconds={"problem1": 0.1},
        estimated_seconds={"problem3: 3a_training edgenet": 2.0, "problem2: 2c_class_models": 9.0},
    )


def validation(correct: int, n: int):
    from convlens.problem2.answers import ValidationAccuracy

    return ValidationAccuracy(
        n=n,
        top1=correct / n,
        top5=min(1.0, (correct + 10) / n),
        top1_correct=correct,
        top5_correct=min(n, correct + 10),
        misclassified=[f"img{i}.JPEG" for i in range(n - correct)],
    )
