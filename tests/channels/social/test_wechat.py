"""WeChat Official Account: URL check, XML messages, safe mode, the 5 s answer.

Bodies follow the Official Account docs: "接收普通消息" (text with Content,
image with PicUrl/MediaId, voice with MediaId/Format/Recognition), "接收事件推送"
(event), and "消息加解密说明" for safe mode (Encrypt + msg_signature). The
known-answer vector is the one printed in WeChat's WXBizMsgCrypt sample code.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from channels.social import wechat_crypto
from tests.channels.social.conftest import (
    AMR,
    JPEG,
    WECHAT_AES_KEY,
    WECHAT_APP_ID,
    WECHAT_TOKEN,
    close_due,
    conversations,
    force_due,
    raw_count,
    raw_rows,
    record_of,
    social_gateway,
    wait_for,
)

PATH = "/hooks/wechat/wx-oa"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def signed_query(token: str = WECHAT_TOKEN, *, timestamp: int | None = None, **extra: str) -> str:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    nonce = "1320562132"
    query = {
        "signature": wechat_crypto.signature(token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
    }
    return urlencode({**query, "openid": OPENID, **extra})


def xml(msg_type: str, msg_id: str | None, created: int = 1_790_000_000, **fields: str) -> bytes:
    parts = [
        "<xml>",
        "<ToUserName><![CDATA[gh_hengtai]]></ToUserName>",
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>",
        f"<CreateTime>{created}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
        *(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()),
        f"<MsgId>{msg_id}</MsgId>" if msg_id else "",
        "</xml>",
    ]
    return "".join(parts).encode()


def test_known_answer_vector_of_the_wxbizmsgcrypt_sample():
    encrypted = (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczc"
        "dCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLj"
        "vd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMn"
        "vw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k"
        "22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yoy"
        "yH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
    )
    assert (
        wechat_crypto.signature("QDG6eK", "1409659813", "1372623149", encrypted)
        == "477715d11cdb4164915debcba66cb864d751f3e6"
    )
    plain = wechat_crypto.decrypt(encrypted, WECHAT_AES_KEY, WECHAT_APP_ID)
    assert b"<Content><![CDATA[hello]]></Content>" in plain
    with pytest.raises(wechat_crypto.WeChatCryptoError, match="another app id"):
        wechat_crypto.decrypt(encrypted, WECHAT_AES_KEY, "wx0000000000000000")
    again = wechat_crypto.encrypt(plain, WECHAT_AES_KEY, WECHAT_APP_ID)
    assert wechat_crypto.decrypt(again, WECHAT_AES_KEY, WECHAT_APP_ID) == plain


async def test_url_check_answers_echostr_only_when_signed(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        good = await gw.client.get(f"{PATH}?{signed_query(echostr='7283947')}")
        bad = await gw.client.get(f"{PATH}?{signed_query('other-token', echostr='7283947')}")
        old = await gw.client.get(f"{PATH}?{signed_query(timestamp=1_409_659_813, echostr='1')}")
        assert (good.status, await good.text()) == (200, "7283947")
        assert (bad.status, old.status) == (403, 403)


async def test_text_image_voice_form_one_complaint_and_events_make_none(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    fake_apis.files["pic.jpg"] = (JPEG, "image/jpeg")
    fake_apis.files["voice-media-1"] = (AMR, "audio/amr")
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        bodies = [
            xml("text", "6054768590064713728", Content="冰箱BCD-520W不制冷"),
            xml(
                "image",
                "6054768590064713729",
                PicUrl=f"{fake_apis.url}/media/pic.jpg",
                MediaId="img-1",
            ),
            xml(
                "voice",
                "6054768590064713730",
                MediaId="voice-media-1",
                Format="amr",
                Recognition="已经坏了三天了",
            ),
            xml("event", None, Event="subscribe", EventKey=""),
        ]
        answers = []
        for body in bodies:
            response = await gw.client.post(f"{PATH}?{signed_query()}", data=body)
            answers.append((response.status, await response.text()))
        # WeChat retries a message it got no answer for within 5 s: the MsgId keeps it once.
        await gw.client.post(f"{PATH}?{signed_query()}", data=bodies[0])
        assert answers == [(200, "success")] * 4
        assert [row.state for row in await raw_rows(gw)] == [
            "grouped",
            "grouped",
            "grouped",
            "ignored",
        ]
        await force_due(gw)
        await close_due(gw, "social.wechat")
        record = await record_of(gw)
    assert record["body"] == "冰箱BCD-520W不制冷\n已经坏了三天了"
    assert record["complainant"]["handle"] == f"wechat:{OPENID}"
    assert [a["media_type"] for a in record["attachments"]] == ["image/jpeg", "audio/amr"]
    assert record["attachments"][1]["name"] == "voice.amr"
    media_get = fake_apis.of("/cgi-bin/media/get")[0]
    assert media_get["query"] == {"access_token": "wx-access-token", "media_id": "voice-media-1"}


async def test_safe_mode_round_trip_and_refusals(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(
        sqlite_url,
        classify_step,
        fake_apis.url,
        per_kind={"social.wechat": {"encoding_aes_key": "env:WECHAT_AES_KEY"}},
    ) as gw:
        inner = xml("text", "7000000000000000001", Content="热水器漏电，请尽快处理")
        encrypted = wechat_crypto.encrypt(inner, WECHAT_AES_KEY, WECHAT_APP_ID)
        envelope = (
            "<xml><ToUserName><![CDATA[gh_hengtai]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        ts = str(int(time.time()))
        msg_signature = wechat_crypto.signature(WECHAT_TOKEN, ts, "1320562132", encrypted)
        query = signed_query(timestamp=int(ts), encrypt_type="aes", msg_signature=msg_signature)
        ok = await gw.client.post(f"{PATH}?{query}", data=envelope.encode())
        assert (ok.status, await ok.text()) == (200, "success")

        forged = signed_query(timestamp=int(ts), encrypt_type="aes", msg_signature="0" * 40)
        bad_sig = await gw.client.post(f"{PATH}?{forged}", data=envelope.encode())
        plain = await gw.client.post(f"{PATH}?{signed_query()}", data=inner)
        assert (bad_sig.status, plain.status) == (403, 403)
        assert await raw_count(gw) == 1
        rows = await raw_rows(gw)
        await force_due(gw)
        await close_due(gw, "social.wechat")
        record = await record_of(gw)
    assert rows[0].provider_id == "7000000000000000001"
    assert "热水器漏电" in rows[0].meta["decrypted"]
    assert record["body"] == "热水器漏电，请尽快处理"


async def test_external_entities_and_stale_timestamps_are_refused(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<xml><FromUserName>&x;</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>text</MsgType><Content>&x;</Content><MsgId>1</MsgId></xml>"
    )
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        refused = await gw.client.post(f"{PATH}?{signed_query()}", data=xxe)
        error = (await refused.json())["error"]
        stale = await gw.client.post(
            f"{PATH}?{signed_query(timestamp=int(time.time()) - 3600)}",
            data=xml("text", "5", Content="x"),
        )

        async def failed() -> bool:
            rows = await raw_rows(gw)
            return bool(rows) and rows[0].state == "failed"

        await wait_for(failed)
        rows = await raw_rows(gw)
        assert await conversations(gw) == []
    assert refused.status == 400 and "XML refused" in error["message"]
    assert stale.status == 403
    assert len(rows) == 1 and "XML refused" in (rows[0].error or "")


async def test_acknowledgement_goes_through_the_customer_service_api(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        body = xml(
            "text", "8000000000000000001", Content="The microwave sparks inside. That's all."
        )
        await gw.client.post(f"{PATH}?{signed_query()}", data=body)
        await close_due(gw, "social.wechat")
        record = await record_of(gw)

        async def sent() -> bool:
            return bool(fake_apis.of("/cgi-bin/message/custom/send"))

        await wait_for(sent)
    call = fake_apis.of("/cgi-bin/message/custom/send")[0]
    payload = json.loads(call["body"])
    assert call["query"]["access_token"] == "wx-access-token"
    assert payload["touser"] == OPENID and payload["msgtype"] == "text"
    assert record["reference"] in payload["text"]["content"]
    assert payload["text"]["content"].startswith("Thank you")
