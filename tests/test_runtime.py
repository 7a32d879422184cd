"""`--precision auto` picks bf16 only where the CPU computes it in hardware."""

import pytest
import torch

from convlens import runtime

CPU = torch.device("cpu")
AVX512 = {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (AVX512 | {"amx_bf16", "amx_tile"}, "bf16"),  # Sapphire Rapids and later, AMX exposed
        (AVX512 | {"avx512_bf16"}, "bf16"),  # Zen 4 / Cooper Lake
        (AVX512, "fp32"),  # AVX-512 without bf16: oneDNN says yes, but emulates (3-5x slower)
        ({"avx2", "fma"}, "fp32"),  # most laptops
    ],
)
def test_auto_follows_the_kernels_flags(monkeypatch, flags, expected):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(runtime, "cpu_info", lambda: ("Some CPU", flags))
    assert runtime.resolve_precision(CPU, "auto") == expected
    native = expected == "bf16"
    assert ("native bf16" in runtime.cpu_kind()) == native
    assert ("emulated" in runtime.cpu_kind()) == (not native)


def test_without_flags_onednn_decides(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_info", lambda: ("Some CPU", None))
    for onednn, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda v=onednn: v)
        assert runtime.resolve_precision(CPU, "auto") == expected
    assert "unknown" in runtime.cpu_kind()


def test_explicit_precision_is_kept():
    assert runtime.resolve_precision(CPU, "fp32") == "fp32"
    assert runtime.resolve_precision(CPU, "bf16") == "bf16"


@pytest.mark.parametrize(
    ("held", "expected"),
    [("AVX2", "fp32"), ("avx512_core", "fp32"), ("AVX512_CORE_BF16", "bf16"), ("ALL", "bf16")],
)
def test_onednn_held_below_bf16_emulates_it(monkeypatch, held, expected):
    """ONEDNN_MAX_CPU_ISA=AVX2 on a CPU with AVX-512-BF16 makes oneDNN emulate bf16 (how a
    laptop's AVX2 is reproduced on a newer machine): auto must then stay in fp32."""
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(runtime, "cpu_info", lambda: ("Some CPU", AVX512 | {"avx512_bf16"}))
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", held)
    assert runtime.resolve_precision(CPU, "auto") == expected
    assert ("emulated (oneDNN held to" in runtime.cpu_kind()) == (expected == "fp32")
