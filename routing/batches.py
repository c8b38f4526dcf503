"""Batch keys: what makes complaints "about the same thing" for batch incidents (SPEC §6).

Two complaints share a key when they name the same production batch number,
or the same product model together with the same fault keyword. A model on
its own is not a key: a popular model draws many unrelated complaints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

BATCH_NUMBER = re.compile(r"^B\d{4}-?\d{2}-?\d{2}$", re.IGNORECASE)
DEFAULT_FAULT_KEYWORDS: tuple[str, ...] = (
    "漏电",
    "漏水",
    "漏气",
    "冒烟",
    "起火",
    "着火",
    "爆炸",
    "不制冷",
    "不制热",
    "不加热",
    "噪音",
    "异响",
    "生锈",
    "开裂",
    "破裂",
    "死机",
    "黑屏",
    "跳闸",
    "焦糊",
    "异味",
    "刹车",
    "electric shock",
    "leak",
    "smoke",
    "fire",
    "noise",
    "crack",
    "rust",
    "not cooling",
    "not heating",
    "brake",
)
MAX_KEY = 200


def batch_keys(
    models: Iterable[str], serials: Iterable[str], text: str, fault_keywords: Sequence[str]
) -> list[str]:
    """The sorted, unique batch keys of one complaint."""
    keys = {f"batch:{s.upper().replace('-', '')}" for s in serials if BATCH_NUMBER.match(s)}
    lowered = text.lower()
    faults = {kw.lower() for kw in fault_keywords if kw and kw.lower() in lowered}
    for model in {m.strip().upper() for m in models if m and m.strip()}:
        keys.update(f"model:{model}/fault:{fault}" for fault in faults)
    return sorted(key[:MAX_KEY] for key in keys)
