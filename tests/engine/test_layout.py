"""Public functions leave the caller's model as they found it: train/eval flags, device and
memory format, even when they run it in eval mode with channels_last inside."""

import numpy as np
import torch
from PIL import Image

from convlens.data.images import file_item
from convlens.jigsaw.evaluation.inference import predict_log_probs
from convlens.jigsaw.networks.catalogue import build_model
from convlens.jigsaw.networks.configs import model_config
from convlens.models import vgg11
from convlens.predict import predict_logits
from convlens.probe.features import extract_features
from convlens.runtime import Runtime


def _state(model):
    conv = next(p for p in model.parameters() if p.dim() == 4)
    return (
        [m.training for m in model.modules()],
        conv.device,
        conv.is_contiguous(),
        conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous(),
    )


def test_inference_leaves_modes_device_and_memory_format(tmp_path):
    from skimage import data

    path = tmp_path / "cat.png"
    Image.fromarray(data.chelsea()).save(path)
    torch.manual_seed(0)
    vgg = vgg11(width=0.0625, hidden=16).train()
    before = _state(vgg)
    predict_logits(vgg, [file_item(path)], runtime=Runtime(precision="bf16"))
    assert _state(vgg) == before and vgg.training

    jig = build_model(model_config(width=0.125, hidden=16, input_size=32)).train()
    jig = jig.to(memory_format=torch.channels_last)  # a caller that chose channels_last keeps it
    before = _state(jig)
    images = np.random.default_rng(0).integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    predict_log_probs(jig, images)
    extract_features(jig, images)
    assert _state(jig) == before
