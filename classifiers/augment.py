# ruff: noqa: E501  (snippet tables read better one snippet a line)
"""Channel-style augmentation of training examples (labels unchanged).

Real intake wraps the same complaint in channel noise: e-mail greetings, signatures and
quoted replies, hotline fillers, social-media emoji, Traditional characters. Each example gets
a seeded variant in such a style so the model learns to look past the wrapping. Every snippet
below was written for this project and carries no contact detail (a signature with a phone
number would change a `no_contact` label) and no complaint content.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

import opencc

from classifiers.corpus import LabelledExample
from classifiers.text import detect_language

_ZH_GREETINGS = ["您好，", "你好！", "恒泰客服你们好：", "尊敬的恒泰电器：", "各位好，", ""]
_EN_GREETINGS = ["Hello,", "Hi there,", "Dear Hengtai team,", "To whom it may concern,", "Hi,", ""]
_ZH_SIGNATURES = [
    "\n\n此致\n敬礼\n张先生", "\n\n谢谢！\n一位老用户", "\n\n--\n发自我的手机",
    "\n\n顺祝商祺\n采购部 小陈", "\n\n盼复。", "\n\n发自网易邮箱大师",
]  # fmt: skip
_EN_SIGNATURES = [
    "\n\nRegards,\nSam", "\n\nThanks,\nA. Patel", "\n\nSent from my iPhone", "\n\nBest wishes\nJo",
    "\n\nKind regards,\nThe office manager", "\n\n--\nSent from Outlook for Android",
]  # fmt: skip
_ZH_QUOTES = [
    "\n\n------------------ 原始邮件 ------------------\n发件人: 恒泰电器客服\n主题: 回复: 您的来信\n您好，已收到您的来信，我们会尽快处理。",
    "\n\n在 2026年3月2日 周一 10:12，恒泰客服 写道：\n> 您好，请补充购买凭证。",
]  # fmt: skip
_EN_QUOTES = [
    "\n\nOn Mon, 2 Mar 2026 at 10:12, Hengtai Support wrote:\n> Thank you for contacting us.\n> We will get back to you shortly.",
    "\n\n-----Original Message-----\nFrom: Hengtai Customer Care\nSubject: RE: your enquiry\nThank you for your message.",
]  # fmt: skip
_ZH_FILLERS = ["呃", "那个", "就是", "嗯", "然后", "怎么说呢", "对"]
_EN_FILLERS = ["um", "uh", "like", "you know", "so", "I mean", "right"]
_EMOJI = ["😡", "😤", "🙄", "😭", "👎", "💢", "😓", "🤬", "😞", "‼️"]


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def _hotline(text: str, zh: bool, rng: random.Random) -> str:
    fillers = _ZH_FILLERS if zh else _EN_FILLERS
    marks = "，。" if zh else ",."
    out: list[str] = []
    for ch in text:
        out.append(ch)
        if ch in marks and rng.random() < 0.35:
            out.append((" " if not zh else "") + rng.choice(fillers) + ("" if zh else ","))
    spoken = "".join(out).replace("\n", " ")
    return (
        rng.choice(["喂，你好，", "喂 ", ""])
        if zh
        else rng.choice(["Hello, yes, ", "Hi, um, ", ""])
    ) + spoken


def _email(text: str, zh: bool, rng: random.Random) -> str:
    greeting = rng.choice(_ZH_GREETINGS if zh else _EN_GREETINGS)
    signature = rng.choice(_ZH_SIGNATURES if zh else _EN_SIGNATURES)
    quote = rng.choice(_ZH_QUOTES if zh else _EN_QUOTES) if rng.random() < 0.4 else ""
    return f"{greeting}\n{text}{signature}{quote}".strip()


def _social(text: str, zh: bool, rng: random.Random) -> str:
    emoji = "".join(rng.choice(_EMOJI) for _ in range(rng.randint(1, 3)))
    tag = (
        rng.choice(["@恒泰电器 ", "#恒泰 ", ""])
        if zh
        else rng.choice(["@HengtaiCare ", "#hengtai ", ""])
    )
    return f"{tag}{text.replace(chr(10), ' ')} {emoji}"


def augment(examples: Iterable[LabelledExample], seed: int) -> list[LabelledExample]:
    """One seeded channel-style variant per example, in the same order."""
    rng = random.Random(seed)
    out: list[LabelledExample] = []
    for example in examples:
        item = example.item
        language = detect_language(item.text)
        zh = language in ("zh", "zh-Hant", "mixed")
        style = rng.choice(["email", "hotline", "social", "plain"])
        text = item.text
        if style == "email":
            text = _email(text, zh, rng)
        elif style == "hotline":
            text = _hotline(text, zh, rng)
        elif style == "social":
            text = _social(text, zh, rng)
        if zh and rng.random() < 0.3:
            text = str(_s2t().convert(text))
        new_item = replace(item, text=text, id=f"{item.id or 'x'}~aug{seed}")
        out.append(
            LabelledExample(new_item, example.labels, example.source + "~aug", example.tasks)
        )
    return out
