"""The demo's puzzles take the exam's problem2 photographs whether they come as a folder or as
problem2.zip (a zip used to add none: the demo then cut its puzzles from the 12 bundled
photographs alone, and its networks learned those few and did not generalise)."""

import shutil

import numpy as np

from convlens.problem3.inputs import problem2_photographs


def test_a_zip_gives_the_folders_photographs(problem2_dir, tmp_path):
    folder = problem2_photographs(problem2_dir)
    archive = shutil.make_archive(
        str(tmp_path / "problem2"), "zip", problem2_dir.parent, "problem2"
    )
    zipped = problem2_photographs(tmp_path / "problem2.zip")
    assert archive.endswith("problem2.zip")
    assert len(folder) == len(list((problem2_dir / "validation_images").iterdir())) + len(
        list((problem2_dir / "test_images").iterdir())
    )
    assert sorted(zipped) == sorted(folder)
    for name, photo in folder.items():
        assert photo.ndim == 3 and photo.shape[2] == 3
        np.testing.assert_array_equal(zipped[name], photo)
    assert problem2_photographs(None) == {}
