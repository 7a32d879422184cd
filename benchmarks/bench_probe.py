"""The Problem 3c comparison on real images available offline: a de-shuffling network trained
on photographs (skimage, scikit-learn, matplotlib and ../shared/data/problem2), then k-NN
(k = 3), cosine k-NN and a linear probe on scikit-learn's handwritten digits (upscaled to the
network's 96x96 input) for raw pixels, the trained network's features and a random network."""

import tempfile
import time
from pathlib import Path

from common import PROBLEM2, header

from convlens.demo.jigsaw_data import collect_photographs, make_jigsaw_arrays
from convlens.demo.normal_data import make_digits_normal
from convlens.jigsaw.config import TrainConfig
from convlens.jigsaw.data import NpzData, Split
from convlens.jigsaw.train import train
from convlens.probe.workflow import probe_run


def main(n_train: int = 3000, epochs: int = 3) -> None:
    photos = collect_photographs([PROBLEM2 / "validation_images", PROBLEM2 / "test_images"])
    jig = make_jigsaw_arrays(photos, n_train=n_train, n_test=100, seed=0)
    digits = make_digits_normal(size=96, seed=0)
    normal = NpzData(
        Split(digits["a"], digits["b"]), Split(digits["c"], digits["d"]), "digits", "uint8"
    )
    header(f"k-NN probe: network trained {epochs} epochs on {n_train} photograph puzzles")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train(jig["a"], jig["b"], Path(tmp) / "run", TrainConfig(epochs=epochs), progress=False)
        print(f"training: {(time.perf_counter() - start) / 60:.1f} min")
        result = probe_run(Path(tmp) / "run", normal, k=3, progress=False)
    print(
        f"{'features':22s} {'dim':>6s} {'k-NN k=3':>9s} {'cosine':>7s} {'linear':>7s}"
        f"   ({result['n_train']} train / {result['n_test']} test digits)"
    )
    base = result["table"][0]["knn3"]
    for row in result["table"]:
        print(
            f"{row['features']:22s} {row['dim']:6d} {row['knn3']:9.3f} {row['cosine_knn3']:7.3f} "
            f"{row['linear']:7.3f}   k-NN x{row['knn3'] / base:4.2f} of raw pixels"
        )


if __name__ == "__main__":
    main()
