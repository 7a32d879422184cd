import os
from pathlib import Path

import pytest
import torch

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
