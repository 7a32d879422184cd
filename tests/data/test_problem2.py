import io
import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from convlens.data import (
    denormalize,
    image_folder,
    imagenet_classes,
    list_image_files,
    load_problem2,
    preprocess,
    read_image,
)
from convlens.data.transforms import center_crop, normalize, resize_shorter, to_tensor
from convlens.errors import ConvlensError


def test_class_index_agrees_with_synset_words(problem2_dir):
    classes = imagenet_classes()
    assert len(classes) == 1000
    assert classes.wnids[0] == "n01440764" and classes.names[0] == "tench"
    lines = (problem2_dir / "synset_words.txt").read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == list(classes.wnids)
    assert classes.id_of_wnid["n01440764"] == 0


def test_problem2_folder_loads_all_images(problem2_dir):
    p2 = load_problem2(problem2_dir)
    assert len(p2.validation) == 95  # the last line has no newline and still counts
    assert [it.name.split("/")[-1] for it in p2.test] == [f"{i}.JPEG" for i in range(1, 6)]
    assert len({it.label for it in p2.validation}) == 91
    modes = {Image.open(io.BytesIO(it.read_bytes())).mode for it in p2.validation}
    assert "L" in modes  # the grayscale image
    for it in p2.validation + p2.test:
        x = preprocess(read_image(it))
        assert x.shape == (3, 224, 224) and torch.isfinite(x).all()


def test_problem2_zip_matches_folder(problem2_dir, tmp_path):
    archive = tmp_path / "problem2.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(problem2_dir.rglob("*")):
            z.write(f, "problem2/" + str(f.relative_to(problem2_dir)))
    from_zip = load_problem2(archive)
    from_dir = load_problem2(problem2_dir)
    assert [it.label for it in from_zip.validation] == [it.label for it in from_dir.validation]
    assert from_zip.validation[3].read_bytes() == from_dir.validation[3].read_bytes()
    assert len(from_zip.test) == 5 and from_zip.names == from_dir.names


def _mini_problem2(problem2_dir, tmp_path, val_lines):
    root = tmp_path / "p2"
    (root / "validation_images").mkdir(parents=True)
    (root / "test_images").mkdir()
    shutil.copy(problem2_dir / "synset_words.txt", root)
    for name in ("ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000003.JPEG"):
        shutil.copy(problem2_dir / "validation_images" / name, root / "validation_images")
    (root / "val.txt").write_text(val_lines)
    return root


def test_problem2_errors_name_file_and_line(problem2_dir, tmp_path):
    ok = "ILSVRC2012_val_00000001.JPEG 65\nILSVRC2012_val_00000003.JPEG 230"
    assert len(load_problem2(_mini_problem2(problem2_dir, tmp_path / "a", ok)).validation) == 2
    bad_id = "ILSVRC2012_val_00000001.JPEG 65\nILSVRC2012_val_00000003.JPEG 1000"
    with pytest.raises(ConvlensError, match=r"val.txt line 2: class id 1000 is out of range"):
        load_problem2(_mini_problem2(problem2_dir, tmp_path / "b", bad_id))
    missing = "ILSVRC2012_val_00000001.JPEG 65\nILSVRC2012_val_00000099.JPEG 3\n"
    with pytest.raises(ConvlensError, match="names ILSVRC2012_val_00000099.JPEG"):
        load_problem2(_mini_problem2(problem2_dir, tmp_path / "c", missing))
    garbled = "ILSVRC2012_val_00000001.JPEG sixty-five"
    with pytest.raises(ConvlensError, match="line 1: expected"):
        load_problem2(_mini_problem2(problem2_dir, tmp_path / "d", garbled))
    with pytest.raises(ConvlensError, match="no such folder or zip"):
        load_problem2(tmp_path / "nowhere")


def test_corrupt_image_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    with pytest.raises(ConvlensError, match="broken.jpg: not a readable image"):
        read_image(bad)


@pytest.mark.parametrize("mode", ["L", "CMYK", "P", "RGBA", "I;16"])
def test_any_pil_mode_becomes_rgb(mode, tmp_path):
    from skimage import data

    img = Image.fromarray(data.chelsea())
    converted = img.convert(mode) if mode != "I;16" else img.convert("L").convert("I;16")
    path = tmp_path / ("x.tiff" if mode in ("CMYK", "I;16") else "x.png")
    converted.save(path)
    rgb = read_image(path)
    assert rgb.mode == "RGB" and rgb.size == img.size
    assert preprocess(rgb).shape == (3, 224, 224)


def test_preprocess_matches_a_direct_computation():
    from skimage import data

    img = Image.fromarray(data.astronaut())  # 512 x 512
    wide = img.resize((600, 300))
    r = resize_shorter(wide, 256)
    assert r.size == (512, 256)  # torchvision: long side int(256 * 600 / 300)
    c = center_crop(r, 224)
    assert c.size == (224, 224)
    arr = np.asarray(r, dtype=np.float32)[16:240, 144:368] / 255.0  # round((256-224)/2) = 16
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    expected = ((arr - mean) / std).transpose(2, 0, 1)
    np.testing.assert_allclose(preprocess(wide).numpy(), expected, atol=1e-6)


def test_denormalize_inverts_normalize():
    x = torch.rand(2, 3, 8, 8)
    back = denormalize(normalize(x))
    np.testing.assert_allclose(back, x.permute(0, 2, 3, 1).numpy(), atol=1e-6)
    assert denormalize(normalize(x[0])).shape == (8, 8, 3)
    assert to_tensor(Image.new("RGB", (5, 4))).shape == (3, 4, 5)


def test_image_folder_and_file_lists(problem2_dir, tmp_path):
    for wnid, name in [("n01440764", "ILSVRC2012_val_00000001.JPEG"), ("n15075141", "1.JPEG")]:
        (tmp_path / "tree" / wnid).mkdir(parents=True)
        src = problem2_dir / ("test_images" if name == "1.JPEG" else "validation_images") / name
        shutil.copy(src, tmp_path / "tree" / wnid)
    items = image_folder(tmp_path / "tree")
    assert [it.label for it in items] == [0, 999]
    (tmp_path / "tree" / "cats").mkdir()
    with pytest.raises(ConvlensError, match="not an ImageNet synset id"):
        image_folder(tmp_path / "tree")
    files = list_image_files([problem2_dir / "test_images", src])
    assert len(files) == 6
    with pytest.raises(ConvlensError, match="no such file or folder"):
        list_image_files([tmp_path / "missing.jpg"])
