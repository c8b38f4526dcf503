"""The form over HTTP: a submission is archived, shown with its reference, and stored."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.accounts import add_account
from storage.tables import Outbox, RawMessage
from tests.channels.webform.conftest import (
    FormClient,
    good_fields,
    jpeg_with_gps,
    png_bytes,
    reference_in,
)


async def test_page_is_served_with_strict_headers_in_the_browsers_language(webgw):
    response = await webgw.client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    html = await response.text()
    assert response.status == 200
    assert '<html lang="en">' in html and "Make a complaint" in html
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script" not in csp and "<script" not in html  # no JavaScript at all
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'for="f-description"' in html and 'id="f-description"' in html
    assert 'name="viewport"' in html

    zh = await webgw.client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in await zh.text()
    assert "在线投诉" in await zh.text()


async def test_language_switch_is_remembered(webgw):
    first = await webgw.client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})
    assert "Make a complaint" in await first.text()
    again = await webgw.client.get("/", headers={"Accept-Language": "zh-CN"})
    assert "Make a complaint" in await again.text()


async def test_stylesheet_and_page_weight(webgw):
    page = await webgw.client.get("/")
    css = await webgw.client.get("/static/webform/form.css")
    assert css.status == 200 and css.content_type == "text/css"
    weight = len(await page.read()) + len(await css.read())
    assert weight < 100 * 1024, weight


async def test_submission_shows_reference_and_stores_record_with_clean_photo(webgw, form):
    photo = jpeg_with_gps()
    status, html = await form.post(
        good_fields(),
        [("IMG_0001.JPG", photo, "image/jpeg"), ("../../etc/x.png", png_bytes(), "image/png")],
    )
    assert status == 200, html
    reference = reference_in(html)
    assert "zhang.san@example.com" in html  # where the acknowledgement goes
    record = await webgw.record(reference)
    assert record["channel"] == "webform" and record["channel_account"] == "webform"
    assert record["complainant"]["phones"] == ["+8613812345678"]
    assert record["complainant"]["email"] == "zhang.san@example.com"
    assert record["complainant"]["language"] == "zh-CN"
    assert record["order_number"] == "HT20260315-0042"
    assert record["product"] == {
        "model": "KFR-35GW/HT1",
        "specification": None,
        "serial": "SN2603A17745",
        "quantity": 1,
    }
    assert record["body"].startswith("空调KFR-35GW/HT1安装后第三天外壳开裂")
    assert "订单号：HT20260315-0042" in record["body"]
    names = [a["name"] for a in record["attachments"]]
    assert names == ["photo-1.jpg", "photo-2.png"]  # never the uploaded file name
    async with webgw.svc.sessions() as session:
        raw = (await session.execute(select(RawMessage))).scalars().all()
    assert len(raw) == 1 and raw[0].media_type == "application/json"
    assert raw[0].provider_id.startswith("form:")


async def test_double_submit_of_the_same_form_is_one_complaint(webgw, form):
    token = await form.token()
    first = await form.post(good_fields(), token=token)
    second = await form.post(good_fields(), token=token)
    assert first[0] == second[0] == 200
    assert reference_in(first[1]) == reference_in(second[1])
    async with webgw.svc.sessions() as session:
        assert len((await session.execute(select(RawMessage))).scalars().all()) == 1


async def test_anonymous_complaint_is_accepted_and_says_what_it_means(webgw, form):
    status, html = await form.post(
        good_fields(phone="", email="", consent="", preferred_contact="", anonymous="1", lang="en")
    )
    assert status == 200
    reference = reference_in(html)
    assert "complained anonymously" in html
    assert "Look up the status" not in html.split("</main>")[0].split("What happens next")[1]
    record = await webgw.record(reference)
    assert record["complainant"]["phones"] == [] and record["complainant"]["email"] is None
    assert "anonymous" in record["hints"]


async def test_acknowledgement_is_queued_on_the_webform_account(webgw, form):
    _, html = await form.post(good_fields())
    reference = reference_in(html)
    await webgw.record(reference)
    async with webgw.svc.sessions() as session:
        rows = (
            (await session.execute(select(Outbox).where(Outbox.purpose == "ack"))).scalars().all()
        )
    assert [row.destination for row in rows] == ["channel:webform"]
    assert rows[0].payload["complainant"]["email"] == "zhang.san@example.com"


async def test_second_form_for_a_dealer_network_without_code(webgw):
    async with webgw.svc.sessions.begin() as session:
        await add_account(
            session,
            "webform",
            "dealers",
            {
                "company": {"zh": "恒泰电器", "en": "Hengtai Appliances"},
                "brand": {"zh": "经销商网络", "en": "Dealer network"},
                "department_hints": ["sales"],
                "languages": ["en"],
            },
        )
    dealers = FormClient(webgw, "/forms/dealers")
    page = await webgw.client.get("/forms/dealers", headers={"Accept-Language": "zh-CN"})
    html = await page.text()
    assert "Dealer network" in html and '<html lang="en">' in html  # only English offered
    status, html = await dealers.post(good_fields(lang="en"))
    assert status == 200, html
    record = await webgw.record(reference_in(html))
    assert record["channel_account"] == "dealers"
    assert "department_hint:sales" in record["hints"]
    assert "Order number: HT20260315-0042" in record["body"]


async def test_unknown_and_disabled_forms(webgw):
    missing = await webgw.client.get("/forms/nope")
    assert missing.status == 404
    api = await webgw.client.get("/forms/api")  # an account of another kind
    assert api.status == 404
    async with webgw.svc.sessions.begin() as session:
        await add_account(session, "webform", "closed-form", {}, enabled=False)
    closed = await webgw.client.get("/forms/closed-form")
    assert closed.status == 403


async def test_output_is_escaped(webgw, form):
    attack = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    status, html = await form.post(good_fields(name=attack, description="short"))
    assert status == 422
    assert "<script>alert(1)" not in html and "onerror=alert(2)>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_status_lookup_shows_status_and_public_history_only(webgw, form):
    _, html = await form.post(good_fields(lang="en"))
    reference = reference_in(html)
    await webgw.record(reference)
    await asyncio.sleep(0.3)  # let the acknowledgement attempt land in the history
    token = await form.token("/status")
    response = await webgw.client.post(
        "/status",
        data={
            "_csrf": token,
            "reference": reference.lower(),
            "contact": "13812345678",
            "lang": "en",
        },
    )
    page = await response.text()
    assert response.status == 200, page
    assert f"Complaint {reference}" in page
    assert "Complaint received" in page and "Registered and classified" in page
    for private in ("张三", "zhang.san", "13812345678", "KFR-35GW", "上海", "quality", "sink"):
        assert private not in page.split('<form method="post"')[0], private

    by_email = await webgw.client.post(
        "/status",
        data={"_csrf": token, "reference": reference, "contact": "Zhang.San@example.com"},
    )
    assert by_email.status == 200


async def test_status_lookup_needs_the_matching_contact(webgw, form):
    _, html = await form.post(good_fields())
    reference = reference_in(html)
    await webgw.record(reference)
    token = await form.token("/status")
    wrong = await webgw.client.post(
        "/status", data={"_csrf": token, "reference": reference, "contact": "13900000000"}
    )
    assert wrong.status == 404
    assert reference not in (await wrong.text()).split('<form method="post"')[0].replace(
        f'value="{reference}"', ""
    )
    unknown = await webgw.client.post(
        "/status", data={"_csrf": token, "reference": "QC-209901-000001", "contact": "13812345678"}
    )
    assert unknown.status == 404


async def test_status_before_processing_checks_the_contact_in_the_archived_form(
    sqlite_url, classify_step
):
    from tests.conftest import make_settings
    from tests.gateway.harness import running_gateway

    async with running_gateway(make_settings(sqlite_url), classify_step, run_jobs=False) as gw:
        form = FormClient(gw)
        _, html = await form.post(good_fields(lang="en"))
        reference = reference_in(html)
        token = await form.token("/status")
        right = await gw.client.post(
            "/status",
            data={"_csrf": token, "reference": reference, "contact": "13812345678", "lang": "en"},
        )
        assert right.status == 200
        assert "Received, waiting to be handled" in await right.text()
        wrong = await gw.client.post(
            "/status", data={"_csrf": token, "reference": reference, "contact": "a@example.com"}
        )
        assert wrong.status == 404
