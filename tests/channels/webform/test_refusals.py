"""Every refusal over HTTP: validation errors, CSRF, sizes, types, rate limits, honeypot.

Each refused post leaves nothing in the archive (the person is still on the
page to correct it; bots' floods are not kept).
"""

from __future__ import annotations

import io
import time

import pytest
from aiohttp import FormData
from PIL import Image
from sqlalchemy import func, select

from storage.accounts import find_account
from storage.tables import RawMessage
from tests.channels.webform.conftest import good_fields, jpeg_with_gps, reference_in


async def archived(gw) -> int:
    async with gw.svc.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(RawMessage)) or 0)


async def set_form_settings(gw, **settings) -> None:
    async with gw.svc.sessions.begin() as session:
        account = await find_account(session, "webform")
        assert account is not None
        account.settings = {**account.settings, **settings}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"description": ""}, "description", "Please fill this in."),
        ({"description": "too short"}, "description", "at least 10 characters"),
        ({"description": "x" * 5001}, "description", "at most 5000 characters"),
        ({"phone": "12345"}, "phone", "valid mainland China mobile number"),
        ({"phone": "010 6552 9988"}, "phone", "valid mainland China mobile number"),
        ({"email": "not-an-email"}, "email", "valid email address"),
        ({"phone": "", "email": "", "consent": ""}, "phone", "or tick “complain anonymously”"),
        ({"anonymous": "1"}, "anonymous", "untick “complain anonymously”"),
        ({"consent": ""}, "consent", "Tick the consent box"),
        ({"email": "", "preferred_contact": "email"}, "preferred_contact", "matching mobile"),
        ({"preferred_contact": "pigeon"}, "preferred_contact", "Choose one from the list."),
        ({"quantity": "0"}, "quantity", "whole number from 1 to 100000"),
        ({"quantity": "many"}, "quantity", "whole number from 1 to 100000"),
        ({"occurred_on": "2999-01-01"}, "occurred_on", "not later than today"),
        ({"occurred_on": "2026-02-30"}, "occurred_on", "not later than today"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"location": "x" * 301}, "location", "at most 300 characters"),
    ],
)
async def test_each_validation_error_is_shown_at_its_field(webgw, form, changes, field, message):
    status, html = await form.post(good_fields(lang="en", **changes))
    assert status == 422
    assert f'id="e-{field}"' in html, html[:2000]
    assert message in html.split(f'id="e-{field}">')[1].split("</p>")[0]
    assert f'href="#f-{field}"' in html  # the summary links to the field
    assert 'aria-invalid="true"' in html
    assert await archived(webgw) == 0


async def test_validation_messages_in_chinese_and_input_kept(webgw, form):
    status, html = await form.post(good_fields(phone="12345", description="太短了"))
    assert status == 422
    assert "请填写有效的中国大陆手机号码" in html and "请再多描述一些" in html
    assert 'value="12345"' in html and "太短了</textarea>" in html


async def test_csrf_token_is_required_and_bound_to_the_cookie(webgw, form):
    status, html = await form.post(good_fields(lang="en"), token="")
    assert status == 403 and "expired" in html
    status, _ = await form.post(good_fields(), token="1.2.3")
    assert status == 403
    token = await form.token()
    webgw.client.session.cookie_jar.clear()  # another browser: its own cookie
    status, _ = await form.post(good_fields(), token=token)
    assert status == 403
    stale = f"{int(time.time()) - 5 * 3600}." + token.split(".", 1)[1]
    status, _ = await form.post(good_fields(), token=stale)
    assert status == 403
    assert await archived(webgw) == 0


async def test_token_of_one_form_does_not_work_on_another(webgw, form):
    from storage.accounts import add_account

    async with webgw.svc.sessions.begin() as session:
        await add_account(session, "webform", "dealers", {})
    token = await form.token("/")
    status, _ = await form.post(good_fields(), path="/forms/dealers", token=token)
    assert status == 403


async def test_honeypot_refuses_and_keeps_nothing(webgw, form):
    status, html = await form.post(good_fields(lang="en", website="http://spam.example"))
    assert status == 400 and "could not be accepted" in html
    assert await archived(webgw) == 0


async def test_oversized_photo_is_refused_with_the_form_shown_again(webgw, form):
    await set_form_settings(webgw, max_photo_bytes=64 * 1024)
    big = jpeg_with_gps() + b"\0" * (65 * 1024)
    status, html = await form.post(good_fields(lang="en"), [("big.jpg", big, "image/jpeg")])
    assert status == 413
    assert "too large: at most 0.1 MB each" in html and 'id="f-description"' in html
    assert await archived(webgw) == 0


