"""Option groups shared by the subcommands, so every command spells them the same way."""

from pathlib import Path

from convlens.runtime import PRECISIONS


def add_seed(p) -> None:
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def add_model(p, default_arch: str = "vgg16") -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--weights",
        default=None,
        help="weights file (.pth/.safetensors), a known name (vgg16, vgg11_bn, ...), or "
        "'random' for seeded random weights; default: torchvision's checkpoint for --arch",
    )
    g.add_argument("--arch", default=default_arch, help=f"architecture (default {default_arch})")
    add_device(g)
    g.add_argument("--batch-size", type=int, default=16, help="images per batch (default 16)")


def add_device(g, precision_default: str = "fp32") -> None:
    g.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    g.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=precision_default,
        help=f"fp32, or bf16 autocast with channels_last (default {precision_default})",
    )


def add_output(p, out_help: str = "folder for CSV files and figures") -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--out", type=Path, default=None, help=out_help)
