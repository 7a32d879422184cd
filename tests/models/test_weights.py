import pytest
import torch

from convlens import models
from convlens.errors import ConvlensError
from convlens.models.weights import check_compatible, load_state_dict

VGG16_KEYS = {
    "features.0": (64, 3),
    "features.2": (64, 64),
    "features.5": (128, 64),
    "features.7": (128, 128),
    "features.10": (256, 128),
    "features.12": (256, 256),
    "features.14": (256, 256),
    "features.17": (512, 256),
    "features.19": (512, 512),
    "features.21": (512, 512),
    "features.24": (512, 512),
    "features.26": (512, 512),
    "features.28": (512, 512),
}


def vgg16_expected_shapes(num_classes=1000):
    shapes = {}
    for k, (out_c, in_c) in VGG16_KEYS.items():
        shapes[f"{k}.weight"] = (out_c, in_c, 3, 3)
        shapes[f"{k}.bias"] = (out_c,)
    for k, (out_f, in_f) in {
        "classifier.0": (4096, 25088),
        "classifier.3": (4096, 4096),
        "classifier.6": (num_classes, 4096),
    }.items():
        shapes[f"{k}.weight"] = (out_f, in_f)
        shapes[f"{k}.bias"] = (out_f,)
    return shapes


@pytest.fixture(scope="module")
def vgg16():
    torch.manual_seed(0)
    return models.vgg16().eval()


def test_vgg16_state_dict_is_torchvisions(vgg16):
    state = vgg16.state_dict()
    expected = vgg16_expected_shapes()
    assert list(state) == list(expected)  # same keys, same order
    assert {k: tuple(v.shape) for k, v in state.items()} == expected
    assert isinstance(vgg16.avgpool, torch.nn.AdaptiveAvgPool2d)
    assert vgg16.avgpool.output_size == (7, 7)
    assert sum(v.numel() for v in state.values()) == 138_357_544  # the published count


def test_vgg16_loads_a_torchvision_format_file_strictly(tmp_path, vgg16):
    # A state dict built from the expected table alone (not from our model) must load strictly.
    gen = torch.Generator().manual_seed(1)
    state = {k: torch.randn(s, generator=gen) * 0.01 for k, s in vgg16_expected_shapes().items()}
    path = tmp_path / "vgg16-397923af.pth"
    torch.save(state, path)
    model = models.load_weights(models.vgg16(init_weights=False), path)
    assert torch.equal(model.features[28].weight, state["features.28.weight"])
    assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def test_vgg11_bn_keys_match_torchvision_layout():
    keys = list(models.vgg11_bn().state_dict())
    # torchvision vgg11_bn: conv, bn, relu (, pool) -> convs at 0, 4, 8, 11, 15, 18, 22, 25
    convs = sorted({int(k.split(".")[1]) for k in keys if k.endswith("weight") and "features" in k})
    assert convs == [0, 1, 4, 5, 8, 9, 11, 12, 15, 16, 18, 19, 22, 23, 25, 26]
    assert "features.1.running_mean" in keys and "features.1.num_batches_tracked" in keys
    assert len(keys) == 8 * 2 + 8 * 5 + 6


@pytest.mark.parametrize("name", sorted(models.BUILDERS))
def test_every_builder_runs_small_inputs(name):
    model = models.BUILDERS[name](num_classes=24, input_size=96, hidden=64).eval()
    assert model.avgpool.output_size == (3, 3)
    assert model(torch.zeros(2, 3, 96, 96)).shape == (2, 24)


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="input_size"):
        models.vgg11(input_size=100)
    with pytest.raises(ValueError, match="dropout"):
        models.vgg11(dropout=1.5)


def test_mismatched_weights_list_first_problems(tmp_path):
    small = models.vgg11_bn(num_classes=24, input_size=96, hidden=64)
    path = tmp_path / "w.pth"
    torch.save(small.state_dict(), path)
    with pytest.raises(ConvlensError, match=r"classifier.6.weight: file has \(24, 64\)"):
        models.load_weights(models.vgg11_bn(num_classes=10, input_size=96, hidden=64), path)
    with pytest.raises(ConvlensError, match=r"missing features.3.weight \(128, 64, 3, 3\).*more"):
        models.load_weights(models.vgg11(num_classes=24, input_size=96, hidden=64), path)


