"""Option groups and value types shared by the subcommands, so every command spells them the same
way and refuses a bad value while parsing, before any work or any file is created."""

import argparse
import contextlib
import math
import os
from pathlib import Path

from convlens.errors import ConvlensError
from convlens.runtime import PRECISIONS

MAX_SEED = 2**32 - 1  # numpy's legacy seeding, which code we do not own may use, stops here


def _number(text: str, kind, what: str, ok) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
    return value


def count(lo: int, hi: int, unit: str = ""):
    """A parse-time type for an integer in lo..hi: every count and size a command takes has an
    upper bound, so a typo (20000 px, a billion samples) is one line instead of a 4.8 GB
    allocation or a 352-hour progress bar."""

    def parse(text: str) -> int:
        what = f"an integer in {lo}..{hi:,}" + (f" ({unit})" if unit else "")
        return _number(text, int, what, lambda v: lo <= v <= hi)

    return parse


def amount(hi: float, zero: bool = False):
    """A parse-time type for a finite number in (0, hi] (or [0, hi] where `zero`)."""

    def parse(text: str) -> float:
        low = "0 <= x" if zero else "0 < x"
        return _number(
            text,
            float,
            f"a finite number with {low} <= {hi:g}",
            lambda v: math.isfinite(v) and (v >= 0 if zero else v > 0) and v <= hi,
        )

    return parse


# The bounds: generous for any real use on a laptop or a GPU, far below what exhausts either.
MAX_SIDE = 1024  # pixels of a class model's side (VGG16 at 1024 px: ~0.3 GB a layer, an image)
MAX_BATCH = 4096
MAX_SAMPLES = 10_000  # Monte Carlo dropout's samples
MAX_SMOOTHGRAD = 1_000
MAX_STEPS = 10_000  # gradient-ascent steps of a class model
MAX_CURVE_POINTS = 1_000  # points on a deletion/insertion curve
MAX_CLASSES = 100_000  # class ids, top-k, classes drawn, neighbours, layers

batch_size = count(1, MAX_BATCH, "images per batch")
mc_samples = count(2, MAX_SAMPLES, "Monte Carlo samples; two at least, to spread")
image_side = count(32, MAX_SIDE, "pixels; VGG pools five times, so 32 at least")


def positive_int(text: str) -> int:
    return _number(text, int, "an integer >= 1", lambda v: v >= 1)


def nonnegative_int(text: str) -> int:
    return _number(text, int, "an integer >= 0", lambda v: v >= 0)


def seed(text: str) -> int:
    return _number(text, int, f"an integer in 0..{MAX_SEED}", lambda v: 0 <= v <= MAX_SEED)


def positive_float(text: str) -> float:
    return _number(text, float, "a finite number > 0", lambda v: math.isfinite(v) and v > 0)


def nonnegative_float(text: str) -> float:
    return _number(text, float, "a finite number >= 0", lambda v: math.isfinite(v) and v >= 0)


def out_folder(text: str) -> Path:
    """A folder to write into: it may not exist yet, but it must not be a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file; expected a folder")
    return path


class OutputPath(type(Path())):
    """A path the command writes (`out_file`), told apart from the paths it reads."""


def out_file(text: str) -> Path:
    """A file to write: it may exist (it is replaced), but it must not be a folder."""
    path = OutputPath(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; expected a file name")
    if path.parent.exists() and not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{path.parent} is a file; expected a folder")
    return path


def add_seed(p) -> None:
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")


def runtime_of(args, distributed=None):
    """The Runtime that --device (and --precision, where the command has one) name, with
    progress bars (on rank 0 of `distributed`)."""
    from convlens.runtime import Runtime

    return Runtime.of(args.device, getattr(args, "precision", "fp32"), True, distributed)


@contextlib.contextmanager
def runtime_from(args, *, torchrun: bool = False):
    """runtime_of(args); with `torchrun`, the process group torchrun describes is joined for
    the block and left afterwards (a single process without torchrun)."""
    from convlens.distributed import from_environment, shutdown

    distributed = from_environment(args.device) if torchrun else None
    try:
        yield runtime_of(args, distributed)
    finally:
        if torchrun:
            shutdown()


def print_json(obj) -> None:
    from convlens import strict_json

    print(strict_json.dumps(obj, indent=2))


def add_device(g, precision_default: str = "fp32") -> None:
    g.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    g.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=precision_default,
        help="fp32; bf16 autocast with channels_last; fp16 (CUDA); or auto: bf16 where the "
        f"hardware runs it natively, else fp32 (default {precision_default})",
    )


def add_output(p, out_help: str = "folder for CSV files and figures") -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--out", type=out_folder, default=None, help=out_help)


def check_outputs_spare_inputs(args) -> None:
    """Before any work: no file the command writes may be a file it reads, however either is
    spelled (another relative path, a symbolic or hard link)."""
    values = []
    for v in vars(args).values():
        values.extend(v if isinstance(v, list | tuple) else [v])
    outputs = [v for v in values if isinstance(v, OutputPath) and v.exists()]
    inputs = [
        Path(v)
        for v in values
        if isinstance(v, str | Path) and not isinstance(v, OutputPath) and Path(v).is_file()
    ]
    for out in outputs:
        for path in inputs:
            if os.path.samefile(out, path):
                raise ConvlensError(
                    f"{out}: is the input {path}; writing the output there would destroy it, "
                    "so choose another output name"
                )
