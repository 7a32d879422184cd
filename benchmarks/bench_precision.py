"""Is bf16 worth it on this machine, and channels_last in fp32? One training step (forward,
backward, AdamW) of each of the report's de-shuffling networks, as their recipes build them, on
a batch of 32: fp32 in the contiguous layout (the naive baseline), fp32 with channels_last (what
training uses on a CPU), bf16 autocast with channels_last, in the same run, and what
`--precision auto` picks here."""

import torch
from common import best_of, cpu_kind, header

from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.training.recipes import NETWORKS, recipe
from convlens.runtime import autocast, resolve_precision


def step_seconds(arch: str, precision: str, channels_last: bool = True) -> float:
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    cfg = recipe(arch).model
    model = build_model(cfg)
    x = torch.randn(32, 3, cfg.input_size, cfg.input_size)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters())

    def step() -> None:
        optimizer.zero_grad()
        with autocast(cpu, precision):
            out = model(x)
        out.float().sum().backward()
        optimizer.step()

    return best_of(step, repeats=3)


def main() -> None:
    header("one training step per recipe network, batch 32: layouts and precisions")
    print(cpu_kind())
    for arch in NETWORKS:
        plain = step_seconds(arch, "fp32", channels_last=False)
        fp32, bf16 = step_seconds(arch, "fp32"), step_seconds(arch, "bf16")
        print(
            f"{arch:9s} fp32 contiguous {plain:6.3f} s   fp32 channels_last {fp32:6.3f} s"
            f" (x{plain / fp32:4.2f})   bf16 {bf16:6.3f} s (x{fp32 / bf16:4.2f} the speed of"
            " fp32 channels_last)"
        )
    print(f"--precision auto picks {resolve_precision(torch.device('cpu'), 'auto')} on this CPU")


if __name__ == "__main__":
    main()
