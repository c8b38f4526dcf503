"""Telegram bot webhooks: secret-token header, update_id dedupe, text / photo / document.

Update bodies follow core.telegram.org/bots/api#update and #message (a private
chat's `message` with `from`, `chat`, `date`, `text` / `photo` (PhotoSize list) /
`document`); the secret arrives in `X-Telegram-Bot-Api-Secret-Token` (#setwebhook).
"""

from __future__ import annotations

from typing import Any

from channels.registry import get_kind
from gateway.channel_host import GatewayHost
from tests.channels.social.conftest import (
    JPEG,
    PDF,
    PUBLIC_BASE,
    TELEGRAM_SECRET,
    close_due,
    conversations,
    force_due,
    raw_count,
    raw_rows,
    record_of,
    social_gateway,
    wait_for,
)

PATH = "/hooks/telegram/tg-bot"
USER = {
    "id": 4242,
    "is_bot": False,
    "first_name": "Wei",
    "last_name": "Zhang",
    "language_code": "zh-hans",
}
CHAT = {"id": 4242, "type": "private", "first_name": "Wei"}


def update(update_id: int, **message: Any) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": USER,
            "chat": CHAT,
            "date": 1_790_000_000 + update_id,
            **message,
        },
    }


async def post(gw, body: Any, secret: str | None = TELEGRAM_SECRET) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await gw.client.post(PATH, json=body, headers=headers)


async def test_text_photo_and_document_become_one_complaint_with_two_attachments(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    fake_apis.files["photo-big"] = (JPEG, "image/jpeg")
    fake_apis.files["doc-1"] = (PDF, "application/pdf")
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        first = update(1, text="我家的热水器JSQ24-HT3漏电了")
        assert (await post(gw, first)).status == 200
        photo = [
            {
                "file_id": "photo-small",
                "file_unique_id": "a",
                "width": 90,
                "height": 90,
                "file_size": 900,
            },
            {
                "file_id": "photo-big",
                "file_unique_id": "b",
                "width": 800,
                "height": 800,
                "file_size": 9000,
            },
        ]
        assert (await post(gw, update(2, photo=photo, caption="这是照片"))).status == 200
        document = {
            "file_id": "doc-1",
            "file_unique_id": "c",
            "file_name": "invoice.pdf",
            "mime_type": "application/pdf",
            "file_size": 209,
        }
        assert (await post(gw, update(3, document=document))).status == 200
        # Telegram re-sends an update it got no answer for: the same update_id is kept once.
        response = await post(gw, first)
        assert response.status == 200
        assert await raw_count(gw) == 3
        assert [c.message_count for c in await conversations(gw)] == [3]

        await close_due(gw, "social.telegram")  # window still open: nothing closes
        assert (await conversations(gw))[0].state == "open"
        await force_due(gw)
        await close_due(gw, "social.telegram")
        record = await record_of(gw)

    assert record["channel"] == "social" and record["channel_account"] == "tg-bot"
    assert record["body"] == "我家的热水器JSQ24-HT3漏电了\n这是照片"
    assert record["provider_ids"] == ["update:1", "update:2", "update:3"]
    assert record["complainant"]["handle"] == "telegram:4242"
    assert record["complainant"]["name"] == "Wei Zhang"
    assert record["language"] == "zh"
    assert [(a["media_type"], a["size"]) for a in record["attachments"]] == [
        ("image/jpeg", len(JPEG)),
        ("application/pdf", len(PDF)),
    ]
    assert record["attachments"][1]["name"] == "invoice.pdf"
    fetched = [call["path"] for call in fake_apis.of("/file/bot")]
    assert fetched == [
        "/file/bot123456:test-bot-token/photo-big",
        "/file/bot123456:test-bot-token/doc-1",
    ]


async def test_wrong_or_missing_secret_token_is_refused_and_nothing_is_kept(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        wrong = await post(gw, update(9, text="hi"), secret="not-the-secret")
        missing = await post(gw, update(9, text="hi"), secret=None)
        unknown = await gw.client.post("/hooks/telegram/nobody", json=update(9, text="x"))
        code = (await wrong.json())["error"]["code"]
        assert await raw_count(gw) == 0
    assert (wrong.status, missing.status, unknown.status) == (403, 403, 404)
    assert code == "bad_signature"


async def test_malformed_update_is_kept_as_failed_input_with_reason(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        response = await gw.client.post(
            PATH,
            data=b'{"update_id": ',
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        )
        body = await response.json()

        async def failed() -> bool:
            rows = await raw_rows(gw)
            return bool(rows) and rows[0].state == "failed"

        await wait_for(failed)
        rows = await raw_rows(gw)
    assert response.status == 400 and body["error"]["code"] == "malformed"
    assert rows[0].id == body["error"]["raw_id"]
    assert "body is not JSON" in (rows[0].error or "")


async def test_bot_commands_and_group_messages_are_kept_but_make_no_conversation(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        await post(gw, update(20, text="/start"))
        group = update(21, text="hello all")
        group["message"]["chat"] = {"id": -100, "type": "group"}
        await post(gw, group)
        states = [row.state for row in await raw_rows(gw)]
        assert await conversations(gw) == []
    assert states == ["ignored", "ignored"]


async def test_acknowledgement_and_set_webhook_use_the_bot_api(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        await post(gw, update(30, text="洗衣机XQG100-HT8门封漏水，订单HT20260315-0042，谢谢"))
        await close_due(gw, "social.telegram")  # the closing phrase ended the window at once
        record = await record_of(gw)

        async def acknowledged() -> bool:
            return bool(fake_apis.of("/sendMessage"))

        await wait_for(acknowledged)
        kind = get_kind("social.telegram")
        account = await GatewayHost(gw.svc).account("tg-bot")
        assert account is not None
        lines = await kind.test(account, GatewayHost(gw.svc))
    import json

    sent = json.loads(fake_apis.of("/sendMessage")[0]["body"])
    assert sent["chat_id"] == "4242"
    assert record["reference"] in sent["text"] and "受理编号" in sent["text"]
    hook = json.loads(fake_apis.of("/setWebhook")[0]["body"])
    assert hook["url"] == f"{PUBLIC_BASE}/hooks/telegram/tg-bot"
    assert hook["secret_token"] == TELEGRAM_SECRET
    assert lines[0] == "social.telegram: bot @hengtai_bot answers"
