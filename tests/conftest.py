import os
import sys
from pathlib import Path

import pytest
import torch

# The helpers beside this file (fabricated, oracles, interrupt, bad_input) import by name from
# every folder of the tree, which mirrors the package.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Tests never touch the network: known checkpoints are never downloaded.
os.environ["CONVLENS_OFFLINE"] = "1"
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

# The exam's real folder lives in shared/ beside the checkout; CONVLENS_PROBLEM2 overrides it.
PROBLEM2 = Path(
    os.environ.get("CONVLENS_PROBLEM2")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "problem2"
)


@pytest.fixture(scope="session")
def problem2_dir() -> Path:
    if not (PROBLEM2 / "val.txt").exists():
        pytest.skip(f"the exam's problem2 folder is not at {PROBLEM2}")
    return PROBLEM2


@pytest.fixture(scope="session")
def digits_model():
    """A really trained VGG-style classifier on real handwritten digits (about 10 s)."""
    from convlens.demo.digits import train_digits_classifier

    model, data, metrics = train_digits_classifier(seed=0)
    assert metrics["test_accuracy"] > 0.9
    return model, data


@pytest.fixture(scope="session")
def photo_arrays():
    """Exam-format data from real photographs, 32x32 crops, split by photograph."""
    from convlens.demo.jigsaw_data import make_jigsaw_arrays
    from convlens.demo.photos import bundled_photographs

    return make_jigsaw_arrays(bundled_photographs(), n_train=240, n_test=96, size=32, seed=0)


@pytest.fixture(scope="session")
def normal():
    """Exam-format labelled images for the probe: real handwritten digits, 32 x 32."""
    from convlens.demo.normal_data import make_digits_normal

    return make_digits_normal(size=32, seed=0)
