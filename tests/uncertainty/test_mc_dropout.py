import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from convlens.models import vgg11_bn
from convlens.uncertainty import (
    calibration_metrics,
    dropout_active,
    entropy,
    find_split,
    mc_dropout,
    uncertainty_vs_errors,
)
from convlens.uncertainty.mc_dropout import naive_mc_dropout_samples


def _np_entropy(p):
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)


def test_entropy_against_numpy_with_zeros():
    p = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]], dtype=torch.float64)
    np.testing.assert_allclose(entropy(p).numpy(), _np_entropy(p.numpy()), atol=1e-12)


def _small_vgg(seed=0):
    torch.manual_seed(seed)
    model = vgg11_bn(num_classes=7, input_size=32, hidden=16).eval()
    with torch.no_grad():  # non-trivial running statistics, so eval vs train BN differs
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model


def test_metrics_against_direct_numpy_on_the_samples():
    model = _small_vgg()
    x = torch.randn(4, 3, 32, 32)
    r = mc_dropout(model, x, samples=30, seed=1)
    s = r.samples.double().numpy()  # T x B x K
    mean = s.mean(0)
    np.testing.assert_allclose(r.mean.numpy(), mean, atol=1e-6)
    np.testing.assert_allclose(r.predictive_entropy.numpy(), _np_entropy(mean), atol=1e-5)
    exp_ent = _np_entropy(s).mean(0)
    np.testing.assert_allclose(r.expected_entropy.numpy(), exp_ent, atol=1e-5)
    np.testing.assert_allclose(
        r.mutual_information.numpy(), np.maximum(_np_entropy(mean) - exp_ent, 0), atol=1e-5
    )
    np.testing.assert_allclose(r.variance.numpy(), s.var(0, ddof=1), atol=1e-6)
    np.testing.assert_allclose(r.std.numpy(), s.std(0, ddof=1), atol=1e-5)
    order = np.argsort(-mean, axis=1)[:, :5]
    np.testing.assert_array_equal(r.topk_ids.numpy(), order)
    with torch.no_grad():
        det = torch.softmax(model.eval()(x), 1)
    torch.testing.assert_close(r.deterministic, det, atol=1e-5, rtol=0)


def test_fast_path_draws_the_same_masks_as_naive_loop():
    model = _small_vgg()
    x = torch.randn(3, 3, 32, 32)
    naive = naive_mc_dropout_samples(model, x, samples=8, seed=5)
    # one sample per chunk: the masks come off the generator in the same order
    fast = mc_dropout(model, x, samples=8, seed=5, max_rows=3)
    assert fast.path == "prefix once"
    torch.testing.assert_close(fast.samples, naive, atol=1e-6, rtol=0)


def test_fast_batched_path_has_the_same_distribution():
    model = _small_vgg(1)
    x = torch.randn(2, 3, 32, 32)
    T = 400
    naive = naive_mc_dropout_samples(model, x, samples=T, seed=0)
    fast = mc_dropout(model, x, samples=T, seed=1)  # all samples in one batch
    se = (naive.std(0) / T**0.5).clamp_min(1e-4)
    assert ((fast.mean - naive.mean(0)).abs() < 5 * se * 2**0.5).all()
    assert not torch.equal(fast.samples, naive)  # really different draws


def test_batch_norm_stays_in_eval_and_modes_are_restored():
    model = _small_vgg()
    model.train()
    bn = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    before = bn.running_mean.clone()
    seen = {}

    def hook(mod, inp, out):
        seen["bn_training"] = mod.training

    h = bn.register_forward_hook(hook)
    try:
        mc_dropout(model, torch.randn(2, 3, 32, 32), samples=3)
    finally:
        h.remove()
    assert seen["bn_training"] is False
    assert torch.equal(bn.running_mean, before)  # running statistics untouched
    assert all(m.training for m in model.modules())  # train mode restored everywhere


def test_seeded_and_independent_of_global_rng():
    model = _small_vgg()
    x = torch.randn(2, 3, 32, 32)
    torch.manual_seed(123)
    a = mc_dropout(model, x, samples=5, seed=9).samples
    state = torch.random.get_rng_state()
    b = mc_dropout(model, x, samples=5, seed=9).samples
    assert torch.equal(a, b)
    assert torch.equal(state, torch.random.get_rng_state())


def test_sequential_split_and_fallback_note():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    split = find_split(seq)
    assert split is not None and split.where == "3"

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.drop, self.out = nn.Linear(12, 8), nn.Dropout(0.5), nn.Linear(8, 3)

        def forward(self, x):
            return self.out(self.drop(torch.relu(self.body(x.flatten(1)))))

    x = torch.randn(4, 3, 2, 2)
    r = mc_dropout(Custom(), x, samples=4)
    assert r.path == "full passes" and "no prefix/suffix split" in r.notes[0]
    assert mc_dropout(seq, x, samples=4).path == "prefix once"


