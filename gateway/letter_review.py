"""The scanned-letter review queue (SPEC §3): letters OCR was unsure of, held for a person.

    GET  /api/v1/admin/letters/review                      the queue, oldest first
    GET  /api/v1/admin/letters/{reference}/pages/{number}   a page image (JPEG)
    POST /api/v1/admin/letters/{reference}/review           confirm or correct the text

A review body is `{"text": "…corrected transcript…", "complainant": {…},
"order_number": "…", "note": "…"}`; every key is optional and an empty body confirms
the letter as read. Who reviewed is whoever authenticated; an `actor` naming anyone else
is refused. The corrected letter is classified again, stored with
a `letter_reviewed` history row, and its routing is redone through
`gateway.corrections.apply_correction` (withdrawals, new deliveries, training example).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from channels.letter.normalise import revise
from gateway.admin_api import authenticated_actor
from gateway.api import SERVICES
from gateway.corrections import Correction, CorrectionError, apply_correction, corrected_decision
from gateway.errors import error_response
from gateway.linking import contact_key
from gateway.services import Services
from storage.archive import load_blob
from storage.db import utcnow
from storage.history import record_event
from storage.records import ChannelKind, Complainant, ComplaintDraft, ComplaintRecord
from storage.tables import Complaint

ADMIN_LETTERS = "/api/v1/admin/letters"
REVISED_FIELDS = ("body", "subject", "complainant", "product", "order_number", "language")


class ReviewError(LookupError):
    """The review cannot be applied; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ReviewComplainant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phones: list[str] | None = Field(default=None, max_length=5)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class Review(BaseModel):
    """A supervisor's verdict on a letter's reading; nothing set means "confirmed as read"."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1, max_length=100_000)
    complainant: ReviewComplainant | None = None
    order_number: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    actor: str | None = Field(default=None, max_length=200)


def _reviewed_draft(record: ComplaintRecord, review: Review) -> ComplaintDraft:
    draft = revise(ComplaintDraft.model_validate(record.model_dump()), review.text)
    if review.complainant is not None:
        given = review.complainant.model_dump(exclude_none=True)
        draft.complainant = Complainant(**{**draft.complainant.model_dump(), **given})
    if review.order_number:
        draft.order_number = review.order_number
    return draft


async def review_letter(
    svc: Services, reference: str, review: Review, actor: str
) -> dict[str, Any]:
    """Apply `review` to letter `reference`: store the text, classify and route it again."""
    note = review.note or ("text corrected" if review.text else "reading confirmed")
    async with svc.sessions.begin() as session:
        row = (
            await session.execute(
                select(Complaint).where(Complaint.reference == reference).with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            raise ReviewError(404, f"no complaint {reference}")
        if row.channel != ChannelKind.LETTER.value:
            raise ReviewError(409, f"{reference} is not a scanned letter")
        record = ComplaintRecord.model_validate(row.record)
        draft = _reviewed_draft(record, review)
        decision = svc.classify(draft)
        change = Correction(
            validity=decision.validity,
            reason=decision.reason,
            severity=decision.severity,
            flags=list(decision.flags),
            department=decision.department,
        )
        try:  # refuse before anything is written, not half-way
            corrected_decision(record.classification, change, actor=actor)
        except CorrectionError as exc:
            raise ReviewError(422, f"the reviewed letter cannot be classified: {exc}") from exc
        changed = sorted(
            key for key in REVISED_FIELDS if getattr(draft, key) != getattr(record, key)
        )
        updated = record.model_copy(deep=True)
        for key in (*REVISED_FIELDS, "hints", "channel_detail"):
            setattr(updated, key, getattr(draft, key))
        updated.classification = record.classification.model_copy(
            update={
                "entities": decision.entities,
                "confidence": decision.confidence,
                "explanation": decision.explanation,
            }
        )
        row.record = updated.model_dump(mode="json", exclude={"history", "routing"})
        row.contact_key = contact_key(draft)
        row.updated_at = utcnow()
        await record_event(
            session,
            "letter_reviewed",
            actor=actor,
            complaint_id=row.id,
            detail={"note": note, "changed": changed, "text_corrected": review.text is not None},
        )
    try:
        result = await apply_correction(
            svc, reference, change, actor=actor, note=f"letter review: {note}"
        )
    except CorrectionError as exc:  # the record changed meanwhile; the text stays stored
        raise ReviewError(409, str(exc)) from exc
    return {"reference": reference, "changed": changed, **result.as_dict()}


async def post_review(request: web.Request) -> web.Response:
    try:
        body = await request.json() if request.can_read_body else {}
        review = Review.model_validate(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return error_response(400, "invalid_json", f"the body is not valid JSON: {exc}")
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
            for err in exc.errors()
        ]
        return error_response(
            422, "validation_error", "the review has invalid fields", details=details
        )
    actor = authenticated_actor(request, review.actor)
    if isinstance(actor, web.Response):
        return actor
    try:
        result = await review_letter(
            request.app[SERVICES], request.match_info["reference"], review, actor
        )
    except ReviewError as exc:
        return error_response(exc.status, "review_refused", str(exc))
    return web.json_response(result)


async def get_queue(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    try:
        limit = max(1, min(int(request.query.get("limit") or 100), 500))
    except ValueError:
        return error_response(400, "invalid_limit", "limit must be a number")
    async with svc.sessions() as session:
        rows = (
            await session.execute(
                select(Complaint)
                .where(Complaint.channel == ChannelKind.LETTER.value, Complaint.needs_review)
                .order_by(Complaint.id)
                .limit(limit)
            )
        ).scalars()
        items = []
        for row in rows:
            record = row.record
            detail = record.get("channel_detail") or {}
            items.append(
                {
                    "reference": row.reference,
                    "received_at": record.get("received_at"),
                    "hints": record.get("hints", []),
                    "ocr": detail.get("ocr"),
                    "transcript": detail.get("transcript"),
                    "pages": [
                        f"{ADMIN_LETTERS}/{row.reference}/pages/{n}"
                        for n in range(1, len(record.get("attachments", [])) + 1)
                    ],
                }
            )
    return web.json_response({"letters": items})


async def get_page(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    reference = request.match_info["reference"]
    number = int(request.match_info["number"])
    async with svc.sessions() as session:
        row = (
            await session.execute(select(Complaint).where(Complaint.reference == reference))
        ).scalar_one_or_none()
        wanted = f"page-{number}.jpg"
        pages = [
            a for a in (row.record.get("attachments", []) if row else []) if a["name"] == wanted
        ]
        if row is None or row.channel != ChannelKind.LETTER.value or not pages:
            return error_response(404, "not_found", f"no page {number} of letter {reference}")
        data = await load_blob(session, pages[0]["sha256"])
    return web.Response(body=data, content_type="image/jpeg")


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{ADMIN_LETTERS}/review", get_queue)
    app.router.add_get(f"{ADMIN_LETTERS}/{{reference}}/pages/{{number:\\d+}}", get_page)
    app.router.add_post(f"{ADMIN_LETTERS}/{{reference}}/review", post_review)
