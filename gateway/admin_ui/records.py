"""Records: the filtered, searchable list, one record in full, and its correction form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from gateway.admin_ui.permissions import Perm, allowed
from gateway.admin_ui.web import PREFIX, USER, render, require, svc_of
from gateway.corrections import EDITABLE_FIELDS, Correction, CorrectionError, apply_correction
from gateway.logs import mask
from gateway.record_view import record_document
from storage.archive import load_blob
from storage.complaints import find_complaint
from storage.record_search import RecordFilter, search_records
from storage.tables import RawMessage

FILTERS = ("channel", "department", "severity", "validity", "needs_review", "overdue")
CHANNELS = ("hotline", "email", "webform", "social", "letter", "api")


def _day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as error:
        raise web.HTTPBadRequest(text=f"dates are YYYY-MM-DD, got {value!r}") from error
    return day + timedelta(days=1) if end else day


def record_filter(query: Any) -> RecordFilter:
    review = query.get("needs_review")
    before = query.get("before")
    return RecordFilter(
        channel=query.get("channel") or None,
        department=query.get("department") or None,
        severity=query.get("severity") or None,
        validity=query.get("validity") or None,
        needs_review={"1": True, "0": False}.get(review or ""),
        overdue=query.get("overdue") == "1",
        since=_day(query.get("since")),
        until=_day(query.get("until"), end=True),
        q=(query.get("q") or "").strip()[:200] or None,
        before_id=int(before) if before and before.isdigit() else None,
    )


def taxonomy(request: web.Request) -> Any:
    return svc_of(request).classify.classifier.taxonomy


@require(Perm.RECORDS_READ)
async def records_list(request: web.Request) -> web.Response:
    svc = svc_of(request)
    f = record_filter(request.query)
    size = svc.settings.admin.page_size
    async with svc.sessions() as session:
        rows = await search_records(session, f, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    personal = allowed(request[USER].role, Perm.PERSONAL_DATA)
    query = {k: v for k, v in request.query.items() if k != "before"}
    next_query = {**query, "before": str(rows[-1].id)} if more and rows else None
    return render(
        request,
        "records.html",
        rows=rows,
        shown=(lambda text: text) if personal else mask,
        query=query,
        next_query=next_query,
        channels=CHANNELS,
        taxonomy=taxonomy(request),
    )


async def _document(request: web.Request) -> dict[str, Any]:
    svc = svc_of(request)
    async with svc.sessions() as session:
        row = await find_complaint(session, request.match_info["reference"])
        if row is None:
            raise web.HTTPNotFound(text="no such complaint")
        return await record_document(session, row)


def redact(document: dict[str, Any]) -> dict[str, Any]:
    """The record without personal data, for roles that do not need it."""
    hidden = dict(document)
    hidden["complainant"] = {
        key: ("•••" if value else value)
        for key, value in (document.get("complainant") or {}).items()
    }
    hidden["body"] = mask(str(document.get("body") or ""))
    hidden["subject"] = mask(str(document.get("subject") or "")) or None
    entities = dict((document.get("classification") or {}).get("entities") or {})
    for key in ("phones", "phone", "emails", "email", "addresses", "address", "names"):
        if key in entities:
            entities[key] = "•••"
    hidden["classification"] = {**document.get("classification", {}), "entities": entities}
    hidden["history"] = [_redact_entry(entry) for entry in document.get("history") or []]
    return hidden


def _redact_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry without corrected contact details (before and after)."""
    fields = (entry.get("detail") or {}).get("fields")
    if not isinstance(fields, dict):
        return entry
    masked = {
        name: {"before": "•••", "after": "•••"} if name.startswith("complainant.") else change
        for name, change in fields.items()
    }
    return {**entry, "detail": {**entry["detail"], "fields": masked}}


@require(Perm.RECORDS_READ)
async def record_page(request: web.Request) -> web.Response:
    return await show_record(request)


async def show_record(request: web.Request, problem: str = "", status: int = 200) -> web.Response:
    document = await _document(request)
    personal = allowed(request[USER].role, Perm.PERSONAL_DATA)
    return render(
        request,
        "record.html",
        status=status,
        doc=document if personal else redact(document),
        personal=personal,
        problem=problem,
        taxonomy=taxonomy(request),
        field_rows=field_rows(document) if personal else [],
    )


@require(Perm.PERSONAL_DATA)
async def original(request: web.Request) -> web.StreamResponse:
    """The archived raw input as it arrived (a download, never rendered as a page)."""
    document = await _document(request)
    svc = svc_of(request)
    async with svc.sessions() as session:
        raw = await session.get(RawMessage, int(document["raw_id"]))
        if raw is None:
            raise web.HTTPNotFound(text="the raw input is gone")
        data = await load_blob(session, raw.sha256)
    return _download(data, f"{document['reference']}.raw", raw.media_type)


@require(Perm.PERSONAL_DATA)
async def attachment(request: web.Request) -> web.StreamResponse:
    document = await _document(request)
    wanted = request.match_info["sha"]
    for item in document.get("attachments") or []:
        if item.get("sha256") == wanted or item.get("storage_key") == wanted:
            async with svc_of(request).sessions() as session:
                data = await load_blob(session, str(item.get("sha256") or wanted))
            return _download(data, str(item.get("name") or wanted), str(item["media_type"]))
    raise web.HTTPNotFound(text="no such attachment")


def _download(data: bytes, name: str, media_type: str) -> web.Response:
    inline = media_type in ("image/jpeg", "image/png")
    disposition = "inline" if inline else "attachment"
    safe = "".join(c for c in name if c.isalnum() or c in "._-") or "file"
    return web.Response(
        body=data,
        content_type=media_type if inline else "application/octet-stream",
        headers={"Content-Disposition": f'{disposition}; filename="{safe}"'},
    )


def correction_from_form(form: Any) -> Correction:
    def value(name: str) -> str | None:
        text = str(form.get(name, "")).strip()
        return text or None

    flags = None
    if form.get("flags_present") == "1":
        flags = [str(f) for f in form.getall("flags", [])]
    # Every editable field is in the form; only those that differ from the record change.
    fields = {
        name: str(form[f"field.{name}"]) for name in EDITABLE_FIELDS if f"field.{name}" in form
    }
    return Correction(
        validity=value("validity"),
        reason=value("reason"),
        severity=value("severity"),
        flags=flags,
        department=value("department"),
        fields=fields or None,
    )


def field_rows(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, current value as the form shows it) for every editable field."""
    rows = []
    for name in EDITABLE_FIELDS:
        value: Any = document
        for part in name.split("."):
            value = (value or {}).get(part) if isinstance(value, dict) else None
        shown = ", ".join(value) if isinstance(value, list) else "" if value is None else value
        rows.append((name, str(shown)))
    return rows


@require(Perm.CORRECT)
async def correct(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    reference = request.match_info["reference"]
    try:
        await apply_correction(
            svc_of(request),
            reference,
            correction_from_form(form),
            actor=request[USER].username,
            note=str(form.get("note", "")),
        )
    except CorrectionError as error:
        if str(error).startswith("no complaint"):
            raise web.HTTPNotFound(text=str(error)) from error
        return await show_record(request, problem=str(error), status=422)
    target = str(form.get("then", "")) or f"{PREFIX}/records/{reference}"
    if not target.startswith(PREFIX + "/"):
        target = f"{PREFIX}/records/{reference}"
    raise web.HTTPSeeOther(target)
