"""Cleaning a page image before OCR: upright, grey, contrasted, straight, a sensible size.

Phone photos arrive sideways with an EXIF orientation tag, dim and a few degrees
askew; scans arrive at 150–600 dpi. OCR engines read best from an upright, evenly
contrasted page whose text is 25–60 px high, so that is what this makes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

MAX_SIDE = 3600  # longer side in pixels after scaling (≈ A4 at 300 dpi)
MIN_SIDE = 1600  # a low-dpi scan is enlarged to at least this (≈ A4 at 135 dpi)
SKEW_RANGE = 6.0  # degrees searched either way
SKEW_STEP = 0.25


def prepare(image: Image.Image) -> tuple[Image.Image, float]:
    """The page ready for OCR and the skew angle (degrees) that was corrected."""
    upright = _exif_upright(image)
    grey = upright.convert("L")
    grey = _scaled(grey)
    grey = ImageOps.autocontrast(grey, cutoff=1)
    angle = estimate_skew(grey)
    if abs(angle) >= SKEW_STEP:
        grey = grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return grey, angle


def _exif_upright(image: Image.Image) -> Image.Image:
    orientation = image.info.get("exif_orientation")
    if orientation and orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.info["exif"] = exif.tobytes()
    transposed = ImageOps.exif_transpose(image)
    return transposed if transposed is not None else image


def _scaled(image: Image.Image) -> Image.Image:
    longest = max(image.size)
    if longest > MAX_SIDE:
        factor = MAX_SIDE / longest
    elif longest < MIN_SIDE:
        factor = MIN_SIDE / longest
    else:
        return image
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def estimate_skew(grey: Image.Image) -> float:
    """The rotation (degrees, counter-clockwise positive) that makes text lines horizontal.

    Projection profile: rotate a small binarised copy through candidate angles and
    keep the one whose row sums are most uneven (text rows dark, gaps white).
    """
    small = grey.copy()
    small.thumbnail((900, 900))
    ink = np.asarray(small) < 128
    if ink.mean() < 0.002:  # a blank page has no lines to straighten
        return 0.0
    mask = Image.fromarray((ink * 255).astype(np.uint8))
    coarse = _best_angle(mask, [float(a) for a in range(-int(SKEW_RANGE), int(SKEW_RANGE) + 1)])
    fine = [coarse + SKEW_STEP * step for step in range(-4, 5)]
    return _best_angle(mask, fine)


def _best_angle(mask: Image.Image, angles: list[float]) -> float:
    best_angle, best_score = 0.0, -1.0
    for angle in angles:
        rows = np.asarray(mask.rotate(angle, resample=Image.Resampling.NEAREST)).sum(axis=1)
        score = float(np.var(rows.astype(np.float64)))
        if score > best_score:
            best_angle, best_score = angle, score
    return best_angle
