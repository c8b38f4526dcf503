"""A letter channel account's settings: where its scans arrive and how sure OCR must be."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from channels.letter.pages import Limits
from channels.letter.scan import ScanOptions

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")


class LetterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drop_folder: str | None = Field(
        default=None, description="watched folder; none means upload and ingest only"
    )
    done_folder: str | None = Field(default=None, description="default: DROP_FOLDER/done")
    failed_folder: str | None = Field(default=None, description="default: DROP_FOLDER/failed")
    poll_seconds: float = Field(default=2.0, gt=0, le=3600)
    stable_seconds: float = Field(
        default=3.0,
        ge=0,
        description="a file is taken once its size and time stop changing this long",
    )
    min_confidence: float = Field(
        default=0.85, ge=0, le=1, description="pages with a lower mean OCR confidence go to review"
    )
    languages: list[Language] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    max_file_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_pages: int = Field(default=50, gt=0, le=1000)
    max_pixels: int = Field(
        default=60_000_000, gt=0, description="per page, checked before decoding"
    )
    render_dpi: int = Field(default=300, ge=72, le=600, description="PDF pages without text")

    def folders(self) -> tuple[Path, Path, Path]:
        """(drop, done, failed); only valid when `drop_folder` is set."""
        if self.drop_folder is None:
            raise ValueError("this letter account has no drop_folder")
        drop = Path(self.drop_folder)
        done = Path(self.done_folder) if self.done_folder else drop / "done"
        failed = Path(self.failed_folder) if self.failed_folder else drop / "failed"
        return drop, done, failed

    def limits(self) -> Limits:
        return Limits(
            max_pages=self.max_pages, max_pixels=self.max_pixels, render_dpi=self.render_dpi
        )

    def scan_options(self) -> ScanOptions:
        return ScanOptions(
            engine=self.engine, languages=tuple(self.languages), limits=self.limits()
        )
