"""Is bf16 worth it on this machine? One training step (forward and backward) of the default
jigsaw network on a batch of 64 96x96 images, fp32 against bf16 autocast with channels_last,
in the same run, and what `--precision auto` picks here."""

import torch
from common import best_of, header

from convlens.jigsaw.config import ModelConfig
from convlens.jigsaw.model import build_model
from convlens.runtime import autocast, resolve_precision


def main() -> None:
    cpu = torch.device("cpu")
    header("one jigsaw training step, batch 64 at 96x96: fp32 vs bf16 autocast")
    torch.manual_seed(0)
    model = build_model(ModelConfig())
    x = torch.randn(64, 3, 96, 96)

    def step(precision: str, net, inputs) -> None:
        with autocast(cpu, precision):
            out = net(inputs)
        out.float().sum().backward()

    fp32 = best_of(lambda: step("fp32", model, x), repeats=2)
    cl_model = build_model(ModelConfig()).to(memory_format=torch.channels_last)
    cl_x = x.contiguous(memory_format=torch.channels_last)
    bf16 = best_of(lambda: step("bf16", cl_model, cl_x), repeats=2)
    print(
        f"fp32 {fp32:6.2f} s   bf16 {bf16:6.2f} s   bf16 is x{fp32 / bf16:4.2f} the speed of fp32"
    )
    print(f"--precision auto picks {resolve_precision(cpu, 'auto')} on this CPU")


if __name__ == "__main__":
    main()
