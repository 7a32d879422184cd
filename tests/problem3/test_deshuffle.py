"""convlens.problem3.deshuffle: evaluation fits the seam score on the validation rows the run
kept, not on a split drawn again."""

import numpy as np
import pytest
import torch

from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs
from convlens.jigsaw.evaluation.scoring import examples
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.puzzle.data import NpzData, Split
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS, orders_to_classes
from convlens.jigsaw.puzzle.splits import split_train_val
from convlens.jigsaw.puzzle.tiles import deshuffle
from convlens.jigsaw.training.checkpoint import load_run
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train
from convlens.problem3 import deshuffle as module

CFG = TrainConfig(
    epochs=1,
    batch_size=32,
    precision="fp32",
    val_fraction=0.25,
    model=model_config(width=0.125, hidden=16, input_size=32),
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    arrays = make_jigsaw_arrays(bundled_photographs(), n_train=96, n_test=48, size=32, seed=1)
    data = NpzData(
        Split(arrays["a"], arrays["b"], np.ones(96, bool)),
        Split(arrays["c"], arrays["d"], np.ones(48, bool)),
        "photographs",
        "uint8",
    )
    folder = tmp_path_factory.mktemp("run") / "run"
    train(arrays["a"], arrays["b"], folder, CFG)
    return folder, data, arrays


def test_evaluation_reads_the_rows_training_validated_on(run, monkeypatch):
    folder, data, arrays = run
    _, cfg, ckpt = load_run(folder)
    _, drawn = split_train_val(96, CFG.val_fraction, CFG.seed)
    np.testing.assert_array_equal(ckpt["validation_rows"].numpy(), drawn)

    def no_redraw(*_a, **_k):
        raise AssertionError("the split was drawn again although the run kept its rows")

    monkeypatch.setattr(module, "validation_split", no_redraw)
    val = module.validation_originals(cfg, data, ckpt)
    np.testing.assert_array_equal(val, deshuffle(arrays["a"], arrays["b"])[drawn])
    # the whole evaluation goes through the kept rows as well
    assert module.evaluate_run(folder, data, tta=False).n_test == 48


def test_other_data_or_an_older_run_draws_the_split_from_the_data_given(run):
    folder, data, arrays = run
    _, cfg, ckpt = load_run(folder)
    # a run saved before the rows were kept: the same rows drawn again
    older = {k: v for k, v in ckpt.items() if k != "validation_rows"}
    np.testing.assert_array_equal(
        module.validation_originals(cfg, data, older), module.validation_originals(cfg, data, ckpt)
    )
    # other labelled images than the run trained on: their own split, not the run's rows
    other = NpzData(
        Split(arrays["a"][:80], arrays["b"][:80], np.ones(80, bool)), None, "other", "uint8"
    )
    _, rows = split_train_val(80, CFG.val_fraction, CFG.seed)
    ckpt_rows = ckpt["validation_rows"].numpy()
    assert not np.array_equal(rows, ckpt_rows[: len(rows)])
    np.testing.assert_array_equal(
        module.validation_originals(cfg, other, ckpt),
        deshuffle(arrays["a"][:80], arrays["b"][:80])[rows],
    )
    assert isinstance(ckpt["validation_rows"], torch.Tensor)


def test_test_seam_costs_are_computed_once_per_dataset(run, monkeypatch):
    """Two evaluations of the same data (two networks in a study) compute the test images'
    seam costs once, and score exactly as computing them afresh."""
    import convlens.jigsaw.puzzle.data as data_module
    from convlens.jigsaw.puzzle.seam_solver import seam_costs

    folder, data, arrays = run
    calls = []

    def counted(images):
        calls.append(len(images))
        return seam_costs(images)

    monkeypatch.setattr(data_module, "seam_costs", counted)
    fresh = NpzData(data.train, Split(arrays["c"], arrays["d"], np.ones(48, bool)), "p", "uint8")
    first = module.evaluate_run(folder, fresh, tta=False)
    second = module.evaluate_run(folder, fresh, tta=False)
    assert calls == [48]
    assert first.methods == second.methods
    monkeypatch.undo()
    again = NpzData(data.train, Split(arrays["c"], arrays["d"], np.ones(48, bool)), "p", "uint8")
    assert module.evaluate_run(folder, again, tta=False).methods == first.methods


def test_jigsaw_train_validates_on_look_alike_groups_when_asked(run, tmp_path):
    from convlens.cli import main
    from convlens.jigsaw.puzzle.look_alike import look_alike_split

    _, _, arrays = run
    npz = tmp_path / "DataShuffled.npz"
    np.savez(npz, a=arrays["a"], b=arrays["b"], c=arrays["c"], d=arrays["d"])
    args = ["--epochs", "1", "--width", "0.125", "--hidden", "16", "--precision", "fp32"]
    out = tmp_path / "run"
    assert (
        main(["jigsaw", "train", str(npz), "--out", str(out), "--val-split", "look-alike", *args])
        == 0
    )
    _, cfg, ckpt = load_run(out)
    assert cfg.val_split == "look-alike"
    _, expected = look_alike_split(deshuffle(arrays["a"], arrays["b"]), cfg.val_fraction, cfg.seed)
    np.testing.assert_array_equal(ckpt["validation_rows"].numpy(), expected)


def test_examples_are_the_first_right_orders_then_the_first_wrong_ones_by_a_plain_loop():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 3, 64, 64), dtype=np.uint8)
    true = PERMUTATIONS[rng.integers(0, 24, 10)]
    guess = rng.integers(0, 24, 10)
    guess[[1, 4, 5, 8]] = orders_to_classes(true[[1, 4, 5, 8]])  # these four right
    log_probs = torch.log_softmax(torch.nn.functional.one_hot(torch.tensor(guess), 24) * 5.0, 1)
    right_rows = [i for i in range(10) if (PERMUTATIONS[guess[i]] == true[i]).all()]
    wrong_rows = [i for i in range(10) if i not in right_rows]
    ex = examples(images, true, log_probs, k=6)
    assert ex.rows == right_rows[:3] + wrong_rows[:3]
    assert ex.right.tolist() == [True] * 3 + [False] * 3
    assert (ex.shuffled == images[ex.rows]).all() and (ex.true_orders == true[ex.rows]).all()
    # restoring an example with its predicted order undoes the shuffle exactly where it is right
    restored = deshuffle(ex.shuffled, ex.predicted_orders)
    originals = deshuffle(ex.shuffled, ex.true_orders)
    assert all((restored[j] == originals[j]).all() == ok for j, ok in enumerate(ex.right))
