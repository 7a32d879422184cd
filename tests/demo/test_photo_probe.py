import numpy as np

from convlens.demo import photo_probe
from convlens.demo.photos import bundled_photographs


def test_probe_classes_and_puzzles_come_from_different_photographs(problem2_dir):
    from convlens.demo.jigsaw_data import collect_photographs

    photos = collect_photographs([problem2_dir / "validation_images", problem2_dir / "test_images"])
    probe, puzzles = photo_probe.split_photographs(photos, n_classes=40, seed=0)
    assert len(probe) == 40 and not set(probe) & set(puzzles)
    assert len(probe) + len(puzzles) == len(photos)


def test_train_and_test_crops_never_share_a_pixel(monkeypatch):
    """Every crop is cut from a view of its photograph: the views given for training and for
    testing one class must not overlap in memory, i.e. come from disjoint regions."""
    photos = dict(list(bundled_photographs().items())[:4])
    seen = []
    original = photo_probe.random_crops

    def recording(region, n, size, rng, **kw):
        seen.append(region)
        return original(region, n, size, rng, **kw)

    monkeypatch.setattr(photo_probe, "random_crops", recording)
    data = photo_probe.make_photo_probe(photos, n_train=5, n_test=3, size=32, seed=0)
    assert data["a"].shape == (20, 3, 32, 32) and data["c"].shape == (12, 3, 32, 32)
    assert np.bincount(data["b"]).tolist() == [5] * 4 and np.bincount(data["d"]).tolist() == [3] * 4
    for c in range(4):  # per class: two training quarters, then the test half
        q1, q2, test = seen[3 * c : 3 * c + 3]
        assert not np.shares_memory(test, q1) and not np.shares_memory(test, q2)
        assert not np.shares_memory(q1, q2)
    regions = data["source_train"]
    assert len(np.unique(regions)) == 8  # two regions per class, for the validation split
    from convlens.probe.selection import validation_split

    fit, val = validation_split(data["b"], seed=0, groups=regions)
    assert not set(regions[fit]) & set(regions[val])  # a region is either fitted or validated
    assert sorted(set(data["b"][val])) == [0, 1, 2, 3]
