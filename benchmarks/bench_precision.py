"""Is bf16 worth it on this machine? One training step (forward and backward) of each of the
report's de-shuffling networks, as their recipes build them, on a batch of 32: fp32 against
bf16 autocast with channels_last, in the same run, and what `--precision auto` picks here."""

import torch
from common import best_of, cpu_kind, header

from convlens.jigsaw.model import build_model
from convlens.jigsaw.recipes import NETWORKS, recipe
from convlens.runtime import autocast, resolve_precision


def step_seconds(arch: str, precision: str) -> float:
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    cfg = recipe(arch).model
    model = build_model(cfg)
    x = torch.randn(32, 3, cfg.input_size, cfg.input_size)
    if precision != "fp32":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step() -> None:
        with autocast(cpu, precision):
            out = model(x)
        out.float().sum().backward()

    return best_of(step, repeats=2)


def main() -> None:
    header("one training step per recipe network, batch 32: fp32 vs bf16 autocast")
    print(cpu_kind())
    for arch in NETWORKS:
        fp32, bf16 = step_seconds(arch, "fp32"), step_seconds(arch, "bf16")
        print(
            f"{arch:9s} fp32 {fp32:6.3f} s   bf16 {bf16:6.3f} s   "
            f"bf16 is x{fp32 / bf16:4.2f} the speed of fp32"
        )
    print(f"--precision auto picks {resolve_precision(torch.device('cpu'), 'auto')} on this CPU")


if __name__ == "__main__":
    main()
