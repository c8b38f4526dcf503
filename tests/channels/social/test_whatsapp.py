"""WhatsApp through Twilio: signed form webhooks, media fetched with credentials, replies.

The form fields are those of Twilio's messaging webhook request
(twilio.com/docs/messaging/guides/webhook-request: MessageSid, From/To as
`whatsapp:+E164`, Body, ProfileName, WaId, NumMedia, MediaUrl0, MediaContentType0);
the signature is computed with the twilio library's RequestValidator, as
twilio.com/docs/usage/security describes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from twilio.request_validator import RequestValidator

from tests.channels.social.conftest import (
    JPEG,
    PUBLIC_BASE,
    TWILIO_SID,
    TWILIO_TOKEN,
    close_due,
    force_due,
    raw_count,
    record_of,
    social_gateway,
    wait_for,
)

PATH = "/hooks/whatsapp/wa-main"
FROM = "whatsapp:+8613812345678"


def form(sid: str, body: str = "", **extra: str) -> dict[str, str]:
    return {
        "SmsMessageSid": sid,
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": FROM,
        "To": "whatsapp:+14155238886",
        "Body": body,
        "ProfileName": "李娜",
        "WaId": "8613812345678",
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        **extra,
    }


async def post(gw, params: dict[str, str], token: str = TWILIO_TOKEN) -> Any:
    signature = RequestValidator(token).compute_signature(f"{PUBLIC_BASE}{PATH}", params)
    return await gw.client.post(
        PATH,
        data=urlencode(params),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


async def test_messages_and_media_fetched_with_credentials_make_one_complaint(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    fake_apis.files["s3-private-ME1"] = (JPEG, "image/jpeg")
    media = {
        "NumMedia": "1",
        "MediaUrl0": f"{fake_apis.url}/media/private-ME1",
        "MediaContentType0": "image/jpeg",
    }
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        first = await post(gw, form("SM" + "a" * 32, "燃气热水器JSQ24-HT3点不着火"))
        assert first.status == 200 and "<Response>" in await first.text()
        assert (await post(gw, form("SM" + "b" * 32, "", **media))).status == 200
        assert (await post(gw, form("SM" + "a" * 32, "燃气热水器JSQ24-HT3点不着火"))).status == 200
        assert await raw_count(gw) == 2
        await force_due(gw)
        await close_due(gw, "social.whatsapp")
        record = await record_of(gw)
    assert record["body"] == "燃气热水器JSQ24-HT3点不着火"
    assert record["complainant"]["phones"] == ["+8613812345678"]
    assert record["complainant"]["name"] == "李娜"
    assert record["complainant"]["handle"] == FROM
    assert [a["media_type"] for a in record["attachments"]] == ["image/jpeg"]
    assert fake_apis.of("/media/private-ME1")[0]["headers"]["Authorization"].startswith("Basic ")
    # the redirect to the storage host is followed without the account's credentials
    assert "Authorization" not in fake_apis.of("/media/s3-private-ME1")[0]["headers"]


async def test_bad_or_missing_twilio_signature_is_refused_and_nothing_is_kept(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        forged = await post(gw, form("SM" + "c" * 32, "hi"), token="another-token")
        unsigned = await gw.client.post(PATH, data=urlencode(form("SM" + "c" * 32, "hi")))
        assert await raw_count(gw) == 0
    assert (forged.status, unsigned.status) == (403, 403)


async def test_oversized_media_is_left_out_with_a_hint_and_the_reply_uses_the_twilio_client(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    fake_apis.files["private-BIG"] = (JPEG + b"\x00" * 4096, "image/jpeg")
    media = {
        "NumMedia": "1",
        "MediaUrl0": f"{fake_apis.url}/media/private-BIG",
        "MediaContentType0": "image/jpeg",
    }
    async with social_gateway(
        sqlite_url,
        classify_step,
        fake_apis.url,
        per_kind={"social.whatsapp": {"max_media_bytes": 1024}},
    ) as gw:
        await post(gw, form("SM" + "d" * 32, "微波炉打火冒烟", **media))
        await post(gw, form("SM" + "e" * 32, "谢谢"))
        await close_due(gw, "social.whatsapp")
        record = await record_of(gw)

        async def sent() -> bool:
            return bool(fake_apis.of("/Messages.json"))

        await wait_for(sent)
    assert record["attachments"] == [] and "media_missing" in record["hints"]
    call = fake_apis.of("/Messages.json")[0]
    assert call["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    sent_form = parse_qs(call["body"].decode())
    assert sent_form["To"] == [FROM] and sent_form["From"] == ["whatsapp:+14155238886"]
    assert record["reference"] in sent_form["Body"][0]
