import dataclasses
import json

import numpy as np
import pytest
import torch
from interrupt import interrupt_in_epoch
from torch import nn

from convlens.cli import main
from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs
from convlens.errors import ConvlensError
from convlens.jigsaw import deshuffle, load_npz, orders_to_classes
from convlens.jigsaw.evaluation.inference import predict_log_probs
from convlens.jigsaw.evaluation.scoring import accuracy, restore, tta_log_probs
from convlens.jigsaw.networks.catalogue import build_model, shuffle_invariant
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS
from convlens.jigsaw.puzzle.seam_solver import seam_costs
from convlens.jigsaw.training import train as train_module
from convlens.jigsaw.training.checkpoint import load_run
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train

TINY = model_config(width=0.125, hidden=32, input_size=32)


@pytest.fixture(scope="module")
def photo_arrays():
    """Exam-format data from real photographs, 32x32 crops, split by photograph."""
    return make_jigsaw_arrays(bundled_photographs(), n_train=240, n_test=96, size=32, seed=0)


def _cfg(epochs=2, **kw):
    return TrainConfig(epochs=epochs, batch_size=32, precision="fp32", model=TINY, **kw)


def test_data_is_split_by_photograph(photo_arrays):
    assert not set(photo_arrays["source_train"]) & set(photo_arrays["source_test"])
    np.testing.assert_array_equal(
        deshuffle(photo_arrays["a"], photo_arrays["b"]), photo_arrays["orig_train"]
    )


