"""Uploaded photos: recognised by their bytes, decoded, and re-encoded without metadata.

The file name and the declared content type are never trusted: the first
bytes decide the format, only that format's decoder may open the file (so a
polyglot cannot pick another decoder), and what is kept is a fresh encoding
of the pixels. EXIF (GPS position, camera, owner), XMP and text chunks are
gone; the orientation is applied to the pixels first so nothing looks
rotated. HEIC photos from phones become JPEG.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC support is optional at run time; without it HEIC is refused as a wrong type.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    HEIC_SUPPORTED = False

MAX_PIXELS = 60_000_000  # a 12 MP phone photo is 12 M; more is a decompression bomb
JPEG_QUALITY = 85
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_DECODER = {"jpeg": "JPEG", "png": "PNG", "heic": "HEIF"}


class PhotoError(ValueError):
    """A photo was refused; `key` is the catalogue key of the message to show."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Photo:
    data: bytes
    media_type: str
    extension: str
    width: int
    height: int
    original_type: str
    original_size: int


def sniff(data: bytes) -> str | None:
    """`jpeg`, `png` or `heic` by the file's signature, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heic" if HEIC_SUPPORTED else None
    return None


def reencode(data: bytes, max_side: int) -> Photo:
    """The photo's pixels, re-encoded (PNG stays PNG, the rest becomes JPEG), at most
    `max_side` pixels on the long side; raises PhotoError."""
    kind = sniff(data)
    if kind is None:
        raise PhotoError("err_photo_type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _decode(data, kind)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise PhotoError("err_photo_broken") from exc
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if kind == "png":
        image.save(out, "PNG", optimize=True)
        media_type, extension = "image/png", "png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        media_type, extension = "image/jpeg", "jpg"
    return Photo(
        data=out.getvalue(),
        media_type=media_type,
        extension=extension,
        width=image.width,
        height=image.height,
        original_type=f"image/{kind}",
        original_size=len(data),
    )


def _decode(data: bytes, kind: str) -> Image.Image:
    """Open with the one decoder the signature names, load every pixel, apply orientation."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with Image.open(io.BytesIO(data), formats=[_DECODER[kind]]) as opened:
        opened.load()
        upright = ImageOps.exif_transpose(opened)
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
    # A new image from the pixels alone: no `info` (EXIF, XMP, ICC, text) comes along.
    return Image.frombytes(upright.mode, upright.size, upright.tobytes())
