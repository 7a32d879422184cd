"""`convlens probe` end to end."""

import json

import numpy as np

from convlens.cli import main
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.puzzle.data import load_npz
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train

CFG = model_config(width=0.125, hidden=32, input_size=32)


def test_probe_cli(normal, tmp_path, capsys):
    from convlens.demo.jigsaw_data import make_jigsaw_arrays
    from convlens.demo.photos import bundled_photographs

    jig = make_jigsaw_arrays(bundled_photographs(), n_train=96, n_test=24, size=32)
    train(
        jig["a"],
        jig["b"],
        tmp_path / "run",
        TrainConfig(epochs=1, batch_size=32, precision="fp32", model=CFG),
    )
    npz = tmp_path / "DataNormal.npz"
    np.savez(npz, **normal)
    assert load_npz(npz, kind="classes").train.labels.dtype == np.int64
    assert main(["probe", str(tmp_path / "run"), str(npz), "--json", "--out", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    names = [r["features"] for r in result["table"]]
    assert names == ["raw pixels", "de-shuffling network", "random network"]
    assert (tmp_path / "probe_embedding.png").exists()
    bad = tmp_path / "bad.npz"
    np.savez(bad, a=normal["a"], b=normal["b"][:-1], c=normal["c"], d=normal["d"])
    assert main(["probe", str(tmp_path / "run"), str(bad)]) == 2
    assert "key 'b'" in capsys.readouterr().err
