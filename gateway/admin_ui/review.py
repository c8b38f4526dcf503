"""The review queue: records held for a person (low confidence, unreadable scans).

One screen per record: the text, the decision and the correction form; `c` confirms,
`e` jumps to the form, `n` skips (admin.js). Confirming is a correction that changes no
label: it clears `needs_review`, so the record is routed to its department like any other.
"""

from __future__ import annotations

from aiohttp import web

from gateway.admin_ui.permissions import Perm
from gateway.admin_ui.records import field_rows, record_filter, taxonomy
from gateway.admin_ui.web import PREFIX, USER, render, require, svc_of
from gateway.corrections import Correction, CorrectionError, apply_correction
from gateway.record_view import record_document
from storage.complaints import find_complaint
from storage.record_search import RecordFilter, search_records


@require(Perm.REVIEW)
async def review_page(request: web.Request) -> web.Response:
    svc = svc_of(request)
    base = record_filter(request.query)
    f = RecordFilter(needs_review=True, before_id=base.before_id, channel=base.channel)
    async with svc.sessions() as session:
        queue = await search_records(session, f, 2)
        document = None
        if queue:
            row = await find_complaint(session, queue[0].reference)
            document = await record_document(session, row) if row else None
    return render(
        request,
        "review.html",
        doc=document,
        next_id=queue[0].id if queue else None,
        taxonomy=taxonomy(request),
        problem=request.query.get("problem", ""),
        field_rows=field_rows(document) if document else [],
    )


@require(Perm.REVIEW)
async def confirm(request: web.Request) -> web.StreamResponse:
    reference = request.match_info["reference"]
    try:
        await apply_correction(
            svc_of(request),
            reference,
            Correction(),
            actor=request[USER].username,
            note="confirmed in review",
        )
    except CorrectionError as error:
        return render(request, "error.html", status=422, message=str(error))
    raise web.HTTPSeeOther(f"{PREFIX}/review")
