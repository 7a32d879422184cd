"""Issue 22: heads that score seams decode to the best of the 24 orders, a time budget plans
the epochs from a measured first epoch (and resumes on the same plan), and early stopping waits
for its patience."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from interrupt import interrupt_in_epoch

from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs
from convlens.engine.train_step import TrainStep
from convlens.jigsaw.networks.border_head import BorderHead
from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.networks.pairs import order_logits, slot_logits
from convlens.jigsaw.networks.seam_head import SeamHead
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS, inverse
from convlens.jigsaw.training import train as train_module
from convlens.jigsaw.training.checkpoint import load_run
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train

TINY = model_config(width=0.125, hidden=32, input_size=32)


@pytest.fixture(scope="module")
def arrays():
    return make_jigsaw_arrays(bundled_photographs(), n_train=240, n_test=24, size=32, seed=0)


def _brute_force(pair_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every arrangement of the four tiles, scored seam by seam with the exam's semantics:
    order o puts shuffled tile i at position o[i]; the tile at each position is inverse(o)."""
    pairs = {p: k for k, p in enumerate(itertools.permutations(range(4), 2))}
    logits = np.zeros((len(pair_scores), 24))
    for n, scores in enumerate(pair_scores):
        for o, order in enumerate(PERMUTATIONS):
            at = inverse(order[None])[0]  # at[position] = shuffled tile there
            logits[n, o] = (
                scores[pairs[(at[0], at[1])]]
                + scores[pairs[(at[2], at[3])]]
                + scores[12 + pairs[(at[0], at[2])]]
                + scores[12 + pairs[(at[1], at[3])]]
            )
    return logits, PERMUTATIONS[logits.argmax(1)]


