"""The `letter` channel: scanned letters (JPEG, PNG, TIFF, PDF) read by OCR, zh and en.

Three ways in: a watched drop folder per account (`listen`), an upload endpoint
(`POST /api/v1/letters`) and `complaint-gateway ingest --channel letter FILE…`. The
pipeline's normaliser does the OCR in worker processes (`pool`), pulls the letter's
fields out (`structure`) and flags pages it is unsure of for review (`normalise`).
"""

from __future__ import annotations

import asyncio
import os
import time

from aiohttp import web

from channels.base import AccountView, ChannelHost, ChannelType, NormaliseError, RawInput
from channels.letter.folder import DropFolder
from channels.letter.normalise import letter_draft
from channels.letter.pages import UnreadableLetter
from channels.letter.pool import run_in_pool
from channels.letter.samples import char_accuracy, render, sample_letters, to_bytes
from channels.letter.scan import scan_document
from channels.letter.settings import LetterSettings
from channels.letter.upload import upload_routes
from channels.registry import register
from storage.records import ChannelKind, ComplaintDraft


class LetterChannel(ChannelType):
    kind = "letter"
    family = ChannelKind.LETTER
    settings_model = LetterSettings
    description = "scanned letters from a drop folder, an upload or ingest; OCR zh + en"
    has_listener = True
    cpu_bound = True

    def routes(self, host: ChannelHost) -> list[web.AbstractRouteDef]:
        return upload_routes(host)

    async def listen(self, account: AccountView, host: ChannelHost) -> None:
        settings = LetterSettings.model_validate(account.settings)
        if settings.drop_folder is None:  # upload / ingest only: nothing to watch
            await asyncio.Event().wait()
        await DropFolder(account, host, settings).run()

    def normalise(self, raw: RawInput) -> ComplaintDraft:
        settings = LetterSettings.model_validate(raw.settings)
        try:
            scan = run_in_pool(scan_document, raw.data, settings.scan_options())
        except UnreadableLetter as exc:
            raise NormaliseError(str(exc)) from exc
        return letter_draft(raw, scan, settings)

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        """Check the folders, then read a rendered sample letter to prove OCR works offline."""
        settings = LetterSettings.model_validate(account.settings)
        report = [f"letter: settings valid (engine {settings.engine})"]
        if settings.drop_folder:
            for folder in settings.folders():
                folder.mkdir(parents=True, exist_ok=True)
                usable = os.access(folder, os.R_OK | os.W_OK | os.X_OK)
                report.append(f"folder {folder}: {'ok' if usable else 'NOT readable/writable'}")
        sample = sample_letters(1)[0]
        started = time.perf_counter()
        scan = await asyncio.to_thread(
            run_in_pool, scan_document, to_bytes(render(sample)), settings.scan_options()
        )
        text = "\n".join(line.text for line in scan.pages[0].lines)
        report.append(
            f"OCR sample page: accuracy {char_accuracy(sample.text(), text):.3f}, "
            f"{time.perf_counter() - started:.1f} s ({scan.engine})"
        )
        return report


register(LetterChannel())
