"""convlens.report.mathtext: Markdown maths becomes SVG, code stays as it is."""

from convlens.report.mathtext import markdown_to_html


def test_markdown_math_becomes_svg_but_code_is_untouched():
    page = markdown_to_html("Inline $z_0$ and\n\n$$\\frac{1}{2}$$\n\n    x = '$notmath$'\n")
    assert page.count("data:image/svg+xml;base64,") == 2
    assert "$notmath$" in page