def test_dropout_outside_the_vgg_parts_forces_full_passes():
    """A VGG whose forward applies one more dropout of its own: the suffix would never sample
    it, so the fast path must not be taken, and the samples must equal the naive loop's."""
    from convlens.models import VGG
    from convlens.models.vgg import make_features

    class ExtraDropout(VGG):
        def __init__(self):
            super().__init__(
                make_features([8, "M"], batch_norm=False),
                num_classes=5,
                hidden=16,
                input_size=32,
                pool_size=2,
            )
            self.extra = nn.Dropout(0.5)

        def forward(self, x):
            return self.classifier(self.extra(torch.flatten(self.avgpool(self.features(x)), 1)))

    torch.manual_seed(0)
    model, x = ExtraDropout().eval(), torch.randn(3, 3, 32, 32)
    assert find_split(model) is None
    r = mc_dropout(model, x, samples=20, seed=1)
    assert r.path == "full passes"
    naive = naive_mc_dropout_samples(model, x, samples=20, seed=1)
    torch.testing.assert_close(r.mean, naive.mean(0), rtol=1e-5, atol=1e-6)
    plain = VGG(
        make_features([8, "M"], batch_norm=False),
        num_classes=5,
        hidden=16,
        input_size=32,
        pool_size=2,
    )
    assert find_split(plain) is not None  # the usual layout keeps the fast path


def test_clear_errors():
    with pytest.raises(ValueError, match="no dropout layer"):
        mc_dropout(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), torch.randn(1, 4), samples=4)
    with pytest.raises(ValueError, match="samples must be >= 2"):
        mc_dropout(_small_vgg(), torch.randn(1, 3, 32, 32), samples=1)


def test_dropout_active_context():
    model = _small_vgg()
    with dropout_active(model):
        assert all(m.training == isinstance(m, nn.Dropout) for m in model.modules())
    assert not any(m.training for m in model.modules())


def test_calibration_metrics_against_numpy():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4) * 0.5, size=200)
    labels = rng.integers(0, 4, size=200)
    m = calibration_metrics(probs, labels, bins=15)
    onehot = np.eye(4)[labels]
    assert m["accuracy"] == pytest.approx((probs.argmax(1) == labels).mean())
    assert m["nll"] == pytest.approx(-np.log(probs[np.arange(200), labels]).mean())
    assert m["brier"] == pytest.approx(((probs - onehot) ** 2).sum(1).mean())
    # ECE by a plain loop over images
    conf, pred = probs.max(1), probs.argmax(1)
    total = 0.0
    for b in range(15):
        lo, hi = b / 15, (b + 1) / 15
        members = [i for i in range(200) if lo < conf[i] <= hi]
        if members:
            acc = np.mean([pred[i] == labels[i] for i in members])
            total += len(members) / 200 * abs(acc - np.mean(conf[members]))
    assert m["ece"] == pytest.approx(total, abs=1e-12)
    assert sum(b["count"] for b in m["reliability"]) == 200


def test_uncertainty_vs_errors():
    u = np.array([0.1, 0.2, 0.9, 0.8, 0.3])
    wrong = np.array([False, False, True, True, False])
    r = uncertainty_vs_errors(u, wrong)
    assert r["auroc"] == pytest.approx(roc_auc_score(wrong, u)) == 1.0
    assert r["mean_wrong"] == pytest.approx(0.85)
    assert uncertainty_vs_errors(u, np.zeros(5, bool))["auroc"] is None


def test_mc_dropout_on_trained_digits_model(digits_model):
    model, data = digits_model
    r = mc_dropout(model, data.x_test[:64], samples=20, seed=0)
    acc_mc = (r.mean.argmax(1) == data.y_test[:64]).float().mean()
    acc_det = (r.deterministic.argmax(1) == data.y_test[:64]).float().mean()
    assert acc_mc > 0.85 and abs(acc_mc - acc_det) < 0.1
    wrong = r.mean.argmax(1) != data.y_test[:64]
    noise = torch.randn(8, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    r_noise = mc_dropout(model, noise, samples=20)
    # pure noise is far less certain than real digits
    assert r_noise.predictive_entropy.mean() > r.predictive_entropy.mean()
    assert wrong.sum() < 10


def test_rows_from_a_given_result_equal_rows_computed_inside(digits_model):
    from convlens.problem2 import mc_dropout_rows

    model, data = digits_model
    x = data.x_test[:3]
    names, files = data.names, ["a", "b", "c"]
    inside = mc_dropout_rows(model, x, files, names, samples=8, seed=3)
    given = mc_dropout(model, x, samples=8, seed=3)
    assert mc_dropout_rows(model, x, files, names, samples=8, result=given) == inside
    other = mc_dropout(model, x, samples=8, seed=4)
    assert mc_dropout_rows(model, x, files, names, samples=8, result=other) != inside
