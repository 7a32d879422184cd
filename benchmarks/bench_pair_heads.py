"""What the pair heads' split first layer (convlens.jigsaw.networks.pairs.pair_mlp) saves: one
training step of the CFN (border head) and of VGG-11-BN (seam head), as their recipes build
them, batch 32, in training's layout, with the split layer against the naive baseline that
concatenates each of the 12 pairs before the MLP, in the same run, steps interleaved; and the
largest difference between the two ways' logits."""

import statistics
import time

import torch
from common import cpu_kind, header

from convlens.engine.layout import channels_last
from convlens.jigsaw.networks import border_head, pairs, seam_head
from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.training.recipes import recipe

HEADS = (border_head, seam_head)


def concatenated(mlp, first, second):
    a, b = torch.from_numpy(pairs.PAIRS[:, 0]), torch.from_numpy(pairs.PAIRS[:, 1])
    return mlp(torch.cat([first[:, a], second[:, b]], dim=-1))


def use(pair_fn) -> None:
    for module in HEADS:
        module.pair_mlp = pair_fn


def compare(arch: str, rounds: int = 12) -> None:
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    cfg = recipe(arch, precision="fp32")
    model = build_model(cfg.model)
    x = torch.randn(32, 3, cfg.model.input_size, cfg.model.input_size)
    if channels_last(cpu, "fp32", "train"):
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 24, (32,))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def step() -> float:
        start = time.perf_counter()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        return time.perf_counter() - start

    times = {"split": [], "concatenated": []}
    ways = {"split": pairs.pair_mlp, "concatenated": concatenated}
    for _ in range(2):  # warm-up, both ways
        for way in ways.values():
            use(way)
            step()
    for _ in range(rounds):
        for name, way in ways.items():
            use(way)
            times[name].append(step())
    model.eval()
    with torch.no_grad():
        use(concatenated)
        plain = model(x)
        use(pairs.pair_mlp)
        split = model(x)
    fast, slow = statistics.median(times["split"]), statistics.median(times["concatenated"])
    print(
        f"{arch:9s} step {fast * 1000:.1f} ms split against {slow * 1000:.1f} ms concatenated "
        f"(x{slow / fast:.2f}); logits differ by at most {(plain - split).abs().max():.1e}"
    )


def main() -> None:
    header("pair heads: the split first layer against concatenated pairs, one training step")
    print(cpu_kind())
    for arch in ("cfn", "vgg11_bn"):
        compare(arch)


if __name__ == "__main__":
    main()
