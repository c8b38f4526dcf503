"""OCR engines behind one small interface: a prepared page in, text lines with confidences out.

RapidOCR (PP-OCR models shipped inside the `rapidocr` wheel, run by onnxruntime) is the
default; Tesseract (`tesseract-ocr-chi-sim` from Debian) is the alternative measured in
`bench/ocr.py`. Neither downloads anything at run time. An engine is built once per process,
lazily, because RapidOCR holds several hundred MB once loaded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from PIL import Image

ENGINES = ("rapidocr", "tesseract")
_CJK_GAP = re.compile(
    r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]) (?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])"
)


@dataclass(frozen=True)
class OcrLine:
    """One recognised line: its text, the engine's confidence (0–1) and its box."""

    text: str
    confidence: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


class Engine(Protocol):
    name: str
    version: str

    def read(self, page: Image.Image, languages: tuple[str, ...]) -> list[OcrLine]: ...


class RapidOcrEngine:
    """PP-OCR detection + recognition; one model reads Simplified Chinese and English."""

    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr import RapidOCR
        from rapidocr._version import __version__

        self.version = f"rapidocr {__version__}"
        self._ocr = RapidOCR(
            params={
                "Global.log_level": "warning",
                # Pages are made upright before OCR (EXIF, deskew, a 180° retry in `scan`);
                # the per-line direction classifier only ever flipped good lines.
                "Global.use_cls": False,
                # Detection on a 1600 px long side (A4 at ~137 dpi): a third faster than the
                # default 2000, no loss measured on 9–12 pt letters (bench/ocr.py).
                "Global.max_side_len": 1600,
                # One core per engine: the process pool gives the parallelism.
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    def read(self, page: Image.Image, languages: tuple[str, ...]) -> list[OcrLine]:
        import numpy as np

        result: Any = self._ocr(np.asarray(page.convert("RGB")))
        if result.boxes is None or result.txts is None:
            return []
        lines = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            xs = [float(point[0]) for point in box]
            ys = [float(point[1]) for point in box]
            lines.append(OcrLine(str(text), float(score), min(xs), min(ys), max(xs), max(ys)))
        return lines


class TesseractEngine:
    """Tesseract 5 LSTM, `chi_sim+eng`; word confidences averaged per line."""

    name = "tesseract"

    def __init__(self) -> None:
        import pytesseract

        # Tesseract's OpenMP threads make it several times slower on a shared CPU.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self._tess = pytesseract
        self.version = f"tesseract {pytesseract.get_tesseract_version()}"

    def read(self, page: Image.Image, languages: tuple[str, ...]) -> list[OcrLine]:
        codes = {"zh": "chi_sim", "en": "eng"}
        lang = "+".join(codes[code] for code in languages if code in codes) or "chi_sim+eng"
        data = self._tess.image_to_data(
            page, lang=lang, output_type=self._tess.Output.DICT, config="--psm 3"
        )
        grouped: dict[tuple[int, int, int], list[int]] = {}
        for i, word in enumerate(data["text"]):
            if str(word).strip() and float(data["conf"][i]) >= 0:
                key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
                grouped.setdefault(key, []).append(i)
        lines = []
        for indexes in grouped.values():
            text = _CJK_GAP.sub("", " ".join(str(data["text"][i]) for i in indexes))
            confidence = sum(float(data["conf"][i]) for i in indexes) / len(indexes) / 100
            lines.append(
                OcrLine(
                    text,
                    confidence,
                    min(data["left"][i] for i in indexes),
                    min(data["top"][i] for i in indexes),
                    max(data["left"][i] + data["width"][i] for i in indexes),
                    max(data["top"][i] + data["height"][i] for i in indexes),
                )
            )
        return lines


@cache
def get_engine(name: str) -> Engine:
    """The process's engine of that name, built on first use."""
    if name == "rapidocr":
        return RapidOcrEngine()
    if name == "tesseract":
        return TesseractEngine()
    raise ValueError(f"unknown OCR engine {name!r} (known: {', '.join(ENGINES)})")
