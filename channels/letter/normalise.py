"""A read letter → a complaint draft: fields in their places, pages kept, doubts flagged.

A page read with a mean confidence below the account's threshold, or a letter whose
contact could not be read, is not guessed at: the draft carries a hint
(`ocr_low_confidence`, `contact_unreadable`) and the gateway holds the record for review.
"""

from __future__ import annotations

from typing import Any

from channels.base import RawInput
from channels.letter.layout import Row, paragraph_text, paragraphs, rows, text_rows
from channels.letter.scan import Scan
from channels.letter.settings import LetterSettings
from channels.letter.structure import LetterFields, parse_letter
from storage.records import ChannelKind, Complainant, ComplaintDraft, Product

LOW_CONFIDENCE = "ocr_low_confidence"
CONTACT_UNREADABLE = "contact_unreadable"
REVIEW_HINTS = (LOW_CONFIDENCE, CONTACT_UNREADABLE)


def page_paragraphs(scan: Scan) -> list[list[Row]]:
    """Every page's paragraphs in reading order (a paragraph does not run across pages)."""
    result: list[list[Row]] = []
    for page in scan.pages:
        page_rows = text_rows(page.text_layer) if page.text_layer is not None else rows(page.lines)
        result.extend(paragraphs(page_rows))
    return result


def transcript_of(scan: Scan) -> str:
    """The whole letter as read, paragraphs separated by a blank line."""
    return "\n\n".join(paragraph_text(p) for p in page_paragraphs(scan))


def fields_of_text(text: str) -> LetterFields:
    """Fields from a transcript (blank lines between paragraphs), e.g. a reviewer's correction."""
    blocks = [block.splitlines() for block in text.replace("\r\n", "\n").split("\n\n")]
    return parse_letter([[line for line in block if line.strip()] for block in blocks])


def build_draft(
    raw: RawInput,
    fields: LetterFields,
    *,
    transcript: str,
    hints: list[str],
    detail: dict[str, Any],
) -> ComplaintDraft:
    """The draft for a letter whose fields are known (from OCR, or from a reviewer)."""
    body = "\n\n".join(fields.body) if fields.body else transcript
    return ComplaintDraft(
        channel=ChannelKind.LETTER,
        channel_account=raw.account,
        provider_ids=[raw.provider_id],
        received_at=raw.received_at,
        complainant=Complainant(
            name=fields.sender_name,
            phones=list(fields.phones),
            email=fields.email,
            address=fields.address,
            language=fields.language,
        ),
        subject=fields.title,
        body=body,
        language=fields.language,
        product=Product(
            model=fields.model,
            specification=fields.specification,
            serial=fields.serial,
            quantity=fields.quantity,
        ),
        order_number=fields.order_number,
        hints=hints,
        channel_detail={**detail, "letter": letter_parts(fields), "transcript": transcript},
    )


def letter_parts(fields: LetterFields) -> dict[str, Any]:
    return {
        "salutation": fields.salutation,
        "closing": fields.closing,
        "date_line": fields.date_line,
        "letter_date": fields.letter_date.isoformat() if fields.letter_date else None,
        "paragraphs": len(fields.body),
        "unreadable": list(fields.unreadable),
    }


def review_hints(fields: LetterFields, low_pages: list[int]) -> list[str]:
    hints = [LOW_CONFIDENCE] if low_pages else []
    if not fields.has_contact() or fields.unreadable:
        hints.append(CONTACT_UNREADABLE)
    return hints


def letter_draft(raw: RawInput, scan: Scan, settings: LetterSettings) -> ComplaintDraft:
    """The draft for one scanned file; page images become attachments."""
    transcript = transcript_of(scan)
    fields = parse_letter([[row.text for row in p] for p in page_paragraphs(scan)])
    low_pages = [
        page.number
        for page in scan.pages
        if page.source == "ocr" and page.confidence < settings.min_confidence
    ]
    detail = {
        "ocr": {
            "engine": scan.engine,
            "seconds": round(scan.seconds, 2),
            "min_confidence": settings.min_confidence,
            "low_confidence_pages": low_pages,
            "pages": [
                {
                    "page": page.number,
                    "source": page.source,
                    "confidence": round(page.confidence, 4),
                    "skew_degrees": page.skew_degrees,
                    "lines": len(page.lines),
                }
                for page in scan.pages
            ],
        },
        "filename": raw.meta.get("filename"),
    }
    draft = build_draft(
        raw, fields, transcript=transcript, hints=review_hints(fields, low_pages), detail=detail
    )
    for page in scan.pages:
        draft.add_attachment(f"page-{page.number}.jpg", "image/jpeg", page.image_jpeg)
    if isinstance(raw.meta.get("follow_up_of"), str):  # a letter mailed in (letter_handover)
        draft.follow_up_of = raw.meta["follow_up_of"]
    return draft


def revise(draft: ComplaintDraft, text: str | None) -> ComplaintDraft:
    """The draft after a reviewer confirmed (`text` None) or corrected the transcript.

    A corrected transcript is read again like a page: what it states replaces what OCR
    made of it; what it leaves out keeps its earlier value. The review hints are cleared.
    """
    revised = draft.model_copy(deep=True)
    revised.hints = [h for h in draft.hints if h not in REVIEW_HINTS] + ["ocr_reviewed"]
    if text is None:
        return revised
    fields = fields_of_text(text)
    who = draft.complainant
    revised.body = "\n\n".join(fields.body) if fields.body else text.strip()
    revised.subject = fields.title or draft.subject
    revised.language = fields.language
    revised.complainant = Complainant(
        name=fields.sender_name or who.name,
        phones=list(fields.phones) or list(who.phones),
        email=fields.email or who.email,
        handle=who.handle,
        address=fields.address or who.address,
        language=fields.language,
    )
    revised.product = Product(
        model=fields.model or draft.product.model,
        specification=fields.specification or draft.product.specification,
        serial=fields.serial or draft.product.serial,
        quantity=fields.quantity if fields.quantity is not None else draft.product.quantity,
    )
    revised.order_number = fields.order_number or draft.order_number
    revised.channel_detail = {
        **draft.channel_detail,
        "letter": letter_parts(fields),
        "transcript": text.strip(),
    }
    return revised
