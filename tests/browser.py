"""Debian's Chromium driven by Playwright, the way every browser test here launches it.

No browser download: the executable is Debian's, and the flags keep it off
the network (this machine has none) and out of the sandbox it cannot use as root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEST_OUTPUT = Path(__file__).resolve().parents[1] / "test-output"


@asynccontextmanager
async def chromium_context(profile: Path, **options: Any) -> AsyncIterator[BrowserContext]:
    """A fresh persistent context (own profile folder) with Playwright `options`."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS, **options
        )
        try:
            yield context
        finally:
            await context.close()


def watch(page: Page) -> list[str]:
    """Console errors other than HTTP answers (a 422 page, the browser's favicon probe)."""
    problems: list[str] = []

    def console(message: object) -> None:
        text = getattr(message, "text", "")
        if getattr(message, "type", "") == "error" and "Failed to load resource" not in text:
            problems.append(text)

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def shot(page: Page, folder: str, name: str) -> None:
    """A full-page screenshot into test-output/<folder>/<name>.png."""
    target = TEST_OUTPUT / folder
    target.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target / f"{name}.png"), full_page=True)
