"""Reading a whole file: pages → prepared images → OCR lines (or the PDF text layer).

`scan_document` is what runs in the OCR worker processes (see `pool`): it takes the
file's bytes and returns plain picklable values, so nothing but bytes and text crosses
the process boundary.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

from PIL import Image

from channels.letter.engines import OcrLine, get_engine
from channels.letter.pages import Limits, load_pages
from channels.letter.prepare import prepare

# A page read this badly (or this little) is tried the other way up too.
RETRY_BELOW_CONFIDENCE = 0.9
RETRY_BELOW_CHARS = 60
ATTACHMENT_MAX_SIDE = 2480  # page images kept for review: A4 at 212 dpi, JPEG


@dataclass(frozen=True)
class ScanOptions:
    engine: str = "rapidocr"
    languages: tuple[str, ...] = ("zh", "en")
    limits: Limits = field(default_factory=Limits)


@dataclass
class ScannedPage:
    """One page's reading; `confidence` is the character-weighted mean (1.0 for a text layer)."""

    number: int
    source: str  # "ocr" or "text_layer"
    lines: list[OcrLine]
    confidence: float
    skew_degrees: float
    image_jpeg: bytes
    text_layer: str | None = None


@dataclass
class Scan:
    pages: list[ScannedPage]
    engine: str
    seconds: float


def scan_document(data: bytes, options: ScanOptions) -> Scan:
    """OCR every page of `data`; raises `pages.UnreadableLetter` for files it cannot read."""
    started = time.perf_counter()
    engine_version = "pdf text layer"
    pages: list[ScannedPage] = []
    for source in load_pages(data, options.limits):
        if source.text is not None:
            pages.append(
                ScannedPage(
                    source.number, "text_layer", [], 1.0, 0.0, _jpeg(source.image), source.text
                )
            )
            continue
        prepared, skew = prepare(source.image)
        engine = get_engine(options.engine)
        engine_version = engine.version
        lines = engine.read(prepared, options.languages)
        if _doubtful(lines):  # perhaps scanned upside down
            turned = prepared.rotate(180)
            turned_lines = engine.read(turned, options.languages)
            if mean_confidence(turned_lines) > mean_confidence(lines):
                prepared, lines, skew = turned, turned_lines, skew + 180
        pages.append(
            ScannedPage(source.number, "ocr", lines, mean_confidence(lines), skew, _jpeg(prepared))
        )
    return Scan(pages, engine_version, time.perf_counter() - started)


def _doubtful(lines: list[OcrLine]) -> bool:
    chars = sum(len(line.text) for line in lines)
    return chars < RETRY_BELOW_CHARS or mean_confidence(lines) < RETRY_BELOW_CONFIDENCE


def mean_confidence(lines: list[OcrLine]) -> float:
    """Confidence weighted by line length; an empty page has none (0.0)."""
    chars = sum(len(line.text) for line in lines)
    if chars == 0:
        return 0.0
    return sum(line.confidence * len(line.text) for line in lines) / chars


def _jpeg(image: Image.Image) -> bytes:
    copy = image.convert("L")
    copy.thumbnail((ATTACHMENT_MAX_SIDE, ATTACHMENT_MAX_SIDE))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
