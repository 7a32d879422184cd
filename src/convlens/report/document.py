"""The report as a list of HTML blocks, written as one self-contained HTML file and a PDF.

Every number in a table is given to the document together with the results dict it came from,
so `results.json` holds every figure the report prints.
"""

from __future__ import annotations

import base64
import html
import importlib.resources
import re
from collections.abc import Sequence
from pathlib import Path

from convlens import atomic
from convlens.errors import ConvlensError
from convlens.report.mathtext import markdown_to_html
from convlens.tables import as_rows


def package_text(name: str, **values) -> str:
    """A background text shipped in convlens/report/text/, with each `{{name}}` replaced by the
    setting or record value given for it: the texts hold no number of their own, and a
    placeholder left unfilled (or a value with no placeholder) is a bug, not a blank."""
    text = (importlib.resources.files("convlens.report") / "text" / name).read_text("utf-8")
    wanted = set(re.findall(r"\{\{(\w+)\}\}", text))
    if wanted != set(values):
        raise ConvlensError(
            f"report text {name}: placeholders {sorted(wanted)}, values given {sorted(values)}"
        )
    return re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]), text)


def format_number(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(format_number(v) for v in value) + ")"
    return str(value)


class Document:
    def __init__(self, title: str):
        self.title = title
        self.blocks: list[str] = []
        self.headings: list[str] = []
        self.glance: list[dict] = []  # the "at a glance" rows: question, answer, data
        self._tables = 0
        self._figures = 0
        self._last_table = self._last_figure = -1  # block index of the latest of each

    def heading(self, text: str, level: int = 2) -> None:
        self.headings.append(text)
        anchor = "".join(c if c.isalnum() else "-" for c in text.lower())
        self.blocks.append(f'<h{level} id="{anchor}">{html.escape(text)}</h{level}>')

    def markdown(self, text: str, demote: int = 1) -> None:
        """Add Markdown; its headings move down `demote` levels to nest under the section."""
        text = re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + demote) + " ", text, flags=re.M)
        self.blocks.append(markdown_to_html(text))

    def discussion(self, text: str) -> None:
        """Sentences about the numbers just shown, generated from the results, opened by a
        reference to the table (and the figure after it, if any) they discuss."""
        if not text:
            return
        refs = [f"Table {self._tables}"] if self._tables else []
        if self._figures and self._last_figure > self._last_table:
            refs.append(f"Figure {self._figures}")
        lead = f"**{' and '.join(refs)}:** " if refs else ""
        self.blocks.append(f'<div class="discussion">{markdown_to_html(lead + text)}</div>')

    def note(self, text: str, kind: str = "note") -> None:
        self.blocks.append(f'<div class="{kind}">{markdown_to_html(text)}</div>')

    def table(self, rows: Sequence, columns: Sequence[str] | None = None, caption=""):
        """Rows are dicts or records (convlens.record), one per line of the table."""
        if not rows:
            return
        rows = as_rows(rows)
        columns = list(columns or rows[0].keys())
        # Keys read as words in a header; their underscores would make unbreakable lines.
        head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in columns)
        body = []
        for row in rows:
            cells = []
            for c in columns:
                v = row.get(c, "")
                numeric = isinstance(v, int | float) and not isinstance(v, bool)
                cls = ' class="num"' if numeric else ""
                cells.append(f"<td{cls}>{html.escape(format_number(v))}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        self._tables += 1
        self._last_table = len(self.blocks)
        cap = f"<caption><b>Table {self._tables}.</b> {html.escape(caption)}</caption>"
        self.blocks.append(
            f'<div class="table-wrap"><table class="numbers">{cap}<thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table></div>"
        )

    def figure(self, path: str | Path, caption: str) -> None:
        """A figure and the caption that says what it shows (required: a bare image is a bug)."""
        if not caption.strip():
            raise ConvlensError(f"figure {Path(path).name} has no caption")
        path = Path(path)
        self._figures += 1
        self._last_figure = len(self.blocks)
        label = f"<b>Figure {self._figures}.</b> "
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
        self.blocks.append(
            f'<figure><img src="data:{mime};base64,{data}" alt="{html.escape(path.name)}" '
            f'data-file="{html.escape(path.name)}">'
            f"<figcaption>{label}{html.escape(caption)}</figcaption></figure>"
        )

    def to_html(self) -> str:
        css = (importlib.resources.files("convlens.report") / "style.css").read_text("utf-8")
        body, heads = _anchor_headings("\n".join(self.blocks))
        front = _glance_html(self.glance, heads) + _contents_html(heads)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title><style>{css}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>\n{front}\n{body}\n</body></html>\n"
        )

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write report.html, then report.pdf (an error if WeasyPrint cannot run here)."""
        out_dir = Path(out_dir)
        page = self.to_html()
        paths = {"html": atomic.write_text(out_dir / "report.html", page)}
        paths["pdf"] = write_pdf(page, out_dir / "report.pdf")
        return paths


def write_pdf(page: str, path: Path) -> Path:
    try:
        import weasyprint
    except ImportError as exc:
        raise ConvlensError(
            f"{path} not written (report.html was): WeasyPrint is missing; "
            "`pip install weasyprint` fixes it"
        ) from exc
    except OSError as exc:  # the package is there but its system libraries (Pango) are not
        raise ConvlensError(
            f"{path} not written (report.html was): WeasyPrint needs Pango "
            f"({exc}); on Debian or Ubuntu `apt install libpango-1.0-0 libpangoft2-1.0-0`"
        ) from exc
    with atomic.atomic_path(path) as tmp:
        weasyprint.HTML(string=page).write_pdf(tmp)
    return path


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", "".join(c if c.isalnum() else "-" for c in text.lower())).strip("-")


def _anchor_headings(body: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Give every h2-h4 (ours and the Markdown texts') a unique id; list (level, id, text)."""
    heads: list[tuple[int, str, str]] = []
    used: set[str] = set()

    def add(m: re.Match) -> str:
        level, attrs, inner = int(m.group(1)), m.group(2), m.group(3)
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        found = re.search(r'id="([^"]+)"', attrs)
        anchor = found.group(1) if found else _slug(text) or "section"
        base, n = anchor, 2
        while anchor in used:
            anchor, n = f"{base}-{n}", n + 1
        used.add(anchor)
        heads.append((level, anchor, text))
        attrs = re.sub(r'\s*id="[^"]*"', "", attrs)
        return f'<h{level} id="{anchor}"{attrs}>{inner}</h{level}>'

    return re.sub(r"<h([2-4])([^>]*)>(.*?)</h\1>", add, body, flags=re.S), heads


def _contents_html(heads: list[tuple[int, str, str]]) -> str:
    items = [
        f'<li class="toc{level}"><a href="#{anchor}">{html.escape(text)}</a></li>'
        for level, anchor, text in heads
        if level <= 3
    ]
    return (
        '<nav class="contents"><h2 id="contents">Contents</h2><ul>' + "".join(items) + "</ul></nav>"
    )


def _glance_html(rows: list[dict], heads: list[tuple[int, str, str]]) -> str:
    """The summary table; each question links to the first heading that starts with it."""
    if not rows:
        return ""
    body = []
    for r in rows:
        q = r["question"]
        anchor = next((a for _, a, t in heads if t.startswith((f"{q}.", f"{q} "))), None)
        cell = f'<a href="#{anchor}">{html.escape(q)}</a>' if anchor else html.escape(q)
        body.append(
            f"<tr><td>{cell}</td><td>{html.escape(r['answer'])}</td>"
            f"<td>{html.escape(r['data'])}</td></tr>"
        )
    return (
        '<h2 id="at-a-glance">At a glance</h2><div class="table-wrap"><table class="glance">'
        "<thead><tr><th>question</th><th>answer</th><th>data</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
