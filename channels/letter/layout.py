"""From OCR boxes to reading order: rows of text, then paragraphs.

An engine returns boxes, sometimes several on one visual line (a date set to the right,
a wide gap). Boxes whose vertical centres are close form a row, read left to right. A
paragraph ends where the next row starts after a larger gap, starts indented (Chinese
letters indent two characters), or where a row stops short of the right margin by more
than the next row's first word would have needed.
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass

from channels.letter.engines import OcrLine

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class Row:
    text: str
    left: float
    top: float
    right: float
    bottom: float
    confidence: float


def join_text(left: str, right: str) -> str:
    """Glue two pieces of one line or paragraph: no space between CJK, one between words."""
    if not left:
        return right
    if not right:
        return left
    if _CJK.match(left[-1]) or _CJK.match(right[0]):
        return left + right
    return f"{left} {right}"


def rows(lines: list[OcrLine]) -> list[Row]:
    """Boxes grouped into visual rows, top to bottom."""
    if not lines:
        return []
    height = statistics.median(line.height for line in lines) or 1.0
    ordered = sorted(lines, key=lambda line: (line.top + line.bottom) / 2)
    groups: list[list[OcrLine]] = []
    for line in ordered:
        centre = (line.top + line.bottom) / 2
        if groups:
            last = groups[-1]
            last_centre = sum((item.top + item.bottom) / 2 for item in last) / len(last)
            if abs(centre - last_centre) < 0.5 * height:
                last.append(line)
                continue
        groups.append([line])
    result = []
    for group in groups:
        group.sort(key=lambda line: line.left)
        text = ""
        for line in group:
            text = join_text(text, line.text.strip())
        chars = sum(len(line.text) for line in group) or 1
        result.append(
            Row(
                text=text,
                left=min(line.left for line in group),
                top=min(line.top for line in group),
                right=max(line.right for line in group),
                bottom=max(line.bottom for line in group),
                confidence=sum(line.confidence * len(line.text) for line in group) / chars,
            )
        )
    return result


def text_rows(text: str) -> list[Row]:
    """A PDF text layer as rows, measured in characters (a CJK character counts two)."""
    result = []
    for number, line in enumerate(text.splitlines()):
        clean = line.strip()
        if not clean:
            continue
        indent = len(line) - len(line.lstrip()) + 2 * (len(line) - len(line.lstrip("\u3000")))
        width = sum(2 if _CJK.match(ch) else 1 for ch in clean)
        result.append(Row(clean, indent, 2.0 * number, indent + width, 2.0 * number + 1.0, 1.0))
    return result


def paragraphs(rows_: list[Row]) -> list[list[Row]]:
    """Rows grouped into paragraphs (see the module docstring for the rules)."""
    if not rows_:
        return []
    height = statistics.median(row.bottom - row.top for row in rows_) or 1.0
    gaps = [b.top - a.bottom for a, b in itertools.pairwise(rows_)]
    usual_gap = statistics.median(gaps) if gaps else 0.0
    margin_left = min(row.left for row in rows_)
    margin_right = max(row.right for row in rows_)
    groups: list[list[Row]] = [[rows_[0]]]
    for previous, row in itertools.pairwise(rows_):
        gap = row.top - previous.bottom
        starts_new = (
            gap > usual_gap + 0.4 * height
            or row.left > margin_left + 1.2 * height
            or margin_right - previous.right > max(_first_word_width(row), 1.5 * height)
        )
        if starts_new:
            groups.append([row])
        else:
            groups[-1].append(row)
    return groups


def _first_word_width(row: Row) -> float:
    """How much room the row's first word (or CJK character) needs, with a space.

    A row that left at least that much room at the right margin ended its paragraph:
    had the paragraph gone on, the word would have fitted there.
    """
    text = row.text
    per_char = (row.right - row.left) / max(len(text), 1)
    word = text[:1] if _CJK.match(text[:1]) else text.split(" ", 1)[0]
    return per_char * (len(word) + 1)


def paragraph_text(paragraph: list[Row]) -> str:
    text = ""
    for row in paragraph:
        text = join_text(text, row.text)
    return text
