"""Markdown with LaTeX math to HTML, offline: formulas become SVG images drawn by matplotlib.

No MathJax (it needs the network or a bundled copy) and no LaTeX install: matplotlib's mathtext
covers the subset our texts use, and the SVGs embed in both the HTML and the PDF.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import re

import markdown

_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$")
_CODE = re.compile(r"(^(?: {4}|\t).*$\n?)+|`[^`\n]+`", re.M)


@functools.lru_cache(maxsize=512)
def formula_svg(tex: str, fontsize: float = 11.0) -> str:
    """The formula as a base64 data URI of an SVG image."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import math_to_image

    buf = io.BytesIO()
    math_to_image(f"${tex}$", buf, prop=FontProperties(size=fontsize), format="svg")
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(tex: str, display: bool) -> str:
    tex = " ".join(tex.split())
    src = formula_svg(tex, 13.0 if display else 11.0)
    alt = html.escape(tex, quote=True)
    if display:
        return f'<div class="math-display"><img class="math" src="{src}" alt="{alt}"></div>'
    return f'<img class="math math-inline" src="{src}" alt="{alt}">'


def markdown_to_html(text: str) -> str:
    """Render Markdown whose `$...$` and `$$...$$` spans are LaTeX (outside code)."""
    stash: list[str] = []

    def keep(fragment: str) -> str:
        stash.append(fragment)
        return f"@@MATH{len(stash) - 1}@@"

    # Protect code spans and indented code blocks from math substitution.
    code_stash: list[str] = []

    def keep_code(m: re.Match) -> str:
        code_stash.append(m.group(0))
        return f"@@CODE{len(code_stash) - 1}@@" + ("\n" if m.group(0).endswith("\n") else "")

    text = _CODE.sub(keep_code, text)
    text = _DISPLAY.sub(lambda m: "\n\n" + keep(_img(m.group(1), True)) + "\n\n", text)
    text = _INLINE.sub(lambda m: keep(_img(m.group(1), False)), text)
    text = re.sub(r"@@CODE(\d+)@@\n?", lambda m: code_stash[int(m.group(1))], text)
    out = markdown.markdown(text, extensions=["tables", "fenced_code"])
    out = re.sub(r"<p>@@MATH(\d+)@@</p>", lambda m: stash[int(m.group(1))], out)
    return re.sub(r"@@MATH(\d+)@@", lambda m: stash[int(m.group(1))], out)
