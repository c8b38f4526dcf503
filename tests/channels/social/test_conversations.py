"""Conversations, not messages: bursts aggregate, windows survive restarts, late messages
become follow-ups, and nothing is lost or doubled under concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from channels.social.closing import ends_with_closing_phrase, is_form_like
from channels.social.settings import DEFAULT_CLOSING_PHRASES
from storage.tables import Complaint, RawMessage
from tests.channels.social.conftest import (
    JPEG,
    TELEGRAM_SECRET,
    close_due,
    conversations,
    force_due,
    raw_rows,
    record_of,
    social_gateway,
    wait_for,
)

PATH = "/hooks/telegram/tg-bot"


def update(update_id: int, person: int = 777, **message: Any) -> dict[str, Any]:
    chat = {"id": person, "type": "private"}
    sender = {"id": person, "is_bot": False, "first_name": "Min"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": sender,
            "chat": chat,
            "date": 1_790_000_000 + update_id,
            **message,
        },
    }


async def post(gw, body: dict[str, Any]) -> int:
    response = await gw.client.post(
        PATH, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    )
    return response.status


async def complaint_count(gw) -> int:
    async with gw.svc.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Complaint)) or 0)


def test_closing_phrases_and_form_like_messages():
    phrases = DEFAULT_CLOSING_PHRASES
    assert ends_with_closing_phrase("空调外机噪音很大，请尽快处理，谢谢！", phrases)
    assert ends_with_closing_phrase("That's all 🙏", phrases)
    assert not ends_with_closing_phrase("谢谢你们上次的维修，但是又坏了", phrases)
    form = "姓名：王芳\n电话：13812345678\n订单号：HT20260315-0042\n问题：冰箱不制冷"
    assert is_form_like(form, 3)
    assert not is_form_like("冰箱不制冷：已经三天", 3)
    assert not is_form_like(form, 0)


async def test_window_left_open_at_shutdown_is_closed_by_the_periodic_job_after_restart(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url, quiet_seconds=1) as gw:
        assert await post(gw, update(1, text="电动自行车EB-HT60电池鼓包")) == 200
        assert await post(gw, update(2, text="充电的时候很烫")) == 200
        assert (await conversations(gw))[0].state == "open"
    await asyncio.sleep(1.2)  # the window passes while the service is down
    async with social_gateway(
        sqlite_url, classify_step, fake_apis.url, run_listeners=True, quiet_seconds=1
    ) as gw:

        async def closed() -> bool:
            rows = await conversations(gw)
            return bool(rows) and rows[0].reference is not None

        await wait_for(closed)  # the listener supervisor runs `periodic` every sync
        record = await record_of(gw)
        rows = await conversations(gw)
    assert record["body"] == "电动自行车EB-HT60电池鼓包\n充电的时候很烫"
    assert rows[0].close_reason == "quiet" and rows[0].state == "closed"


async def test_a_late_message_joins_the_complaint_as_a_follow_up(
    any_db_url, classify_step, fake_apis, social_secrets
):
    fake_apis.files["late-photo"] = (JPEG, "image/jpeg")
    async with social_gateway(any_db_url, classify_step, fake_apis.url) as gw:
        await post(gw, update(1, text="热水器JSQ24-HT3漏水，就这些"))
        await close_due(gw, "social.telegram")
        first = await record_of(gw)
        photo = [
            {
                "file_id": "late-photo",
                "file_unique_id": "p",
                "width": 1,
                "height": 1,
                "file_size": 211,
            }
        ]
        await post(gw, update(2, photo=photo, caption="补一张照片"))
        rows = await conversations(gw)
        assert rows[1].follow_up_of == first["reference"]
        await force_due(gw)
        await close_due(gw, "social.telegram")

        async def followed() -> bool:
            return bool((await gw.record(first["reference"])).get("follow_ups"))

        await wait_for(followed)
        record = await gw.record(first["reference"])
        assert await complaint_count(gw) == 1
    follow_up = record["follow_ups"][0]
    assert follow_up["body"] == "补一张照片"
    assert [a["media_type"] for a in follow_up["attachments"]] == ["image/jpeg"]


async def test_form_like_message_closes_its_window_at_once(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    form = "姓名：王芳\n电话：13812345678\n订单号：HT20260315-0042\n问题：冰箱BCD-520W不制冷"
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        await post(gw, update(1, text=form))
        await close_due(gw, "social.telegram")
        record = await record_of(gw)
        assert (await conversations(gw))[0].close_reason == "form"
    assert record["order_number"] == "HT20260315-0042" or "HT20260315-0042" in record["body"]


async def test_a_concurrent_burst_with_redeliveries_is_one_conversation_closed_once(
    pg_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(pg_url, classify_step, fake_apis.url) as gw:
        bodies = [update(n, text=f"第{n}条：洗衣机XQG100-HT8漏水") for n in range(1, 21)]
        statuses = await asyncio.gather(*(post(gw, body) for body in bodies + bodies[:5]))
        assert set(statuses) == {200}
        rows = await conversations(gw)
        assert [(row.state, row.message_count) for row in rows] == [("open", 20)]
        await force_due(gw)
        # two front-ends running the periodic job at the same moment
        await asyncio.gather(close_due(gw, "social.telegram"), close_due(gw, "social.telegram"))
        record = await record_of(gw)
        raws = await raw_rows(gw)
        assert await complaint_count(gw) == 1
    assert len(record["body"].splitlines()) == 20
    assert sorted(record["provider_ids"]) == sorted(f"update:{n}" for n in range(1, 21))
    conversation_inputs = [r for r in raws if r.provider_id.startswith("conversation:")]
    assert len(conversation_inputs) == 1 and len(raws) == 21
    assert {r.state for r in raws if r is not conversation_inputs[0]} == {"grouped"}


async def test_two_people_on_one_account_get_separate_complaints(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        await post(gw, update(1, person=1, text="空调KFR-35GW/HT1不制冷"))
        await post(gw, update(2, person=2, text="抽油烟机噪音大"))
        await post(gw, update(3, person=1, text="已经报修两次了"))
        await force_due(gw)
        await close_due(gw, "social.telegram")
        bodies = sorted([(await record_of(gw, 0))["body"], (await record_of(gw, 1))["body"]])
        async with gw.svc.sessions() as session:
            states = set((await session.execute(select(RawMessage.state))).scalars())
    assert bodies == ["抽油烟机噪音大", "空调KFR-35GW/HT1不制冷\n已经报修两次了"]
    assert "grouped" in states