def test_checkpoints_and_exact_resume(photo_arrays, tmp_path, monkeypatch):
    a, b = photo_arrays["a"], photo_arrays["b"]
    full = train(a, b, tmp_path / "full", _cfg(3))
    assert len(full.history) == 3
    assert (tmp_path / "full" / "best.pt").exists() and (
        tmp_path / "full" / "checkpoint.pt"
    ).exists()

    original = train_module.predict_log_probs
    interrupt_in_epoch(2, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        train(a, b, tmp_path / "cut", _cfg(3))
    monkeypatch.setattr(train_module, "predict_log_probs", original)
    with pytest.raises(ConvlensError, match="pass --resume"):
        train(a, b, tmp_path / "cut", _cfg(3))
    resumed = train(a, b, tmp_path / "cut", _cfg(3), resume=True)
    assert [h.epoch for h in resumed.history] == [1, 2, 3]
    m_full, _, _ = load_run(tmp_path / "full", "checkpoint.pt")
    m_cut, _, _ = load_run(tmp_path / "cut", "checkpoint.pt")
    for (k, v), w in zip(m_full.state_dict().items(), m_cut.state_dict().values(), strict=True):
        torch.testing.assert_close(v, w, msg=k)
    with pytest.raises(ConvlensError, match=r"different settings than the run \(epochs: 3 -> 4\)"):
        train(a, b, tmp_path / "cut", _cfg(4), resume=True)
    wider = dataclasses.replace(_cfg(3), model=dataclasses.replace(TINY, width=0.25))
    with pytest.raises(ConvlensError, match=r"\(model.width: 0.125 -> 0.25\)"):
        train(a, b, tmp_path / "cut", wider, resume=True)


class SeamOracle(nn.Module):
    """A 'network' whose logits are minus the seam costs of its (de-normalised) input."""

    def forward(self, x):
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        return -seam_costs((x * std + mean) * 255) / 5.0


def test_tta_maps_every_reshuffle_back_to_the_right_order(photo_arrays):
    # The seam costs of an arrangement do not depend on how the input was shuffled, so a
    # correct mapping makes all 24 views agree and TTA equals the plain prediction.
    x = photo_arrays["c"][:12]
    plain = predict_log_probs(SeamOracle(), x)
    tta = tta_log_probs(SeamOracle(), x)
    torch.testing.assert_close(tta, plain, atol=1e-3, rtol=1e-3)


def test_tta_on_the_device_equals_a_plain_loop_over_the_24_views(photo_arrays):
    """One batched pass re-shuffling each batch on the device gives what shuffling the whole
    set on the host 24 times and predicting each view gives, and its plain half is the
    network alone."""
    from convlens.jigsaw import shuffle
    from convlens.jigsaw.evaluation.inference import predict_with_tta
    from convlens.jigsaw.puzzle.permutations import COMPOSE

    torch.manual_seed(0)
    vgg = model_config(arch="vgg11_bn", head="orders", width=0.125, hidden=16, input_size=32)
    model = build_model(vgg).eval()  # not shuffle-invariant
    x = photo_arrays["c"][:10]
    total = torch.zeros(len(x), 24)
    for p in range(24):
        view = shuffle(x, np.repeat(PERMUTATIONS[p : p + 1], len(x), axis=0))
        total += predict_log_probs(model, view)[:, torch.from_numpy(COMPOSE[:, p])]
    loop = torch.log_softmax(total / 24, dim=1)
    plain, tta = predict_with_tta(model, x, batch_size=4)  # batches that do not divide 10
    torch.testing.assert_close(tta, loop, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(plain, predict_log_probs(model, x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "config",
    [
        model_config(arch="edgenet", width=0.125, hidden=16, input_size=64),
        model_config(arch="cfn", width=0.125, hidden=16, input_size=64, head="borders"),
        model_config(arch="cfn", width=0.125, hidden=16, input_size=64, head="seams"),
        model_config(arch="cfn", width=0.125, hidden=16, input_size=64, head="orders"),
        model_config(arch="vgg11_bn", width=0.125, hidden=16, input_size=64, head="seams"),
    ],
    ids=lambda c: f"{c.arch}-{getattr(c, 'head', 'seams')}",
)
def test_shuffle_invariant_exactly_where_tta_changes_nothing(config, photo_arrays):
    # Evaluation skips the 24 views where shuffle_invariant says they cannot change a score:
    # a random network of each kind must then agree with its TTA, and the others must not.
    torch.manual_seed(0)
    model = build_model(config).eval()
    x = make_jigsaw_arrays(bundled_photographs(), n_train=24, n_test=8, size=64, seed=1)["c"]
    plain, tta = predict_log_probs(model, x), tta_log_probs(model, x)
    same = torch.allclose(tta, plain, atol=1e-4, rtol=1e-4)
    assert same == shuffle_invariant(config)


def test_seam_score_solves_real_photographs(photo_arrays):
    costs = seam_costs(photo_arrays["c"])
    acc = (costs.argmin(1).numpy() == orders_to_classes(photo_arrays["d"])).mean()
    assert acc > 0.6  # training-free, on 32x32 crops (higher at 96x96)


def test_accuracy_against_a_plain_loop():
    rng = np.random.default_rng(0)
    true = PERMUTATIONS[rng.integers(0, 24, 50)]
    lp = torch.log_softmax(torch.randn(50, 24, generator=torch.Generator().manual_seed(0)), 1)
    acc = accuracy(lp, true)
    pred = PERMUTATIONS[lp.argmax(1).numpy()]
    images = sum(all(p[i] == t[i] for i in range(4)) for p, t in zip(pred, true, strict=True))
    tiles = sum(p[i] == t[i] for p, t in zip(pred, true, strict=True) for i in range(4))
    assert acc.image_correct == images and acc.quarter_correct == tiles
    restored, orders, prob = restore(np.zeros((50, 3, 4, 4), np.uint8), lp)
    np.testing.assert_array_equal(orders, pred)
    assert np.all((prob > 0) & (prob <= 1))


@pytest.mark.slow
def test_short_training_beats_chance_by_a_wide_margin(photo_arrays, tmp_path):
    data = make_jigsaw_arrays(bundled_photographs(), n_train=1200, n_test=240, size=32, seed=1)
    cfg = TrainConfig(
        epochs=6,  # 0.95 image-level here already; 12 took 25 s more of the test budget
        batch_size=64,
        lr=3e-3,
        precision="auto",  # bf16 only where the CPU runs it natively
        model=model_config(width=0.25, hidden=128, input_size=32),
        val_fraction=0.1,
    )
    train(data["a"], data["b"], tmp_path / "run", cfg)
    model, _, _ = load_run(tmp_path / "run")
    lp = predict_log_probs(model, data["c"])
    acc = accuracy(lp, data["d"])
    assert acc.image_accuracy > 0.25  # chance is 1/24 = 0.042
    assert acc.quarter_accuracy > 0.4  # chance is 0.25


def test_jigsaw_cli_train_evaluate_restore(photo_arrays, tmp_path, capsys):
    npz = tmp_path / "DataShuffled.npz"
    b = photo_arrays["b"].astype(np.float64)
    b[:5] = -1  # some images came without their permutation
    np.savez(npz, a=photo_arrays["a"], b=b, c=photo_arrays["c"], d=photo_arrays["d"])
    run = tmp_path / "run"
    args = ["--epochs", "1", "--width", "0.125", "--hidden", "16", "--precision", "fp32"]
    # 32x32 inputs need input_size 32: the CLI reads it from the data
    assert main(["jigsaw", "train", str(npz), "--out", str(run), *args]) == 0
    assert (
        main(
            ["jigsaw", "evaluate", str(run), str(npz), "--json", "--no-tta", "--out", str(tmp_path)]
        )
        == 0
    )
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    assert set(result["methods"]) == {"network", "seam", "network+seam"}
    assert result["n_test"] == 96
    assert (tmp_path / "jigsaw_examples.png").exists()
    restored = tmp_path / "restored.npz"
    assert (
        main(
            [
                "jigsaw",
                "restore",
                str(run),
                str(npz),
                "--out",
                str(restored),
                "--method",
                "seam",
                "--png",
                str(tmp_path),
            ]
        )
        == 0
    )
    r = np.load(restored)
    assert r["a"].shape == photo_arrays["a"].shape and r["b"].shape == (240, 4)
    np.testing.assert_array_equal(r["c"], deshuffle(photo_arrays["c"], r["d"]))
    assert load_npz(restored).train.labels.shape == (240, 4)  # the output reads back
    assert main(["jigsaw", "evaluate", str(tmp_path / "nope"), str(npz)]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_edgenet_logits_are_sums_of_seam_scores_by_a_plain_loop(photo_arrays):
    from convlens.jigsaw.networks.edgenet import EdgeNet

    torch.manual_seed(0)
    net = EdgeNet(width=0.25, border=4, hidden=8).eval()
    x = torch.from_numpy(photo_arrays["c"][:2]).float() / 255
    logits = net(x)
    h = x.shape[-1] // 2

    def tile(img, k):
        r, c = divmod(k, 2)
        return img[:, r * h : (r + 1) * h, c * h : (c + 1) * h]

    def score(strip, head):
        f = net.avgpool(net.features(strip[None])).flatten(1)
        return net.classifier(f)[0, head]

    for n in range(2):
        for cls, order in enumerate(PERMUTATIONS):
            slot = {int(order[i]): tile(x[n], i) for i in range(4)}  # restored position -> tile
            total = 0.0
            for a, b in [(0, 1), (2, 3)]:
                total += score(torch.cat([slot[a][:, :, -4:], slot[b][:, :, :4]], -1), 0)
            for a, b in [(0, 2), (1, 3)]:
                strip = torch.cat([slot[a][:, -4:, :], slot[b][:, :4, :]], -2).transpose(-1, -2)
                total += score(strip, 1)
            assert abs(float(logits[n, cls]) - float(total)) < 1e-4


def test_vgg11_bn_option_trains_through_the_cli(photo_arrays, tmp_path):
    npz = tmp_path / "d.npz"
    np.savez(npz, a=photo_arrays["a"][:64], b=photo_arrays["b"][:64])
    args = [
        "--arch",
        "vgg11_bn",
        "--epochs",
        "1",
        "--width",
        "0.125",
        "--hidden",
        "16",
        "--precision",
        "fp32",
    ]
    assert main(["jigsaw", "train", str(npz), "--out", str(tmp_path / "run"), *args]) == 0
    model, cfg, _ = load_run(tmp_path / "run")
    assert cfg.model.arch == "vgg11_bn" and model(torch.zeros(1, 3, 32, 32)).shape == (1, 24)


def test_batches_from_worker_processes_train_identically(photo_arrays, tmp_path):
    a, b = photo_arrays["a"][:96], photo_arrays["b"][:96]
    train(a, b, tmp_path / "w0", _cfg(1))
    train(a, b, tmp_path / "w2", _cfg(1, workers=2))
    m0, _, _ = load_run(tmp_path / "w0", "checkpoint.pt")
    m2, _, _ = load_run(tmp_path / "w2", "checkpoint.pt")
    for (k, v), w in zip(m0.state_dict().items(), m2.state_dict().values(), strict=True):
        torch.testing.assert_close(v, w, msg=k)


def test_fp16_is_refused_on_the_cpu(photo_arrays, tmp_path):
    with pytest.raises(ConvlensError, match="fp16 needs a CUDA device"):
        train(
            photo_arrays["a"][:48],
            photo_arrays["b"][:48],
            tmp_path / "r",
            TrainConfig(epochs=1, precision="fp16", model=TINY),
        )


def test_cfn_tile_embedding_depends_on_its_own_tile_only(photo_arrays):
    """Perturbing one quarter of a real photograph changes that quarter's embedding and no
    other: no convolution of the context-free network sees two tiles."""
    from convlens.jigsaw.evaluation.inference import normalise
    from convlens.jigsaw.networks.cfn import CFN

    torch.manual_seed(0)
    model = CFN(width=0.125, hidden=16, embed=8, gap=2).eval()
    x = normalise(torch.from_numpy(photo_arrays["orig_test"][:3]))
    before = model.tile_embeddings(x)
    for slot, (r, c) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        y = x.clone()
        y[:, :, r * 16 : (r + 1) * 16, c * 16 : (c + 1) * 16] += torch.randn(3, 3, 16, 16)
        after = model.tile_embeddings(y)
        changed = (after - before).abs().amax(dim=(0, 2)) > 1e-6
        assert changed.tolist() == [s == slot for s in range(4)], slot
    # tiles come out in slot order, cropped `gap` pixels inside each edge in eval mode
    tiles = CFN(width=0.125, gap=2, tile_norm=False).eval().tiles(x)
    torch.testing.assert_close(tiles[:, 1], x[:, :, 2:14, 18:30])
    torch.testing.assert_close(tiles[:, 2], x[:, :, 18:30, 2:14])


def test_cfn_defences_are_options(photo_arrays):
    from convlens.jigsaw.networks.cfn import CFN

    x = torch.from_numpy(photo_arrays["orig_test"][:2]).float() / 255
    normed = CFN(width=0.125, gap=0, tile_norm=True).eval().tiles(x)
    torch.testing.assert_close(normed.mean((3, 4)), torch.zeros(2, 4, 3), atol=1e-5, rtol=0)
    plain = CFN(width=0.125, gap=0, tile_norm=False).eval().tiles(x)
    assert plain.shape == (2, 4, 3, 16, 16)
    gray = CFN(width=0.125, gap=0, tile_norm=False, tile_gray=1.0).train().tiles(x)
    torch.testing.assert_close(gray[:, :, 0], gray[:, :, 1])  # every tile turned grey
    torch.manual_seed(0)
    crops = CFN(width=0.125, gap=3, tile_norm=False).train().tiles(x)
    assert crops.shape == (2, 4, 3, 10, 10)
    # each training crop is some window of its own tile
    t = plain[0, 0]
    windows = [t[:, i : i + 10, j : j + 10] for i in range(7) for j in range(7)]
    assert any(torch.equal(crops[0, 0], w) for w in windows)


@pytest.mark.parametrize(
    "model,epochs",
    [
        (model_config(arch="edgenet", width=0.25, hidden=128, input_size=32), 4),
        (model_config(arch="cfn", width=0.25, hidden=128, input_size=32, gap=2), 12),
    ],
    ids=["edgenet", "cfn"],
)
def test_each_architecture_learns_real_photo_puzzles(model, epochs, tmp_path):
    """A small model, half a minute of CPU training on crops of real photographs, clearly above
    chance (1/24) on held-out crops of those photographs. (VGG-11-BN over the whole image needs
    about 9,000 puzzles before it leaves chance, minutes rather than seconds: its evidence is
    benchmarks/bench_jigsaw.py --vgg-only.)"""
    data = make_jigsaw_arrays(bundled_photographs(), n_train=1392, n_test=24, size=32, seed=2)
    rows = np.random.default_rng(0).permutation(1392)
    fit, held = rows[:1200], rows[1200:]
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, precision="fp32", model=model)
    train(data["a"][fit], data["b"][fit], tmp_path / "run", cfg)
    net, _, _ = load_run(tmp_path / "run")
    acc = accuracy(predict_log_probs(net, data["a"][held]), data["b"][held])
    assert acc.image_accuracy > 3 / 24, acc  # chance is 1/24
    assert acc.quarter_accuracy > 0.35, acc  # chance is 0.25


def test_epoch_plan_puts_differently_shuffled_copies_side_by_side():
    from convlens.jigsaw.training.epoch_data import epoch_plan

    rng = np.random.default_rng(0)
    order, classes, params = epoch_plan(50, _cfg(shuffles=4), rng)
    assert len(order) == len(classes) == len(params) == 200
    groups = order.reshape(50, 4)
    assert (groups == groups[:, :1]).all() and sorted(groups[:, 0]) == list(range(50))
    assert all(len(set(c)) == 4 for c in classes.reshape(50, 4))  # four different orders
    assert (params.reshape(50, 4, -1) == params.reshape(50, 4, -1)[:, :1]).all()
    # one copy per image: every image once, the 24 orders equally often
    order, classes, _ = epoch_plan(48, _cfg(), np.random.default_rng(0))
    assert sorted(order) == list(range(48)) and (np.bincount(classes) == 2).all()


def test_blended_batches_keep_exact_labels_and_equal_a_plain_loop(photo_arrays):
    """mix=1: every training image is a blend of two restored photographs (own weight 0.5-1),
    shuffled by its label; a plain loop over the images, with the exam's de-shuffling, gives
    the same batch back."""
    from convlens.data.transforms import normalize
    from convlens.jigsaw.training.epoch_data import EpochBatches, augment, epoch_plan

    originals = torch.from_numpy(deshuffle(photo_arrays["a"][:40], photo_arrays["b"][:40]))
    cfg = _cfg(mix=1.0, crop_scale=0.6)
    order, classes, params = epoch_plan(len(originals), cfg, np.random.default_rng(3))
    assert params.shape[1] == 9 and (params[:, 8] >= 0.5).all() and (params[:, 8] < 1).all()
    assert (params[:, 7] != np.arange(40)[order]).any()  # partners are other images
    x, y = EpochBatches(originals, order, classes, params, [np.arange(40)])[0]
    for i in range(40):
        own = originals[order[i]].float() / 255
        partner = originals[int(params[i, 7])].float() / 255
        blended = params[i, 8] * own + (1 - params[i, 8]) * partner
        expected = normalize(augment(blended[None], params[i : i + 1]))[0]
        restored = deshuffle(x[i : i + 1].numpy(), PERMUTATIONS[y[i : i + 1].numpy()])[0]
        np.testing.assert_allclose(restored, expected.numpy(), atol=1e-5)


def test_cli_takes_the_recipe_of_the_arch_and_flags_override_it(photo_arrays, tmp_path):
    npz = tmp_path / "d.npz"
    np.savez(npz, a=photo_arrays["a"][:64], b=photo_arrays["b"][:64])
    args = ["--arch", "cfn", "--epochs", "1", "--width", "0.125", "--hidden", "16"]
    args += ["--gap", "2", "--no-tile-norm", "--tile-gray", "0.5", "--precision", "fp32"]
    args += ["--crop-scale", "0.5", "--mix", "0.25", "--ema-epochs", "1.5"]
    assert main(["jigsaw", "train", str(npz), "--out", str(tmp_path / "run"), *args]) == 0
    model, cfg, _ = load_run(tmp_path / "run")
    assert (cfg.crop_scale, cfg.mix, cfg.ema_epochs) == (0.5, 0.25, 1.5)
    assert (cfg.model.arch, cfg.model.gap, cfg.model.tile_norm, cfg.model.tile_gray) == (
        "cfn",
        2,
        False,
        0.5,
    )
    assert (model.gap, model.tile_norm, model.tile_gray) == (2, False, 0.5)
    from convlens.jigsaw.training.recipes import RECIPES

    assert (cfg.batch_size, cfg.lr) == (RECIPES["cfn"].batch_size, RECIPES["cfn"].lr)
