"""The table model every report table is built into, and its three renderings.

A :class:`ReportTable` is what a clinical study report table is: a title, column headers
(the first column is the row label, the others usually one per arm plus a total), body
rows whose label may be indented under a heading row, and footnotes (analysis set, data
cut, conventions). Cells are already formatted text, so the three renderings show
exactly the same characters:

* HTML through great-tables (:func:`to_html`), for the report page;
* CSV (:func:`to_csv`), one line per row with an ``indent`` column, for reuse;
* RTF (:func:`to_rtf`), the format clinical study reports are assembled from, written
  directly (RTF 1.x, Microsoft 2008 specification): a table is a sequence of ``\\trowd``
  row definitions with ``\\cellx`` right boundaries in twips.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd
from great_tables import GT, loc, style

from oncotrial.errors import InputError
from oncotrial.results import Result


@dataclass(frozen=True)
class Row:
    """One body row: its label, indentation level (0 = heading) and formatted cells."""

    label: str
    cells: tuple[str, ...]
    indent: int = 1


@dataclass(frozen=True)
class ReportTable(Result):
    """A formatted table with title, column headers, rows and footnotes."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    footnotes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows, start=1):
            if len(row.cells) != len(self.columns) - 1:
                raise InputError(
                    f"table {self.name!r}: row {i} ({row.label!r}) has {len(row.cells)} "
                    f"cells; the table has {len(self.columns) - 1} value columns",
                    field="rows",
                    row=i,
                )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(r.label, r.indent, *r.cells) for r in self.rows],
            columns=[self.columns[0], "indent", *self.columns[1:]],
        )

    def summary(self) -> str:
        frame = self.to_frame()
        frame[self.columns[0]] = ["  " * r.indent + r.label for r in self.rows]
        lines = [self.title, frame.drop(columns="indent").to_string(index=False)]
        return "\n".join(lines + list(self.footnotes))


def to_csv(table: ReportTable) -> str:
    """The table as CSV text (UTF-8, a header line, an ``indent`` column)."""
    out = io.StringIO()
    table.to_frame().to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return out.getvalue()


def to_html(table: ReportTable) -> str:
    """The table as an HTML fragment (great-tables), headings in bold, levels indented."""
    frame = table.to_frame()
    label = table.columns[0]
    frame[label] = [r.label for r in table.rows]
    gt = (
        GT(frame.drop(columns="indent"), id=table.name)
        .tab_header(title=table.title)
        .cols_align("left", columns=[label])
        .cols_align("center", columns=list(table.columns[1:]))
    )
    headings = [i for i, r in enumerate(table.rows) if r.indent == 0]
    if headings:
        gt = gt.tab_style(style.text(weight="bold"), loc.body(columns=[label], rows=headings))
    for level in sorted({r.indent for r in table.rows if r.indent > 0}):
        rows = [i for i, r in enumerate(table.rows) if r.indent == level]
        gt = gt.tab_style(
            style.css(f"padding-left: {0.6 + 1.2 * level}em"), loc.body(columns=[label], rows=rows)
        )
    for note in table.footnotes:
        gt = gt.tab_source_note(note)
    return gt.as_raw_html()


def _rtf_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) > 127:
            code = ord(ch)
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
        else:
            out.append(ch)
    return "".join(out)


def to_rtf(table: ReportTable, *, width_twips: int = 13000) -> str:
    """The table as an RTF document: title paragraph, bordered header row, body, footnotes.

    The label column takes 40% of ``width_twips`` (1440 twips per inch; 13000 fits a
    landscape page with 1-inch margins), the value columns share the rest.
    """
    n = len(table.columns)
    first = int(width_twips * 0.4)
    step = (width_twips - first) // max(n - 1, 1)
    bounds = [first + step * i for i in range(n)]

    def row(cells: list[str], *, header: bool = False, indent: int = 0) -> str:
        border = "\\clbrdrb\\brdrs\\brdrw10" if header else ""
        defs = "".join(f"{border}\\cellx{b}" for b in bounds)
        body = []
        for j, text in enumerate(cells):
            align = "\\ql" if j == 0 else "\\qc"
            left = f"\\li{240 * indent}" if j == 0 else ""
            weight = "\\b " if header or (j == 0 and indent == 0 and not header) else ""
            body.append(f"\\pard\\intbl{align}{left} {weight}{_rtf_escape(text)}\\b0\\cell")
        return f"\\trowd\\trgaph80{defs}\n" + "\n".join(body) + "\n\\row\n"

    parts = ["{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\fs18\n"]
    parts.append(f"\\pard\\sa120\\b {_rtf_escape(table.title)}\\b0\\par\n")
    parts.append(row(list(table.columns), header=True))
    for r in table.rows:
        parts.append(row([r.label, *r.cells], indent=r.indent))
    parts.append("\\pard\\sa60\\par\n")
    for note in table.footnotes:
        parts.append(f"\\pard\\fs16 {_rtf_escape(note)}\\par\n")
    parts.append("}\n")
    return "".join(parts)
