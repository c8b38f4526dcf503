# ruff: noqa: E501  (phrase tables read better one phrase a line)
"""Complaints about goods that arrived damaged, worded like defects: the retrain bench's
systematic confusion (the shipped model sends many to `quality`; LABELS.md says
`logistics`).

Why so many phrasings: corrections that all come from one template teach the template's
words, and fresh examples from the same template then look fixed when the concept is not.
Here each complaint is one of several channel styles in Chinese or English, and every slot
(how the goods arrived, what was damaged, the product, the closing) has two disjoint halves:
`texts(..., "seen")` draws from the first half (what the supervisors correct), and
`texts(..., "unseen")` takes its arrival and damage wording only from the second, so the
fresh complaints say the same thing in words the corrections never used.
"""

from __future__ import annotations

import random
from typing import Literal

Half = Literal["seen", "unseen"]

PRODUCTS_ZH = ["冰箱BCD-520W", "洗衣机XQG100-HT8", "热水器JSQ24-HT3", "微波炉", "电饭煲", "油烟机",
               "空调室内机KFR-35GW/HT1", "电动车EB-HT60", "燃气热水器", "洗碗机", "空气净化器", "烤箱"]  # fmt: skip
ARRIVAL_ZH = [
    # seen half
    "刚到货的", "今天送到的", "快递刚送来的", "昨天签收的", "物流送来的", "网上买的刚收到的",
    # unseen half
    "配送员下午送上门的", "上周五到的货，", "今早签收的", "送货师傅放在楼下的", "收货当天拆箱的", "刚从驿站取回来的",
]  # fmt: skip
DAMAGE_ZH = [
    # seen half
    "门板上有一道很深的凹痕", "外壳开裂了", "面板裂了好几道", "侧面整个变形凹进去", "玻璃碎了", "底座断了",
    # unseen half
    "顶盖压瘪了一大块", "箱体侧板鼓包变形", "把手直接断掉了", "背板撞出一个洞", "控制面板屏幕裂成蛛网", "脚轮掉了一个，边角磕坏",
]  # fmt: skip
TAIL_ZH = ["，订单号HT20260315-0042，请尽快处理", "，太让人失望了", "，要求换货", "，我的电话13812345678",
           "，怎么会这样", "，请给个说法", "，外包装也有压痕", "，签收单上已经备注"]  # fmt: skip

PRODUCTS_EN = ["fridge", "washing machine", "water heater", "microwave", "rice cooker", "range hood",
               "air conditioner", "e-bike", "dishwasher", "air purifier", "oven", "gas heater"]  # fmt: skip
ARRIVAL_EN = [
    # seen half
    "The {p} arrived with", "My new {p} was delivered with", "Just received the {p}:",
    "Unboxed the {p} today and found", "The courier brought the {p} with", "Got the {p} this morning and it has",
    # unseen half
    "The delivery guys dropped off the {p} and it came with", "Our {p} turned up yesterday with",
    "Collected the {p} from the parcel locker, it has", "The {p} was handed over at the door with",
    "When the van delivered the {p} it already had", "Opened the box the {p} came in and saw",
]  # fmt: skip
DAMAGE_EN = [
    # seen half
    "a deep dent in the door", "a cracked front panel", "the side panel bent", "broken glass",
    "a snapped base", "scratches and dents all over",
    # unseen half
    "a crushed top cover", "the back panel punched in", "a handle snapped clean off",
    "a shattered control display", "the casing split along the seam", "one foot broken off and a dented corner",
]  # fmt: skip
TAIL_EN = [". Order HT20260315-0042.", ". Please replace it.", ". Very disappointed.",
           ". Call me on 13812345678.", ". The box was crushed too.", ". I noted it on the delivery slip."]  # fmt: skip

# A channel style: a format string over the complaint's parts (`_fields`) and the choices
# drawn for it, in this order, one draw each (a filler, a greeting and signature, an emoji).
Style = tuple[str, dict[str, list[str]]]

ZH_STYLES: list[Style] = [
    ("{arrival}{product}{damage}{tail}", {}),
    ("喂你好 {filler} 我{arrival}{product} {filler} {damage} {tail_bare}",
     {"filler": ["嗯", "那个", "就是", "呃"]}),
    ("{greeting}\n{arrival}{product}，打开一看{damage}{tail}。{sign}",
     {"greeting": ["您好，", "恒泰客服你好：", "尊敬的恒泰电器："],
      "sign": ["\n\n谢谢\n李女士", "\n\n盼复。", "\n\n--\n发自我的手机"]}),
    ("@恒泰电器 {arrival}{product}{damage}{emoji}{tail}", {"emoji": ["😡", "😤🙄", "💢", "😭😭"]}),
    ("尊敬的恒泰电器公司：\n本人{arrival}{product}经查看{damage}{tail}。\n此致\n敬礼\n王先生", {}),
]  # fmt: skip
EN_STYLES: list[Style] = [
    ("{arrival_en} {damage}{tail}", {}),
    ("hi yeah {filler} so {arrival_en_lower} {filler} {damage}{tail_lower}",
     {"filler": ["um", "uh", "like", "you know"]}),
    ("{greeting}\n{arrival_en} {damage}{tail}{sign}",
     {"greeting": ["Hello,", "Dear Hengtai team,", "Hi,"],
      "sign": ["\n\nRegards,\nSam", "\n\nThanks,\nA. Patel", "\n\nSent from my iPhone"]}),
    ("@HengtaiCare {arrival_en} {damage} {emoji}{tail}", {"emoji": ["😡", "🙄", "👎👎", "😤"]}),
    ("Dear Sir or Madam,\n{arrival_en} {damage}{tail}\nYours faithfully,\nJ. Morgan", {}),
]  # fmt: skip


def _fields(arrival: str, product: str, damage: str, tail: str) -> dict[str, str]:
    """The parts as the styles use them (English arrivals carry the product in `{p}`)."""
    arrival_en = arrival.replace("{p}", product)
    return {
        "arrival": arrival, "product": product, "damage": damage, "tail": tail,
        "tail_bare": tail.lstrip("，"), "tail_lower": tail.lower(),
        "arrival_en": arrival_en, "arrival_en_lower": arrival_en.lower(),
    }  # fmt: skip


def _render(style: Style, rng: random.Random, parts: dict[str, str]) -> str:
    template, choices = style
    drawn = {name: rng.choice(options) for name, options in choices.items()}
    return template.format(**parts, **drawn)


def _half(values: list[str], half: Half) -> list[str]:
    middle = len(values) // 2
    return values[:middle] if half == "seen" else values[middle:]


def texts(seed: int, count: int, half: Half, exclude: frozenset[str] = frozenset()) -> list[str]:
    """`count` distinct complaints (70 % Chinese), arrival and damage wording from `half`."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set(exclude)
    while len(out) < count:
        if rng.random() < 0.7:
            style = rng.choice(ZH_STYLES)
            parts = (_half(ARRIVAL_ZH, half), PRODUCTS_ZH, _half(DAMAGE_ZH, half), TAIL_ZH)
        else:
            style = rng.choice(EN_STYLES)
            parts = (_half(ARRIVAL_EN, half), PRODUCTS_EN, _half(DAMAGE_EN, half), TAIL_EN)
        arrival, product, damage, tail = (rng.choice(values) for values in parts)
        text = _render(style, rng, _fields(arrival, product, damage, tail))
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out
