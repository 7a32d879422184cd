"""Does preparing training batches in worker processes help or hurt on this CPU? One epoch of
EdgeNet training with the batches built in the main process (the default) against one worker
process, same data, same seed (the two runs end with identical weights)."""

import tempfile
import time
from pathlib import Path

from common import header

from convlens.demo.jigsaw_data import collect_photographs, make_jigsaw_arrays
from convlens.jigsaw.training.config import TrainConfig
from convlens.jigsaw.training.train import train


def main(n: int = 2000) -> None:
    arrays = make_jigsaw_arrays(collect_photographs(), n_train=n, n_test=10, seed=0)
    header(f"one training epoch on {n} puzzles: batches in the main process vs a worker")
    times = {}
    for workers in (0, 1):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            train(
                arrays["a"], arrays["b"], Path(tmp) / "run", TrainConfig(epochs=1, workers=workers)
            )
            times[workers] = time.perf_counter() - start
        print(f"workers={workers}: {times[workers]:6.1f} s")
    print(f"one worker / main process: x{times[1] / times[0]:.2f} of the time (below 1 = faster)")


if __name__ == "__main__":
    main()
