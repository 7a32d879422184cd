"""VGG16 inference throughput on the CPU: per-image fp32 loop vs batched vs bf16/channels_last.

Random weights are fine for timing. The precision check compares fp32 and bf16 logits on the
real problem2 test images when that folder is present.
"""

import torch
from common import PROBLEM2, best_of, header

from convlens.data import list_image_files
from convlens.models import vgg16
from convlens.predict import load_batch
from convlens.runtime import autocast


def main(batch: int = 8) -> None:
    header(f"VGG16 inference, batch {batch}")
    torch.manual_seed(0)
    model = vgg16().eval()
    if (PROBLEM2 / "test_images").exists():
        x = load_batch(list_image_files([PROBLEM2 / "test_images"]))
        x = torch.cat([x, x])[:batch]
    else:
        x = torch.randn(batch, 3, 224, 224)
    cpu = torch.device("cpu")

    def loop_fp32():
        with torch.inference_mode():
            for i in range(batch):
                model(x[i : i + 1])

    def batched_fp32():
        with torch.inference_mode():
            model(x)

    model_cl = vgg16().eval()
    model_cl.load_state_dict(model.state_dict())
    model_cl = model_cl.to(memory_format=torch.channels_last)
    x_cl = x.contiguous(memory_format=torch.channels_last)

    def batched_bf16():
        with torch.inference_mode(), autocast(cpu, "bf16"):
            model_cl(x_cl)

    base = best_of(loop_fp32, repeats=2)
    rows = [("per-image fp32 loop (baseline)", base)]
    rows.append(("batched fp32", best_of(batched_fp32, repeats=2)))
    rows.append(("batched bf16 + channels_last", best_of(batched_bf16, repeats=2)))
    for name, t in rows:
        print(f"{name:34s} {batch / t:7.2f} img/s   speed-up x{base / t:5.2f}")

    with torch.inference_mode():
        ref = model(x).float()
        with autocast(cpu, "bf16"):
            low = model_cl(x_cl).float()
    corr = torch.corrcoef(torch.stack([ref.flatten(), low.flatten()]))[0, 1].item()
    same_top1 = (ref.argmax(1) == low.argmax(1)).float().mean().item()
    print(f"bf16 vs fp32 logits: correlation {corr:.5f}, same top-1 on {same_top1:.0%} of images")


if __name__ == "__main__":
    main()
