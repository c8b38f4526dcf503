"""The same submission and look-up on PostgreSQL (the scale-out store)."""

from __future__ import annotations

import pytest
from aiohttp import FormData

from tests.channels.webform.conftest import FormClient, good_fields, jpeg_with_gps, reference_in
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway


@pytest.mark.postgres
async def test_submit_and_look_up_on_postgres(pg_url, classify_step):
    async with running_gateway(make_settings(pg_url), classify_step) as gw:
        form = FormClient(gw)
        status, html = await form.post(good_fields(), [("a.jpg", jpeg_with_gps(), "image/jpeg")])
        assert status == 200, html
        reference = reference_in(html)
        # looked up at once, before or after processing: the contact is checked either way
        token = await form.token("/status")
        data = FormData({"_csrf": token, "reference": reference, "contact": "13812345678"})
        early = await gw.client.post("/status", data=data)
        assert early.status == 200 and reference in await early.text()
        record = await gw.record(reference)
        assert record["attachments"][0]["media_type"] == "image/jpeg"
        assert record["complainant"]["phones"] == ["+8613812345678"]
