"""Two gloo processes on the CPU take the same steps as one process with the same global batch."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs
from convlens.jigsaw.training.checkpoint import load_run

ARGS = [
    "--arch",
    "vgg11",
    "--width",
    "0.125",
    "--hidden",
    "16",
    "--dropout",
    "0",
    "--epochs",
    "2",
    "--batch-size",
    "16",
    "--precision",
    "fp32",
    "--device",
    "cpu",
    "--val-fraction",
    "0.1",
]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", CONVLENS_OFFLINE="1")
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    return env


def _jigsaw_npz(tmp_path, n_test: int):
    """Exam-format puzzles from real photographs; 71 training images leave 64 after the
    validation split, so every global batch of 16 divides between two ranks."""
    data = make_jigsaw_arrays(bundled_photographs(), n_train=71, n_test=n_test, size=32, seed=0)
    npz = tmp_path / "d.npz"
    np.savez(npz, a=data["a"], b=data["b"], c=data["c"], d=data["d"])
    return npz


def _train_command(npz, out) -> list[str]:
    return [sys.executable, "-m", "convlens", "jigsaw", "train", str(npz), "--out", str(out), *ARGS]


def _one_process_and_two_ranks(module_args: list[str], port: int) -> tuple[dict, dict]:
    """The JSON a command prints run alone and under torchrun with two gloo ranks."""
    one = subprocess.run([sys.executable, *module_args], env=_env(), capture_output=True, text=True)
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(port),
            *module_args,
        ],
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    return (
        json.loads(one.stdout[one.stdout.index("{") :]),
        json.loads(two.stdout[two.stdout.index("{") :]),
    )


@pytest.mark.slow
def test_two_gloo_ranks_equal_one_process(tmp_path):
    npz = _jigsaw_npz(tmp_path, n_test=8)
    single = _train_command(npz, tmp_path / "one")
    subprocess.run(single, check=True, env=_env(), capture_output=True)
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        "29533",
    ]
    ddp = [*torchrun, *_train_command(npz, tmp_path / "two")[1:]]  # without the interpreter
    proc = subprocess.run(ddp, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    one, _, _ = load_run(tmp_path / "one", "checkpoint.pt")
    two, _, ckpt = load_run(tmp_path / "two", "checkpoint.pt")  # loads in a single process
    assert int(ckpt["epoch"]) == 1
    for (k, a), b in zip(one.state_dict().items(), two.state_dict().values(), strict=True):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, atol=2e-4, rtol=2e-3, msg=k)
    # --resume works in a single process from the checkpoint the two ranks wrote
    resume = [*_train_command(npz, tmp_path / "two"), "--resume"]
    out = subprocess.run(resume, env=_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_entry_points_run_on_cuda():
    from convlens.explain import guided_backprop, saliency
    from convlens.models import vgg11
    from convlens.uncertainty import mc_dropout

    model = vgg11(num_classes=5, input_size=32, hidden=16).cuda().eval()
    x = torch.randn(2, 3, 32, 32, device="cuda")
    assert saliency(model, x, 1).is_cuda
    assert guided_backprop(model, x, [0, 1]).is_cuda
    assert mc_dropout(model, x, samples=4).mean.shape == (2, 5)


@pytest.mark.slow
def test_probe_features_sharded_over_two_ranks_match_one_process(tmp_path):
    from convlens.demo.normal_data import make_digits_normal
    from convlens.jigsaw.networks.configs import model_config
    from convlens.jigsaw.training.config import TrainConfig
    from convlens.jigsaw.training.train import train

    jig = make_jigsaw_arrays(bundled_photographs(), n_train=48, n_test=8, size=32, seed=0)
    cfg = TrainConfig(
        epochs=1,
        batch_size=16,
        precision="fp32",
        model=model_config(width=0.125, hidden=16, input_size=32),
    )
    train(jig["a"], jig["b"], tmp_path / "run", cfg)
    normal = make_digits_normal(size=32)
    npz = tmp_path / "DataNormal.npz"
    np.savez(npz, a=normal["a"][:101], b=normal["b"][:101], c=normal["c"][:37], d=normal["d"][:37])
    probe = [
        "-m",
        "convlens",
        "probe",
        str(tmp_path / "run"),
        str(npz),
        "--json",
        "--device",
        "cpu",
    ]
    a, b = _one_process_and_two_ranks(probe, port=29534)
    assert a["table"] == b["table"]  # same numbers: the gathered rows are in order


@pytest.mark.slow
def test_jigsaw_evaluate_sharded_over_two_ranks_matches_one_process(tmp_path):
    npz = _jigsaw_npz(tmp_path, n_test=29)
    subprocess.run(
        _train_command(npz, tmp_path / "run"), check=True, env=_env(), capture_output=True
    )
    ev = [
        "-m",
        "convlens",
        "jigsaw",
        "evaluate",
        str(tmp_path / "run"),
        str(npz),
        "--json",
        "--device",
        "cpu",
    ]
    a, b = _one_process_and_two_ranks(ev, port=29535)
    assert a["methods"] == b["methods"] and a["seam_weight"] == b["seam_weight"]
