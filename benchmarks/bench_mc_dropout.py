"""MC dropout on VGG16, T = 50: convlens (prefix once, batched head) against T naive full
passes and, when installed, Baal's MCDropoutModule and its MCCachingModule; then both again
while a second process keeps the other core busy with matrix products."""

import copy
import subprocess
import sys
import time

import torch
from common import header

from convlens.models import vgg16
from convlens.uncertainty import mc_dropout
from convlens.uncertainty.mc_dropout import naive_mc_dropout_samples

T = 50


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def baal_runner(model):
    try:
        from baal.bayesian.caching_utils import MCCachingModule
        from baal.bayesian.dropout import MCDropoutModule
    except ImportError:
        return None, None

    def plain(x):
        wrapped = MCDropoutModule(copy.deepcopy(model)).eval()
        with torch.no_grad():
            for _ in range(T):
                wrapped(x)

    def caching(x):
        wrapped = MCCachingModule(MCDropoutModule(copy.deepcopy(model))).eval()
        with torch.no_grad():
            for _ in range(T):
                wrapped(x)

    return plain, caching


def main() -> None:
    torch.manual_seed(0)
    model = vgg16().eval()
    baal_plain, baal_caching = baal_runner(model)
    for batch in (1, 8):
        compare(model, batch, baal_plain, baal_caching)
    under_load(model)


BUSY = """
import torch
torch.set_num_threads(1)
a = torch.randn(1500, 1500)
while True:
    a @ a
"""


def under_load(model, batch: int = 1) -> None:
    header(f"MC dropout on VGG16, T = {T}, batch {batch}, a second process busy on one core")
    x = torch.randn(batch, 3, 224, 224)
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(2)
        ours = [timed(lambda: mc_dropout(model, x, samples=T))]
        naive = timed(lambda: naive_mc_dropout_samples(model, x, T))
        ours.append(timed(lambda: mc_dropout(model, x, samples=T)))
    finally:
        busy.kill()
    worst = max(ours)  # the slower of the runs before and after the naive loop
    print(f"naive T full passes      {naive:7.2f} s")
    print(
        f"convlens prefix once     {worst:7.2f} s  (slower of two runs; other {min(ours):.2f} s)"
        f"  x{naive / worst:5.1f} faster than naive"
    )


def compare(model, batch: int, baal_plain, baal_caching) -> None:
    header(f"MC dropout on VGG16, T = {T}, batch {batch}, fp32")
    x = torch.randn(batch, 3, 224, 224)
    mc_dropout(model, x[:1], samples=2)  # warm-up (and the one-off split check)
    ours = timed(lambda: mc_dropout(model, x, samples=T))
    naive = timed(lambda: naive_mc_dropout_samples(model, x, T))
    print(f"naive T full passes      {naive:7.2f} s  ({naive / batch:6.2f} s per image)")
    print(
        f"convlens prefix once     {ours:7.2f} s  ({ours / batch:6.2f} s per image)  "
        f"x{naive / ours:5.1f} faster than naive"
    )
    if baal_plain is None:
        print("Baal is not installed: `make bench` installs it (benchmark-only)")
        return
    bp, bc = timed(lambda: baal_plain(x)), timed(lambda: baal_caching(x))
    print(f"Baal MCDropoutModule     {bp:7.2f} s  convlens x{bp / ours:5.1f} faster")
    print(f"Baal MCCachingModule     {bc:7.2f} s  convlens x{bc / ours:5.1f} faster")


if __name__ == "__main__":
    main()
