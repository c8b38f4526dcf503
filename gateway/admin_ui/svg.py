"""Small server-side SVG charts (no JavaScript, no CDN): a heat map, lines and bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def heatmap(rows: Sequence[str], cols: Sequence[str], cells: dict[tuple[str, str], int]) -> str:
    """Counts by (row, column); darker is more."""
    cell, left, top = 34, 130, 90
    peak = max(cells.values(), default=0) or 1
    width, height = left + cell * len(cols) + 10, top + cell * len(rows) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
    ]
    for j, col in enumerate(cols):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text x="{x}" y="{top - 6}" font-size="11" transform="rotate(-45 {x} {top - 6})">'
            f"{escape(col)}</text>"
        )
    for i, row in enumerate(rows):
        y = top + i * cell
        parts.append(f'<text x="4" y="{y + cell / 2 + 4}" font-size="11">{escape(row)}</text>')
        for j, col in enumerate(cols):
            count = cells.get((row, col), 0)
            shade = int(245 - 200 * count / peak)
            parts.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="rgb({shade},{shade},255)"><title>{escape(row)} → {escape(col)}: {count}'
                f"</title></rect>"
            )
            if count:
                parts.append(
                    f'<text x="{left + j * cell + 8}" y="{y + cell / 2 + 4}" font-size="11">'
                    f"{count}</text>"
                )
    parts.append("</svg>")
    return "".join(parts)


def lines(xs: Sequence[str], series: Mapping[str, Sequence[float | None]], top: float = 1.0) -> str:
    """One line per series over the x labels; values in [0, top]."""
    width, height, left, bottom = 640, 260, 40, 40
    plot_w, plot_h = width - left - 150, height - bottom - 10
    step = plot_w / max(len(xs) - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
    ]
    parts.append(
        f'<line x1="{left}" y1="{10 + plot_h}" x2="{left + plot_w}" '
        f'y2="{10 + plot_h}" stroke="#999"/>'
    )
    for k, label in enumerate(xs):
        parts.append(
            f'<text x="{left + k * step - 12}" y="{height - 20}" font-size="10">'
            f"{escape(label)}</text>"
        )
    for n, (name, values) in enumerate(sorted(series.items())):
        color = PALETTE[n % len(PALETTE)]
        points = [
            f"{left + k * step:.1f},{10 + plot_h * (1 - v / top):.1f}"
            for k, v in enumerate(values)
            if v is not None
        ]
        if points:
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                f'points="{" ".join(points)}"/>'
            )
        parts.append(
            f'<text x="{left + plot_w + 10}" y="{20 + 14 * n}" font-size="11" fill="{color}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bars(items: Sequence[tuple[str, int]]) -> str:
    """Horizontal bars, longest first as given."""
    width, row = 520, 22
    peak = max((v for _, v in items), default=0) or 1
    height = row * len(items) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        length = 300 * value / peak
        parts.append(f'<text x="4" y="{y + 14}" font-size="11">{escape(label)}</text>')
        parts.append(
            f'<rect x="200" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="#1f77b4"/>'
        )
        parts.append(f'<text x="{205 + length:.1f}" y="{y + 14}" font-size="11">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)
