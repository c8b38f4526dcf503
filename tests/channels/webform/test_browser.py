"""A real browser (Debian's Chromium through Playwright) uses the form in both languages.

It fills and submits the form on a phone-sized screen in Chinese and on a
desktop screen in English, uploads a photo, reads the reference, looks up
the status, walks the page by keyboard, and saves screenshots under
`test-output/webform/`. Any Content-Security-Policy violation, script error
or other console error fails the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from tests.browser import chromium_context, shot, watch
from tests.channels.webform.conftest import jpeg_with_gps, png_bytes
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway


@pytest.fixture
async def browser_context(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium_context(
        tmp_path / "profile",
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    ) as context:
        yield context


async def test_people_complain_and_look_up_in_both_languages(
    sqlite_url, classify_step, browser_context, tmp_path
):
    photo = tmp_path / "IMG_2041.JPG"
    photo.write_bytes(jpeg_with_gps((800, 600)))
    screenshot = tmp_path / "screen.png"
    screenshot.write_bytes(png_bytes((300, 200)))
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        base = str(gw.client.make_url("/")).rstrip("/")
        page = await browser_context.new_page()
        problems = watch(page)

        # Chinese, on a phone: a first try with a wrong number, then corrected.
        await page.goto(base + "/")
        assert await page.get_attribute("html", "lang") == "zh-CN"
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.className") == "skip"
        await page.get_by_label("问题描述").fill(
            "燃气热水器JSQ24-HT3点火时有爆燃声，还闻到煤气味，很危险。"
        )
        await page.get_by_label("产品型号").fill("JSQ24-HT3")
        await page.get_by_label("订单号").fill("HT20260315-0042")
        await page.get_by_label("发生日期").fill("2026-11-01")
        await page.get_by_label("姓名").fill("李雷")
        await page.get_by_label("手机号码", exact=True).fill("12345")
        await page.get_by_label("问题照片").set_input_files(str(photo))
        await page.get_by_label("我同意").check()
        await shot(page, "webform", "zh-form-filled-mobile")
        await page.get_by_role("button", name="提交投诉").click()
        summary = page.get_by_role("alert")
        assert "请填写有效的中国大陆手机号码" in await summary.inner_text()
        assert await page.get_by_label("问题描述").input_value() != ""  # input kept
        await shot(page, "webform", "zh-validation-error-mobile")
        await page.get_by_label("手机号码", exact=True).fill("139 0013 9000")
        await page.get_by_label("问题照片").set_input_files(str(photo))
        await page.get_by_role("button", name="提交投诉").click()
        await page.wait_for_selector("#reference")
        zh_reference = (await page.inner_text("#reference")).strip()
        assert zh_reference.startswith("QC-")
        assert "接下来" in await page.inner_text("main")
        await shot(page, "webform", "zh-done-mobile")

        record = await gw.record(zh_reference)
        assert record["complainant"]["phones"] == ["+8613900139000"]
        assert record["attachments"][0]["media_type"] == "image/jpeg"
        assert record["classification"]["severity"] == "major"  # gas smell: safety

        await page.get_by_role("link", name="查询处理进度").first.click()
        assert await page.get_by_label("受理编号").input_value() == zh_reference
        await page.get_by_label("手机号码或电子邮箱").fill("13900139000")
        await page.get_by_role("button", name="查询").click()
        result = await page.inner_text("main")
        assert f"投诉 {zh_reference}" in result and "已收到投诉" in result
        assert "李雷" not in result and "JSQ24" not in result
        assert "已发送受理确认" not in result  # no e-mail given: nothing was sent
        await shot(page, "webform", "zh-status-mobile")

        # English, on a desktop screen, switched by the link on the page.
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.goto(base + "/")
        await page.get_by_role("link", name="English").click()
        assert await page.get_attribute("html", "lang") == "en"
        await page.get_by_label("What is the problem?").fill(
            "The fridge BCD-520W arrived with a dented door and it does not cool at all."
        )
        await page.get_by_label("Product model").fill("BCD-520W")
        await page.get_by_label("Quantity").fill("1")
        await page.get_by_label("Email").fill("lily@example.com")
        await page.get_by_label("Preferred way to contact you").select_option("email")
        await page.get_by_label("Photos of the problem").set_input_files(str(screenshot))
        await page.get_by_label("I agree").check()
        await shot(page, "webform", "en-form-filled-desktop")
        await page.get_by_role("button", name="Send complaint").click()
        await page.wait_for_selector("#reference")
        en_reference = (await page.inner_text("#reference")).strip()
        assert en_reference != zh_reference
        assert "A confirmation is sent to lily@example.com" in await page.inner_text("main")
        await shot(page, "webform", "en-done-desktop")
        await gw.record(en_reference)

        await page.goto(base + "/status")
        await page.get_by_label("Reference number").fill(en_reference)
        await page.get_by_label("Mobile number or email").fill("lily@example.com")
        await page.get_by_role("button", name="Look up").click()
        result = await page.inner_text("main")
        assert f"Complaint {en_reference}" in result and "Being handled" in result
        assert "Confirmation sent" not in result  # no SMTP relay in this test: not sent
        assert "lily@" not in result.split("Look up a complaint")[1].split("Reference number")[0]
        await shot(page, "webform", "en-status-desktop")

        assert problems == []
