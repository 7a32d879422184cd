"""convlens.jigsaw.networks.cfn: each tile alone through the trunk, and its defences against
shortcuts as options."""

import torch


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
