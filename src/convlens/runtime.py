"""Where and how tensors are computed: device choice and precision."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
from pathlib import Path

import torch

from convlens.distributed import Distributed
from convlens.errors import ConvlensError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
LOW_PRECISIONS = ("bf16", "fp16")


def cpu_info() -> tuple[str, set[str] | None]:
    """The CPU's model name and its feature flags as the kernel reports them (None where there is
    no /proc/cpuinfo to read, e.g. macOS)."""
    model, flags = "", None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and flags is None:
                flags = set(line.split(":", 1)[1].split())
    except OSError:  # not Linux: the platform's own name, and no flags to read
        pass
    return model or platform.processor() or "CPU", flags


# oneDNN instruction sets that compute bf16 in hardware; ONEDNN_MAX_CPU_ISA set below them
# (AVX2, say) makes oneDNN emulate bf16 even on a CPU that has it
BF16_ISAS = {
    "avx512_core_bf16",
    "avx512_core_fp16",
    "avx512_core_amx",
    "avx512_core_amx_fp16",
    "avx10_1_512",
    "avx10_1_512_amx",
    "avx10_1_512_amx_fp16",
    "all",
    "default",
}


def native_bf16_flags(flags: set[str]) -> list[str]:
    """The flags that mean the CPU computes bf16 in hardware, unless oneDNN is held below the
    instruction sets that use them (ONEDNN_MAX_CPU_ISA or its older name DNNL_MAX_CPU_ISA)."""
    held = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    if held and held.strip().lower() not in BF16_ISAS:
        return []
    return [f for f in ("amx_bf16", "avx512_bf16") if f in flags]


def fast_bf16(device: torch.device) -> bool:
    """Does this device run bf16 natively? On a CPU without AVX-512-BF16 or AMX, oneDNN emulates
    bf16 and convolutions run 3-5x *slower* than fp32 (measured on an AVX2 EPYC and on an AVX-512
    Xeon whose AMX is not exposed to the guest). oneDNN's own check is not enough: it answers yes
    for any AVX-512 CPU, emulated or not, so the kernel's flags decide where they can be read."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return False
    _, flags = cpu_info()
    return flags is None or bool(native_bf16_flags(flags))


def accelerator_words(device: torch.device) -> str | None:
    """The accelerator `device` names, in words (None for the CPU)."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return None if device.type == "cpu" else str(device)


def cpu_kind() -> str:
    """The CPU in words, with what it offers for bf16 (native or emulated), for reports: a
    training time means little without the kind of machine it was measured on."""
    model, flags = cpu_info()
    native = native_bf16_flags(flags or set())
    if native:
        kind = f"native bf16 ({', '.join(native)})"
    elif flags and {"amx_bf16", "avx512_bf16"} & flags:
        isa = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
        kind = f"bf16 emulated (oneDNN held to {isa})"
    elif flags:
        kind = "bf16 emulated (no AMX or AVX-512-BF16)"
    else:
        kind = "bf16 support unknown"
    return f"{model}, {os.cpu_count()} cores, {kind}"


def resolve_precision(device: torch.device, precision: str) -> str:
    """ "auto" becomes bf16 where the hardware runs it natively, else fp32."""
    check_precision(device, precision)
    if precision == "auto":
        return "bf16" if fast_bf16(device) else "fp32"
    return precision


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when available, else the CPU; `cuda:N` must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConvlensError(
            f"--device: {name!r} is not a device (auto, cpu, cuda, cuda:N)"
        ) from exc
    if device.type not in ("cpu", "cuda"):
        raise ConvlensError(f"--device {name}: convlens runs on auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConvlensError(f"--device {name}: CUDA is not available on this machine")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConvlensError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s)")
    return device


def check_precision(device: torch.device, precision: str) -> None:
    if precision not in PRECISIONS:
        raise ConvlensError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ConvlensError("--precision fp16 needs a CUDA device; use bf16 on the CPU")


def autocast(device: torch.device, precision: str):
    """bf16 autocast on CPU or CUDA, fp16 autocast on CUDA, or nothing for fp32."""
    precision = resolve_precision(device, precision)
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "fp16":
        return torch.autocast("cuda", dtype=torch.float16)
    return torch.autocast(device.type, dtype=torch.bfloat16)


@dataclasses.dataclass(frozen=True)
class Runtime:
    """Where and how a step computes, handed down as one object instead of four loose options:
    the device, the precision its inference asks for ("auto": bf16 where the hardware runs it
    natively), whether long loops draw a progress bar, and the torchrun process group (None
    for one process). Library functions default to `Runtime()`: the CPU, fp32, quiet; the CLI
    and the report build theirs from the command line (`Runtime.of`)."""

    device: torch.device = torch.device("cpu")
    precision: str = "fp32"
    progress: bool = False
    distributed: Distributed | None = None

    @classmethod
    def of(
        cls,
        device: str | torch.device = "auto",
        precision: str = "fp32",
        progress: bool = False,
        distributed: Distributed | None = None,
    ) -> Runtime:
        """From a device name (auto, cpu, cuda:N; the process group's own device under
        torchrun), checked; the progress bar only on rank 0."""
        place = distributed.device if distributed is not None else resolve_device(str(device))
        check_precision(place, precision)
        rank0 = distributed is None or distributed.rank == 0
        return cls(place, precision, progress and rank0, distributed)

    @property
    def rank0(self) -> bool:
        """Whether this process writes files and prints (always, without torchrun)."""
        return self.distributed is None or self.distributed.rank == 0

    @property
    def resolved_precision(self) -> str:
        return resolve_precision(self.device, self.precision)

    def but(self, **changes) -> Runtime:
        """This runtime with some fields changed (precision="fp32" for attributions, say)."""
        return dataclasses.replace(self, **changes)
