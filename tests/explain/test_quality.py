"""Deletion/insertion and the randomisation sanity check, on a really trained digits model."""

import numpy as np
import torch
from scipy import stats

from convlens.explain import guided_backprop, saliency
from convlens.explain.blur import gaussian_blur
from convlens.explain.deletion import deletion_insertion, deletion_insertion_curves
from convlens.explain.randomisation import randomisation_check, spearman_rows


def test_deletion_curve_matches_a_plain_loop(digits_model):
    model, data = digits_model
    x, t = data.x_test[:2], data.y_test[:2]
    maps = saliency(model, x, t)
    out = deletion_insertion(model, x, maps, t, steps=8)
    for i in range(2):
        order = np.argsort(-maps[i].flatten().numpy(), kind="stable")
        for s in range(9):
            img = x[i].clone().flatten(1)
            img[:, order[: round(32 * 32 * s / 8)]] = 0
            with torch.no_grad():
                p = torch.softmax(model(img.view(1, 1, 32, 32)), 1)[0, t[i]].item()
            assert abs(out["deletion"][i, s].item() - p) < 1e-5
    assert out["deletion"].shape == (2, 9) and out["deletion_auc"].shape == (2,)
    # insertion starts at the blurred image and ends at the original
    with torch.no_grad():
        p_full = torch.softmax(model(x), 1)[torch.arange(2), t]
    torch.testing.assert_close(out["insertion"][:, -1], p_full, atol=1e-5, rtol=0)


def test_saliency_deletion_beats_a_random_map(digits_model):
    model, data = digits_model
    x, t = data.x_test[:24], data.y_test[:24]
    ours = deletion_insertion(model, x, saliency(model, x, t), t, steps=16)
    random_map = torch.rand(x.shape[0], 32, 32, generator=torch.Generator().manual_seed(0))
    rand = deletion_insertion(model, x, random_map, t, steps=16)
    assert ours["deletion_auc"].mean() < rand["deletion_auc"].mean() - 0.05
    assert ours["insertion_auc"].mean() > rand["insertion_auc"].mean()


def test_randomisation_changes_saliency_maps(digits_model):
    model, data = digits_model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, t = data.x_test[:6], data.y_test[:6]
    result = randomisation_check(
        model, x, t, {"saliency": saliency, "guided_backprop": guided_backprop}, seed=0
    )
    rows = result["rows"]
    assert result["layers"][0] == "classifier.6"  # from the top down
    assert len(rows) == 8  # 5 convolutions + 3 linear layers
    assert rows[-1]["saliency"] < 0.5  # fully randomised: the maps no longer agree
    assert rows[-1]["saliency"] < rows[0]["saliency"]
    # the model itself was not touched
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_spearman_rows_against_scipy():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.rand(3, 5, 5, generator=gen), torch.rand(3, 5, 5, generator=gen)
    ours = spearman_rows(a, b)
    for i in range(3):
        assert abs(ours[i] - stats.spearmanr(a[i].flatten(), b[i].flatten()).statistic) < 1e-12
    # a constant map (randomised weights can leave one all zero) is NaN, left out of the means,
    # without scipy's warning reaching the user
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = spearman_rows(torch.zeros(2, 5, 5), b[:2])
    assert np.isnan(rows).all()


def test_curves_of_several_maps_equal_one_map_at_a_time(digits_model):
    """The batched, de-duplicated path against the old per-image, per-map loop."""
    model, data = digits_model
    x, t = data.x_test[:5], data.y_test[:5]
    gen = torch.Generator().manual_seed(1)
    maps = {"saliency": saliency(model, x, t), "random": torch.rand(5, 32, 32, generator=gen)}
    together = deletion_insertion_curves(model, x, maps, t, steps=6, max_batch=7)
    blurred = gaussian_blur(x, 5.0)
    for name, m in maps.items():
        order = m.flatten(1).argsort(dim=1, descending=True)
        for i in range(5):
            for s in range(7):
                chosen = torch.zeros(32 * 32)
                chosen[order[i, : round(32 * 32 * s / 6)]] = 1
                chosen = chosen.view(1, 32, 32)
                frames = torch.stack(
                    [x[i] * (1 - chosen), blurred[i] * (1 - chosen) + x[i] * chosen]
                )
                with torch.no_grad():
                    p = torch.softmax(model(frames), 1)[:, t[i]]
                assert abs(together[name]["deletion"][i, s] - p[0]) < 1e-5
                assert abs(together[name]["insertion"][i, s] - p[1]) < 1e-5
    # the map-free endpoints are shared: the same numbers in both maps' curves
    for kind, s in (("deletion", 0), ("deletion", 6), ("insertion", 0), ("insertion", 6)):
        a, b = together["saliency"][kind][:, s], together["random"][kind][:, s]
        assert torch.equal(a, b)


def test_randomisation_reuses_given_originals(digits_model):
    model, data = digits_model
    x, t = data.x_test[:4], data.y_test[:4]
    methods = {"saliency": saliency}
    plain = randomisation_check(model, x, t, methods, seed=0, max_layers=3)
    given = randomisation_check(
        model, x, t, methods, seed=0, max_layers=3, originals={"saliency": saliency(model, x, t)}
    )
    assert plain == given
    # originals that are not the model's maps change every correlation
    wrong = randomisation_check(
        model, x, t, methods, seed=0, max_layers=3, originals={"saliency": torch.rand(4, 32, 32)}
    )
    assert all(
        abs(a["saliency"] - b["saliency"]) > 1e-3
        for a, b in zip(plain["rows"], wrong["rows"], strict=True)
    )