def test_wrapped_and_ddp_prefixed_checkpoints_load(tmp_path):
    model = models.vgg11(num_classes=3, input_size=32, hidden=8)
    state = {"module." + k: v for k, v in model.state_dict().items()}
    path = tmp_path / "ckpt.pt"
    torch.save({"model": state, "epoch": 3}, path)
    other = models.load_weights(models.vgg11(num_classes=3, input_size=32, hidden=8), path)
    assert check_compatible(other, model.state_dict()) == []


def test_safetensors_round_trip(tmp_path):
    safetensors = pytest.importorskip("safetensors.torch")
    model = models.vgg11(num_classes=3, input_size=32, hidden=8)
    path = tmp_path / "w.safetensors"
    safetensors.save_file(model.state_dict(), str(path))
    loaded = load_state_dict(path)
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"weights": torch.zeros(1), "obj": ConvlensError("x")}, path)
    with pytest.raises(ConvlensError, match="evil.pth: holds pickled Python objects") as err:
        load_state_dict(path)
    assert "weights_only" not in str(err.value)  # never repeat torch's advice to unpickle


def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ConvlensError, match=r"bad.pth: not a PyTorch weights file"):
        load_state_dict(path)


def test_absent_known_checkpoint_offline_says_what_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(ConvlensError) as info:
        models.load_weights(models.vgg16(init_weights=False), "vgg16")
    msg = str(info.value)
    assert "vgg16-397923af.pth" in msg and str(tmp_path / "hub" / "checkpoints") in msg


def test_failed_download_says_what_to_put_where(tmp_path, monkeypatch):
    import urllib.error

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("CONVLENS_OFFLINE")

    def no_network(*a, **k):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    with pytest.raises(ConvlensError, match="could not be downloaded.*put vgg11_bn-6002323d.pth"):
        models.load_weights(models.vgg11_bn(init_weights=False), "vgg11_bn")


def test_known_checkpoint_found_in_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    model = models.vgg11(num_classes=1000)
    target = tmp_path / "hub" / "checkpoints" / "vgg11-8a719046.pth"
    target.parent.mkdir(parents=True)
    torch.save(model.state_dict(), target)
    loaded = models.load_weights(models.vgg11(init_weights=False), "vgg11")
    assert torch.equal(loaded.classifier[6].bias, model.classifier[6].bias)


def _small_state():
    torch.manual_seed(0)
    return models.vgg11(width=0.0625, hidden=16, num_classes=10).state_dict()


@pytest.mark.parametrize("key", ["model_state_dict", "state_dict", "net", "weights"])
def test_weights_under_the_common_nested_keys_load(tmp_path, key):
    """A tutorial's checkpoint: {"epoch": 3, "model_state_dict": ..., "optimizer_state_dict":
    ...}, and the other usual spellings."""
    state = _small_state()
    path = tmp_path / "ckpt.pth"
    torch.save({"epoch": 3, key: state, "optimizer_state_dict": {"state": {}}}, path)
    loaded = load_state_dict(path)
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], state[k]) for k in state)


def test_a_dict_without_a_state_dict_names_its_keys_and_where_tensors_were_sought(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save({"epoch": 3, "encoder": {"depth": 2}, "lr": 0.1}, path)
    with pytest.raises(ConvlensError, match=r"a dict with keys epoch, encoder, lr, not a state"):
        load_state_dict(path)
    torch.save([torch.ones(2)], path)
    with pytest.raises(ConvlensError, match=r"holds a list, not a state dict"):
        load_state_dict(path)


def test_a_safetensors_file_named_pth_reads_by_its_content(tmp_path):
    from safetensors.torch import save_file

    state = _small_state()
    path = tmp_path / "weights.pth"
    save_file(state, str(path))
    loaded = load_state_dict(path)
    assert all(torch.equal(loaded[k], state[k]) for k in state)


def test_a_torchscript_archive_is_named_as_such(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(ConvlensError, match="TorchScript archive"):
        load_state_dict(path)


def test_meta_tensors_are_one_line_not_a_traceback(tmp_path):
    with torch.device("meta"):
        meta = models.vgg11(width=0.0625, hidden=16, num_classes=10).state_dict()
    path = tmp_path / "meta.pth"
    torch.save(meta, path)
    with pytest.raises(ConvlensError, match=r"meta tensor"):
        load_state_dict(path)
