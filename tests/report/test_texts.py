"""The report's Markdown texts hold background only: no number of their own (every figure in
them is filled from a setting or counted from a model), and every placeholder is filled."""

import importlib.resources
import re

import fabricated
import pytest
from scipy.stats import binomtest

from convlens.errors import ConvlensError
from convlens.models.vgg import vgg16
from convlens.models.vgg_sizes import meta_vgg16_sizes, vgg_sizes
from convlens.report import discussion
from convlens.report.document import package_text

TEXTS = sorted(
    p.name
    for p in (importlib.resources.files("convlens.report") / "text").iterdir()
    if p.name.endswith(".md")
)
# Names that contain digits (networks, data sets, files, the exam's fixed terms), not figures.
NAMES = (
    r"VGG-11/13/16/19|VGG-11-BN|VGG-11|VGG16-BN|VGG16|VGG19|ResNet-50|STL-10|top-1|top-5"
    r"|vgg16-397923af\.pth|bench_jigsaw\.py|gap=0|L1|L2"
)


def _figures_in(text: str) -> list[str]:
    """The digits left once equations, code, citations, section labels and names are removed."""
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)  # equations
    text = re.sub(r"`[^`]*`|^ {4}.*$", " ", text, flags=re.M)  # inline and indented code
    text = re.sub(r"\([^()]*\b(19|20)\d\d\b[^()]*\)", " ", text)  # (Author et al. 2018, ...)
    text = re.sub(r"\{\{\w+\}\}", " ", text)  # placeholders, filled from settings
    text = re.sub(r"(?<![\w.])[123][a-h](-[123]?[a-h])?\b|^#+ .*$", " ", text, flags=re.M)
    text = re.sub(NAMES + r"|Problem [123]", " ", text)
    return re.findall(r"[^\s]*\d[^\s]*", text)


@pytest.mark.parametrize("name", TEXTS)
def test_a_background_text_types_no_number_of_its_own(name):
    text = (importlib.resources.files("convlens.report") / "text" / name).read_text("utf-8")
    assert _figures_in(text) == [], name


def test_the_number_check_finds_a_typed_number():
    assert _figures_in("On 95 images at 70 % accuracy") == ["95", "70"]
    assert _figures_in("(Adebayo et al. 2018 found 0.9) and $k = 3$ in 2c") == []


def test_a_placeholder_must_be_filled_and_a_value_must_have_a_placeholder():
    with pytest.raises(ConvlensError, match="placeholders"):
        package_text("probe.md")  # {{k}} left unfilled
    with pytest.raises(ConvlensError, match="placeholders"):
        package_text("probe.md", k=3, bar=0.6)
    assert "$k = 7$" in package_text("probe.md", k=7)


def test_vgg16_sizes_are_counted_from_the_model():
    sizes = meta_vgg16_sizes()
    real = vgg16(init_weights=False)
    assert sizes.parameters == sum(p.numel() for p in real.parameters())
    assert sizes.first_fc_parameters == real.classifier[0].weight.numel() + 4096
    assert (sizes.conv_layers, sizes.block_widths) == (13, [64, 128, 256, 512, 512])
    assert sizes.grid == 7 and sizes.hidden == [4096, 4096, 1000] and sizes.dropout == 0.5
    # multiply-adds of the first convolution counted by hand: 224 x 224 x 64 x 3 x 9
    small = vgg_sizes(vgg16(init_weights=False, num_classes=10), 224)
    assert small.gmacs < sizes.gmacs and 0.99 < sizes.conv_share < 1.0
    assert abs(sizes.gmacs - 15.47) < 0.01  # torchvision's model card: 15.47 GFLOPS (MACs)


def test_2b_quotes_the_binomial_interval_of_its_own_count():
    v = fabricated.validation(correct=66, n=95)
    text = discussion.accuracy_2b(v)
    ci = binomtest(66, 95).proportion_ci(0.95, method="wilson")
    assert f"[{ci.low:.3f}, {ci.high:.3f}]" in text and "95 % binomial" in text
    wide = discussion.accuracy_2b(fabricated.validation(correct=6, n=10))
    ci = binomtest(6, 10).proportion_ci(0.95, method="wilson")
    assert f"[{ci.low:.3f}, {ci.high:.3f}]" in wide
