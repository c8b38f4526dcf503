"""Scanned letters mailed in: the e-mail channel's PDF/TIFF attachments go to the letter OCR.

The e-mail normaliser marks a mail carrying documents (hint `documents`); once its
record is stored, each such attachment is accepted on the first enabled `letter`
account (provider id `handover:REFERENCE:SHA256`, so a replay hands nothing over twice)
and read like any scan. Its draft names the e-mail's complaint as `follow_up_of`, so the
letter's text and page images join that complaint instead of opening a second one.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from gateway.intake import accept
from gateway.services import Services
from storage.records import ComplaintDraft
from storage.tables import ChannelAccount

log = logging.getLogger(__name__)
DOCUMENTS_HINT = "documents"
DOCUMENT_TYPES = frozenset({"application/pdf", "image/tiff"})


async def hand_over_documents(svc: Services, reference: str, draft: ComplaintDraft) -> list[int]:
    """Queue the draft's document attachments for OCR; returns the new raw ids."""
    if DOCUMENTS_HINT not in draft.hints or draft.channel.value == "letter":
        return []
    async with svc.sessions() as session:
        account = await session.scalar(
            select(ChannelAccount)
            .where(ChannelAccount.kind == "letter", ChannelAccount.enabled)
            .order_by(ChannelAccount.name != "letter", ChannelAccount.name)
            .limit(1)
        )
    if account is None:
        log.info("documents not read: no enabled letter account", extra={"reference": reference})
        return []
    raw_ids = []
    for attachment in draft.attachments:
        data = draft.attachment_data.get(attachment.sha256)
        if attachment.media_type not in DOCUMENT_TYPES or data is None:
            continue
        accepted = await accept(
            svc,
            account,
            "letter",
            provider_id=f"handover:{reference}:{attachment.sha256}",
            data=data,
            media_type=attachment.media_type,
            meta={"filename": attachment.name, "source": "email", "follow_up_of": reference},
        )
        if not accepted.duplicate:
            raw_ids.append(accepted.raw_id)
    return raw_ids
