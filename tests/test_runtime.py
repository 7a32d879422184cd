"""`--precision auto` picks bf16 only where the CPU computes it in hardware."""

from dataclasses import replace

import pytest
import torch

from convlens import runtime
from convlens.distributed import Distributed
from convlens.errors import ConvlensError
from convlens.jigsaw.training.config import TrainConfig, config_dict, config_from_dict

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


def test_runtime_of_names_the_device_and_refuses_what_it_cannot_run():
    r = runtime.Runtime.of("cpu", "fp32", progress=True)
    assert r.device == torch.device("cpu") and r.progress and r.rank0
    assert r.but(progress=False).progress is False and r.progress  # a copy, not a change
    with pytest.raises(ConvlensError, match="fp16 needs a CUDA device"):
        runtime.Runtime.of("cpu", "fp16")
    with pytest.raises(ConvlensError, match="--device"):
        runtime.Runtime.of("tpu")


def test_runtime_under_torchrun_takes_the_process_groups_device_and_quiets_other_ranks():
    group = Distributed(rank=1, world_size=2, local_rank=1, device=torch.device("cpu"))
    r = runtime.Runtime.of("cuda:7", progress=True, distributed=group)  # the group's device wins
    assert r.device == torch.device("cpu") and not r.rank0 and not r.progress
    first = runtime.Runtime.of("auto", progress=True, distributed=replace(group, rank=0))
    assert first.rank0 and first.progress


def test_a_run_saved_with_a_device_setting_still_loads():
    """Runs saved before the device moved from the training settings to the Runtime."""
    saved = config_dict(TrainConfig(epochs=3)) | {"device": "cuda:0"}
    assert config_from_dict(saved) == TrainConfig(epochs=3)
