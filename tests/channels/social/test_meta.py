"""Messenger and Instagram through Meta webhooks.

Shapes from developers.facebook.com/docs/graph-api/webhooks/getting-started
(verification GET with hub.mode / hub.verify_token / hub.challenge; POSTs signed
`X-Hub-Signature-256: sha256=HMAC-SHA256(app secret, body)`) and the Messenger
Platform webhook reference (`entry[].messaging[]` with `message.mid`, `text`,
`attachments[].payload.url`, echoes flagged `is_echo`, `delivery` receipts).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from tests.channels.social.conftest import (
    JPEG,
    META_SECRET,
    close_due,
    conversations,
    force_due,
    raw_count,
    raw_rows,
    record_of,
    social_gateway,
    wait_for,
)

PATH = "/hooks/meta/meta-page"
PAGE = "104857600000001"
PSID = "6543210987654321"


def event(mid: str, ts: int, **message: Any) -> dict[str, Any]:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": ts,
        "message": {"mid": mid, **message},
    }


def batch(*events: dict[str, Any], obj: str = "page") -> bytes:
    entry = {"id": PAGE, "time": 1_790_000_000_000, "messaging": list(events)}
    return json.dumps({"object": obj, "entry": [entry]}).encode()


def signed(body: bytes, secret: str = META_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


async def test_verification_get_returns_the_challenge_only_for_the_right_token(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        good = await gw.client.get(
            PATH,
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": "meta-verify-token",
                "hub.challenge": "1158201444",
            },
        )
        bad = await gw.client.get(
            PATH,
            params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        )
        assert (good.status, await good.text()) == (200, "1158201444")
        assert bad.status == 403


async def test_batched_messages_with_attachment_form_one_complaint(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    fake_apis.files["cdn-photo.jpg"] = (JPEG, "image/jpeg")
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        first = batch(
            event("m_1", 1_790_000_000_100, text="My range hood stopped working"),
            event(
                "m_2",
                1_790_000_000_200,
                attachments=[
                    {"type": "image", "payload": {"url": f"{fake_apis.url}/media/cdn-photo.jpg"}}
                ],
            ),
        )
        receipts = batch(
            event("m_echo", 1_790_000_000_300, text="We are looking", is_echo=True),
            {
                "sender": {"id": PSID},
                "recipient": {"id": PAGE},
                "delivery": {"mids": ["m_echo"], "watermark": 1},
            },
        )
        later = batch(event("m_3", 1_790_000_000_400, text="order HT20260315-0042"))
        for body in (first, receipts, later, first):  # the last is Meta re-sending the first batch
            response = await gw.client.post(PATH, data=body, headers=signed(body))
            assert (response.status, await response.text()) == (200, "EVENT_RECEIVED")
        rows = await raw_rows(gw)
        assert [(r.provider_id, r.state) for r in rows][:3] == [
            ("m_1", "grouped"),
            ("m_2", "grouped"),
            (rows[2].provider_id, "ignored"),
        ]
        assert len(rows) == 4
        await force_due(gw)
        await close_due(gw, "social.meta")
        record = await record_of(gw)
    assert record["body"] == "My range hood stopped working\norder HT20260315-0042"
    assert record["provider_ids"] == ["m_1", "m_2", "m_3"]
    assert record["complainant"]["handle"] == f"messenger:{PSID}"
    assert [a["media_type"] for a in record["attachments"]] == ["image/jpeg"]
    assert record["language"] == "en"


async def test_bad_signature_is_refused_and_nothing_is_kept(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    body = batch(event("m_x", 1, text="hello"))
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        forged = await gw.client.post(PATH, data=body, headers=signed(body, "wrong-secret"))
        unsigned = await gw.client.post(PATH, data=body)
        tampered = await gw.client.post(
            PATH, data=body.replace(b"hello", b"HELLO"), headers=signed(body)
        )
        assert await raw_count(gw) == 0
    assert (forged.status, unsigned.status, tampered.status) == (403, 403, 403)


async def test_instagram_reply_goes_through_the_send_api(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        body = batch(
            event("ig_1", 1_790_000_000_000, text="电饭煲EB-HT60内胆涂层脱落，就这些"),
            obj="instagram",
        )
        await gw.client.post(PATH, data=body, headers=signed(body))
        await close_due(gw, "social.meta")
        record = await record_of(gw)
        assert (await conversations(gw))[0].close_reason == "phrase"

        async def sent() -> bool:
            return bool(fake_apis.of("/me/messages"))

        await wait_for(sent)
    call = fake_apis.of("/me/messages")[0]
    payload = json.loads(call["body"])
    assert call["path"] == "/v21.0/me/messages"
    assert payload["recipient"] == {"id": PSID} and payload["messaging_type"] == "RESPONSE"
    assert record["complainant"]["handle"] == f"instagram:{PSID}"
    assert record["reference"] in payload["message"]["text"]