def test_seam_sums_decode_to_the_brute_force_best_order():
    scores = torch.randn(200, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    logits = order_logits(scores)
    expected, best = _brute_force(scores.numpy())
    np.testing.assert_allclose(logits.numpy(), expected, rtol=0, atol=1e-12)
    decoded = PERMUTATIONS[logits.argmax(1).numpy()]
    np.testing.assert_array_equal(decoded, best)
    assert all(sorted(o) == [0, 1, 2, 3] for o in decoded.tolist())


def test_slot_sums_score_each_tile_at_the_position_the_order_sends_it_to():
    """Exam semantics: order o sends shuffled tile i to position o[i]; the order's slot term is
    the sum over tiles of score[tile, o[tile]]."""
    scores = torch.randn(50, 4, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    expected = np.array(
        [[sum(s[i, order[i]] for i in range(4)) for order in PERMUTATIONS] for s in scores.numpy()]
    )
    np.testing.assert_allclose(slot_logits(scores).numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("slots", [False, True])
def test_the_cfn_seam_head_decodes_to_the_brute_force_best_order(slots):
    model = build_model(
        model_config(arch="cfn", width=0.125, hidden=16, head="seams", slots=slots)
    ).eval()
    x = torch.randn(5, 3, 96, 96, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        flat = model.tile_embeddings(x).transpose(1, 2).flatten(1)
        logits = model(x).double()
        expected, best = _brute_force(model.classifier.pair_scores(flat).double().numpy())
        if slots:
            unary = model.classifier.slot(model.classifier.cells(flat)).double().numpy()
            expected += np.array(
                [[sum(u[i, o[i]] for i in range(4)) for o in PERMUTATIONS] for u in unary]
            )
            best = PERMUTATIONS[expected.argmax(1)]
    np.testing.assert_allclose(logits.numpy(), expected, atol=1e-4)
    np.testing.assert_array_equal(PERMUTATIONS[logits.argmax(1).numpy()], best)


def test_the_cfn_border_head_decodes_to_the_brute_force_best_order():
    model = build_model(model_config(arch="cfn", width=0.125, hidden=16, head="borders")).eval()
    x = torch.randn(5, 3, 96, 96, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        maps = model.tile_embeddings(x).view(5, 4, -1, 2, 2)
        logits = model(x).double()
        expected, best = _brute_force(model.classifier.pair_scores(maps).double().numpy())
    np.testing.assert_allclose(logits.numpy(), expected, atol=1e-4)
    np.testing.assert_array_equal(PERMUTATIONS[logits.argmax(1).numpy()], best)


def test_the_border_head_scores_a_seam_from_the_two_facing_sides_only():
    """ "b right of a" reads a's right column and b's left column, row beside row; "b below a"
    a's bottom row and b's top row: changing any other cell of either tile leaves it alone."""
    torch.manual_seed(0)  # the head's initial weights: a unit dead by chance reads nothing
    head = BorderHead(channels=3, embed=4, hidden=8).eval()
    maps = torch.randn(1, 4, 3, 2, 2, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        before = head.pair_scores(maps)[0]
        for tile, r, c in itertools.product(range(4), range(2), range(2)):
            moved = maps.clone()
            moved[0, tile, :, r, c] += 1.0
            changed = (head.pair_scores(moved)[0] - before).abs() > 1e-6
            for k, (a, b) in enumerate(itertools.permutations(range(4), 2)):
                reads_right = (tile == a and c == 1) or (tile == b and c == 0)
                reads_below = (tile == a and r == 1) or (tile == b and r == 0)
                assert changed[k].item() == reads_right, (tile, r, c, a, b)
                assert changed[12 + k].item() == reads_below, (tile, r, c, a, b)


@pytest.mark.parametrize("head", ["orders", "seams"])
def test_every_vgg_head_decodes_to_one_of_the_24_orders(head):
    model = build_model(
        model_config(arch="vgg11_bn", width=0.125, hidden=16, resolution=64, head=head)
    ).eval()
    x = torch.randn(6, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (6, 24)
    if head == "seams":
        flat = model.forward_features(x)
        with torch.no_grad():
            pair = model.classifier.pair_scores(flat)
        expected, _ = _brute_force(pair.double().numpy())
        np.testing.assert_allclose(logits.double().numpy(), expected, atol=1e-4)


def test_the_seam_head_reads_each_cell_where_its_quarter_is():
    """Cells in raster order: the pair (a, b) is built from cell a and cell b of the 2x2 grid."""
    head = SeamHead(channels=3, hidden=4)
    grid = torch.arange(12, dtype=torch.float32).view(1, 3, 2, 2)  # channel c, cell (r, col)
    cells = grid.flatten(2).transpose(1, 2)[0]  # 4 x 3
    captured = {}
    head.pair.register_forward_hook(lambda m, i, o: captured.setdefault("x", i[0]))
    head(grid.flatten(1))
    pair_inputs = captured["x"][0]  # 12 x 6
    for k, (a, b) in enumerate(itertools.permutations(range(4), 2)):
        torch.testing.assert_close(pair_inputs[k], torch.cat([cells[a], cells[b]]))


class _Clock:
    """perf_counter for the training loop: every epoch takes `per_epoch` seconds."""

    def __init__(self, per_epoch: float):
        self.now, self.per_epoch, self.calls = 0.0, per_epoch, 0

    def perf_counter(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:  # called at the start and at the end of each epoch
            self.now += self.per_epoch
        return self.now


def test_a_budget_plans_the_epochs_from_the_first_and_resumes_on_the_same_plan(
    arrays, tmp_path, monkeypatch
):
    a, b = arrays["a"], arrays["b"]
    cfg = TrainConfig(epochs=20, minutes=0.5, batch_size=64, precision="fp32", model=TINY)
    monkeypatch.setattr(train_module, "time", _Clock(7.0))  # 30 s / 7 s: 4 epochs fit
    full = train(a, b, tmp_path / "full", cfg)
    assert full.planned_epochs == 4 and len(full.history) == 4 and full.stopped == "budget"

    # The same run, killed in its third epoch, resumed on a machine twice as fast: the plan
    # made after the first epoch stands and the weights end exactly as in the unbroken run.
    original = train_module.predict_log_probs
    monkeypatch.setattr(train_module, "time", _Clock(7.0))
    interrupt_in_epoch(3, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(a, b, tmp_path / "cut", cfg)
    monkeypatch.setattr(train_module, "predict_log_probs", original)
    monkeypatch.setattr(train_module, "time", _Clock(1.0))
    resumed = train(a, b, tmp_path / "cut", cfg, resume=True)
    assert resumed.planned_epochs == 4 and [h.epoch for h in resumed.history] == [1, 2, 3, 4]
    m_full, _, _ = load_run(tmp_path / "full", "checkpoint.pt")
    m_cut, _, _ = load_run(tmp_path / "cut", "checkpoint.pt")
    for (k, v), w in zip(m_full.state_dict().items(), m_cut.state_dict().values(), strict=True):
        torch.testing.assert_close(v, w, msg=k)


class _FirstBatchSlow:
    """The batch clock within each epoch: its first batch takes 2 s more than the others (which
    take none), as oneDNN's kernel creation makes a real first batch slower."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 0.0 if self.calls % 3 == 1 else 2.0  # start, after the first batch, the end


def test_the_budget_plans_from_the_first_epoch_without_its_first_batchs_warm_up(
    arrays, tmp_path, monkeypatch
):
    cfg = TrainConfig(epochs=20, minutes=0.5, batch_size=64, precision="fp32", model=TINY)
    monkeypatch.setattr(train_module, "time", _Clock(7.0))
    monkeypatch.setattr(train_module, "_batch_clock", _FirstBatchSlow())
    result = train(arrays["a"], arrays["b"], tmp_path / "run", cfg)
    assert result.planned_epochs == 6  # 30 s / (7 s - 2 s), not 30 s / 7 s = 4
    assert [h.seconds for h in result.history][:2] == [7.0, 7.0]  # the record keeps 7 s


def test_a_budget_larger_than_the_epochs_trains_them_all(arrays, tmp_path, monkeypatch):
    cfg = TrainConfig(epochs=3, minutes=60, batch_size=64, precision="fp32", model=TINY)
    monkeypatch.setattr(train_module, "time", _Clock(5.0))
    result = train(arrays["a"], arrays["b"], tmp_path / "run", cfg)
    assert result.planned_epochs == 3 and result.stopped == "epochs"


@pytest.mark.parametrize("patience, epochs_run", [(2, 4), (3, 5), (0, 6)])
def test_early_stopping_waits_for_its_patience(patience, epochs_run, arrays, tmp_path, monkeypatch):
    """Validation made perfect from the third epoch on: training stops after `patience` perfect
    epochs in a row, never before, and never with patience 0."""
    shuffles = train_module.fixed_shuffles
    seen = {}

    def remember(originals, seed):
        shuffled, classes = shuffles(originals, seed)
        seen["classes"] = classes
        return shuffled, classes

    calls = {"n": 0}

    def validation(model, images, **kw):
        calls["n"] += 1
        right = torch.as_tensor(seen["classes"])
        guess = right if calls["n"] >= 3 else (right + 1) % 24
        return torch.log_softmax(torch.nn.functional.one_hot(guess, 24).float() * 10, 1)

    monkeypatch.setattr(train_module, "fixed_shuffles", remember)
    monkeypatch.setattr(train_module, "predict_log_probs", validation)
    cfg = TrainConfig(epochs=6, patience=patience, batch_size=64, precision="fp32", model=TINY)
    result = train(arrays["a"], arrays["b"], tmp_path / "run", cfg)
    assert len(result.history) == epochs_run
    assert result.stopped == ("perfect" if patience else "epochs")


def test_the_moving_average_is_what_is_validated_kept_and_resumed(arrays, tmp_path, monkeypatch):
    """With ema_epochs, best.pt holds the average of the weights after every step, as a plain
    loop over the steps computes it, and a run killed in its second epoch resumes to the same
    average and the same last weights."""
    a, b = arrays["a"], arrays["b"]
    cfg = TrainConfig(
        epochs=2, ema_epochs=0.5, patience=0, batch_size=64, precision="fp32", model=TINY
    )
    steps = []  # each step's weights and batch-norm statistics, copied
    init, watched = TrainStep.__init__, set()

    def init_and_watch(self, net, optimizer, *args, **kwargs):
        init(self, net, optimizer, *args, **kwargs)
        if id(optimizer) not in watched:  # one optimizer per run
            watched.add(id(optimizer))
            optimizer.register_step_post_hook(
                lambda *_: steps.append(
                    {k: v.detach().clone() for k, v in net.state_dict().items()}
                )
            )

    monkeypatch.setattr(TrainStep, "__init__", init_and_watch)
    full = train(a, b, tmp_path / "full", cfg)
    monkeypatch.setattr(TrainStep, "__init__", init)
    per_epoch = len(steps) // 2
    decay = 1 - 1 / (0.5 * per_epoch)
    averages, average = [], dict(steps[0])
    for n, state in enumerate(steps[1:], start=2):
        for k, v in state.items():
            average[k] = decay * average[k] + (1 - decay) * v if v.is_floating_point() else v
        if n % per_epoch == 0:
            averages.append(dict(average))
    m_best, _, ckpt = load_run(tmp_path / "full", "best.pt")
    for k, v in m_best.state_dict().items():
        if not v.is_floating_point():
            continue  # batch norm's step counter is not a weight
        expected = averages[int(ckpt["epoch"])][k]
        torch.testing.assert_close(v, expected, msg=k, rtol=1e-4, atol=1e-5)
    m_last, _, _ = load_run(tmp_path / "full", "checkpoint.pt")
    for k, v in m_last.state_dict().items():  # checkpoint.pt: the last step's own weights
        torch.testing.assert_close(v, steps[-1][k], msg=k)

    original = train_module.predict_log_probs
    interrupt_in_epoch(2, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(a, b, tmp_path / "cut", cfg)
    monkeypatch.setattr(train_module, "predict_log_probs", original)
    resumed = train(a, b, tmp_path / "cut", cfg, resume=True)
    assert resumed.history[1].val_accuracy == full.history[1].val_accuracy
    for name in ("checkpoint.pt", "best.pt"):
        m_full, _, _ = load_run(tmp_path / "full", name)
        m_cut, _, _ = load_run(tmp_path / "cut", name)
        for (k, v), w in zip(m_full.state_dict().items(), m_cut.state_dict().values(), strict=True):
            torch.testing.assert_close(v, w, msg=f"{name} {k}")


@pytest.mark.parametrize(
    "model, words",
    [
        (model_config(arch="vgg11_bn", head="borders", resolution=64), "head borders is the CFN's"),
        (model_config(arch="cfn", head="borders", tile_grid=2), "tile_grid must be 1"),
    ],
)
def test_the_border_head_is_refused_where_it_cannot_apply(model, words):
    from convlens.errors import ConvlensError

    with pytest.raises(ConvlensError, match=words):
        TrainConfig(model=model).validate()
