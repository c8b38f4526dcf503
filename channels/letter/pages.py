"""Turning an uploaded file into pages: images (JPEG, PNG, multi-page TIFF) or PDF pages.

Every limit is checked before the expensive work: the file type by its first bytes (not
its name), the page count, and each page's pixel count before it is decoded (a
decompression bomb is refused from its header). A PDF page with a real text layer gives
its text; other PDF pages are rendered to images for OCR.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageSequence, UnidentifiedImageError

MIN_TEXT_LAYER_CHARS = 20  # fewer than this on a page: a scan with a stray label, OCR it


class UnreadableLetter(ValueError):
    """The file cannot be read as a letter; the message says why, in plain words."""


@dataclass(frozen=True)
class Limits:
    max_pages: int = 50
    max_pixels: int = 60_000_000
    render_dpi: int = 300


@dataclass
class PageSource:
    """One page: an image to OCR, or the text of a PDF text layer (with its rendering)."""

    number: int
    image: Image.Image
    text: str | None = None


def sniff(data: bytes) -> str:
    """The media type from the first bytes; UnreadableLetter if it is none we read."""
    if data.startswith(b"%PDF-") or data[:1024].find(b"%PDF-") >= 0:
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if not data:
        raise UnreadableLetter("the file is empty")
    raise UnreadableLetter("not a JPEG, PNG, TIFF or PDF file")


def load_pages(data: bytes, limits: Limits) -> Iterator[PageSource]:
    """The file's pages in order, each checked against `limits` before it is decoded."""
    media_type = sniff(data)
    if media_type == "application/pdf":
        yield from _pdf_pages(data, limits)
    else:
        yield from _image_pages(data, limits)


def count_pages(data: bytes, limits: Limits) -> int:
    """A cheap check of the whole file (type, page count, sizes) without OCR."""
    count = 0
    for page in load_pages(data, limits):
        page.image.close()
        count += 1
    if count == 0:
        raise UnreadableLetter("the file has no pages")
    return count


def _image_pages(data: bytes, limits: Limits) -> Iterator[PageSource]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableLetter(f"the image is too large to decode safely: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableLetter(f"the image is corrupt or unreadable: {exc}") from exc
    frames = getattr(image, "n_frames", 1)
    if frames > limits.max_pages:
        raise UnreadableLetter(f"the image has {frames} pages, more than {limits.max_pages}")
    for number, frame in enumerate(ImageSequence.Iterator(image), 1):
        _check_pixels(frame.width, frame.height, limits, number)
        try:
            frame.load()
            copy = frame.copy()
        except (OSError, SyntaxError, ValueError) as exc:
            raise UnreadableLetter(f"page {number} is corrupt or truncated: {exc}") from exc
        copy.info = dict(frame.info)
        if number == 1 and hasattr(image, "getexif"):
            copy.info["exif_orientation"] = image.getexif().get(0x0112, 1)
        yield PageSource(number, copy)


def _check_pixels(width: int, height: int, limits: Limits, number: int) -> None:
    if width * height > limits.max_pixels:
        raise UnreadableLetter(
            f"page {number} is {width}x{height} pixels, more than the limit of "
            f"{limits.max_pixels:,} (a decompression bomb or a far too fine scan)"
        )
    if width < 32 or height < 32:
        raise UnreadableLetter(f"page {number} is only {width}x{height} pixels")


def _pdf_pages(data: bytes, limits: Limits) -> Iterator[PageSource]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise UnreadableLetter("the PDF is encrypted (password protected)") from exc
        raise UnreadableLetter(f"the PDF is corrupt or unreadable: {message}") from exc
    try:
        pages = len(document)
        if pages > limits.max_pages:
            raise UnreadableLetter(f"the PDF has {pages} pages, more than {limits.max_pages}")
        scale = limits.render_dpi / 72
        for index in range(pages):
            page = document[index]
            width, height = page.get_size()
            _check_pixels(round(width * scale), round(height * scale), limits, index + 1)
            text_page = page.get_textpage()
            text = text_page.get_text_bounded().replace("\r\n", "\n").strip()
            text_page.close()
            rendered = page.render(scale=scale, grayscale=True).to_pil()
            page.close()
            usable = len("".join(text.split())) >= MIN_TEXT_LAYER_CHARS
            yield PageSource(index + 1, rendered, text if usable else None)
    except pdfium.PdfiumError as exc:
        raise UnreadableLetter(f"the PDF is corrupt or unreadable: {exc}") from exc
    finally:
        document.close()