async def test_oversized_body_is_refused_before_reading_it(webgw, form):
    await set_form_settings(webgw, max_photo_bytes=1024 * 1024, max_photos=1)
    token = await form.token()
    data = FormData()
    data.add_field("_csrf", token)
    data.add_field("photos", b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024), filename="a.jpg")
    response = await webgw.client.post("/", data=data)
    assert response.status == 413
    assert await archived(webgw) == 0


@pytest.mark.parametrize(
    ("filename", "data", "content_type"),
    [
        ("photo.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/jpeg"),  # a GIF named .jpg
        ("scan.jpg", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "image/jpeg"),
        (
            "x.png",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "image/png",
        ),
        ("run.heic", b"MZ\x90\x00" + b"\0" * 100, "image/heic"),
    ],
)
async def test_wrong_file_type_is_sniffed_not_trusted(webgw, form, filename, data, content_type):
    status, html = await form.post(good_fields(lang="en"), [(filename, data, content_type)])
    assert status == 415
    assert "Only JPEG, PNG or HEIC photos" in html
    assert await archived(webgw) == 0


async def test_damaged_photo_is_refused(webgw, form):
    truncated = jpeg_with_gps()[:200]
    status, html = await form.post(good_fields(lang="en"), [("a.jpg", truncated, "image/jpeg")])
    assert status == 422 and "could not be read" in html


async def test_more_than_five_photos_are_refused(webgw, form):
    photo = jpeg_with_gps()
    photos = [(f"p{i}.jpg", photo, "image/jpeg") for i in range(6)]
    status, html = await form.post(good_fields(lang="en"), photos)
    assert status == 413 and "At most 5 photos" in html
    assert await archived(webgw) == 0


async def test_submissions_are_rate_limited_per_address(webgw, form):
    await set_form_settings(webgw, submit_limit={"count": 2, "seconds": 600})
    for _ in range(2):
        status, _ = await form.post(good_fields(description="short"))
        assert status == 422
    status, html = await form.post(good_fields(lang="en"))
    assert (
        status == 429 and "操作过于频繁" in html
    )  # before the body is read: cookie/header language
    response = await webgw.client.post("/", data={"x": "1"})
    assert response.status == 429 and int(response.headers["Retry-After"]) > 500
    assert await archived(webgw) == 0


async def test_forwarded_address_only_counts_behind_a_trusted_proxy(webgw, form):
    await set_form_settings(
        webgw, submit_limit={"count": 1, "seconds": 600}, trust_forwarded_for=True
    )
    first = await form.post(good_fields(), headers={"X-Forwarded-For": "203.0.113.5"})
    other = await form.post(good_fields(), headers={"X-Forwarded-For": "203.0.113.6"})
    again = await form.post(good_fields(), headers={"X-Forwarded-For": "203.0.113.5"})
    assert first[0] == 200 and other[0] == 200 and again[0] == 429


async def test_status_lookups_are_rate_limited_against_guessing(webgw, form):
    await set_form_settings(
        webgw,
        lookup_limit={"count": 50, "seconds": 600},
        lookup_failures_per_reference={"count": 3, "seconds": 3600},
    )
    _, html = await form.post(good_fields())
    reference = reference_in(html)
    await webgw.record(reference)
    token = await form.token("/status")
    for guess in ("13900000001", "13900000002", "13900000003"):
        response = await webgw.client.post(
            "/status", data={"_csrf": token, "reference": reference, "contact": guess}
        )
        assert response.status == 404
    # the reference is now locked, even for the right contact
    locked = await webgw.client.post(
        "/status", data={"_csrf": token, "reference": reference, "contact": "13812345678"}
    )
    assert locked.status == 429

    await set_form_settings(webgw, lookup_limit={"count": 2, "seconds": 600})
    webgw_site_cache_expiry = 2.1
    import asyncio

    await asyncio.sleep(webgw_site_cache_expiry)
    statuses = []
    for _ in range(3):
        response = await webgw.client.post(
            "/status", data={"_csrf": token, "reference": "QC-202601-000009", "contact": "1@x.cn"}
        )
        statuses.append(response.status)
    assert statuses[-1] == 429


async def test_photo_is_stored_without_exif_or_location(webgw, form):
    status, html = await form.post(good_fields(), [("gps.jpg", jpeg_with_gps(), "image/jpeg")])
    assert status == 200
    record = await webgw.record(reference_in(html))
    attachment = record["attachments"][0]
    from storage.archive import load_blob

    async with webgw.svc.sessions() as session:
        data = await load_blob(session, attachment["sha256"])
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and not image.getexif()
    assert image.size == (32, 64)  # the orientation tag was applied, then dropped
    assert b"Zhang San" not in data and b"GPS" not in data
