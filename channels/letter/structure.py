"""The parts of a letter: title, salutation, body, closing, sender, address, phone, date, order.

Works on paragraphs (lists of lines) in reading order, in Chinese or English. Labelled
lines (`地址：…`, `Phone: …`) are taken at their word; otherwise position decides: the
body lies between the salutation and the closing, the sender's name follows the closing,
an English sender address may head the letter. OCR's usual digit confusions (O/0, l/1)
are repaired inside phone and order numbers only, where a letter cannot belong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import phonenumbers

from channels.letter.layout import join_text

_SALUTATION = re.compile(
    r"^(尊敬的|敬爱的|亲爱的|致[：:\s]|.{0,20}(您好|你好)|dear\b|to whom it may concern|hello\b)",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^(此致|敬礼|顺祝|顺颂|祝.{0,6}$|谢谢|yours\s+(sincerely|faithfully|truly)|sincerely|"
    r"(best|kind|warm)?\s*regards|best wishes|respectfully|thank you)[,，.。!！]?\s*$",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"^(?P<label>姓名|联系人|投诉人|寄信人|署名|地址|联系地址|通讯地址|住址|电话|手机|联系电话|"
    r"联系方式|手机号码?|邮箱|电子邮件|电子邮箱|日期|订单号|订单编号|型号|产品型号|序列号|"
    r"机身编号|规格|数量|name|from|address|tel|phone|mobile|telephone|e-?mail|date|"
    r"order\s*(?:no\.?|number)|model|serial(?:\s*no\.?)?|quantity|qty)\s*[:：]\s*(?P<value>.*)$",
    re.IGNORECASE,
)
_LABEL_KIND = {
    "name": ("姓名", "联系人", "投诉人", "寄信人", "署名", "name", "from"),
    "address": ("地址", "联系地址", "通讯地址", "住址", "address"),
    "phone": (
        "电话",
        "手机",
        "联系电话",
        "联系方式",
        "手机号",
        "手机号码",
        "tel",
        "phone",
        "mobile",
        "telephone",
    ),
    "email": ("邮箱", "电子邮件", "电子邮箱", "email", "e-mail"),
    "date": ("日期", "date"),
    "order": ("订单号", "订单编号"),
    "model": ("型号", "产品型号", "model"),
    "serial": ("序列号", "机身编号"),
    "specification": ("规格",),
    "quantity": ("数量", "quantity", "qty"),
}
_MONTHS = "january february march april may june july august september october november december"
_MONTH = {name: number for number, name in enumerate(_MONTHS.split(), 1)}
_DATES = (
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>\d{4})"),
    re.compile(r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})"),
)
_DIGITISH = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "l": "1",
        "I": "1",
        "|": "1",
        "i": "1",
        "S": "5",
        "B": "8",
        "Z": "2",
        "—": "-",
        "–": "-",
        "_": "-",
    }
)
_ORDER = re.compile(r"H\s?T\s?([0-9OoDlI|]{8})\s?[-—–_]\s?([0-9OoDlI|]{4})(?![0-9])")
_ORDER_LABELLED = re.compile(
    r"(?:订单号|订单编号|order\s*(?:no\.?|number)|order\s*#)\s*[:：]?\s*([A-Za-z0-9][A-Za-z0-9\-]{3,29})",
    re.IGNORECASE,
)
_MODEL_LABELLED = re.compile(
    r"(?:型号|产品型号|\bmodel)\s*[:：]?\s*([A-Za-z0-9][A-Za-z0-9/\-]{2,29}[A-Za-z0-9])",
    re.IGNORECASE,
)
_MODEL = re.compile(
    r"(?<![A-Za-z0-9])(?!HT\d{8})([A-Z]{2,4}\d{0,4}-[A-Z0-9]{2,8}(?:/[A-Z0-9]{1,6})?)(?![A-Za-z0-9])"
)
_SERIAL = re.compile(
    r"(?:(?:序列号|机身编号|S/?N|serial(?:\s*no\.?)?)\s*[:：]?\s*)?(SN[0-9A-Z]{6,16})\b",
    re.IGNORECASE,
)
_SERIAL_LABELLED = re.compile(
    r"(?:序列号|机身编号|serial(?:\s*no\.?)?)\s*[:：]?\s*([A-Z0-9][A-Z0-9\-]{4,24})", re.IGNORECASE
)
_BATCH = re.compile(r"\b(B\d{4}-\d{2}-\d{2})\b")
_QUANTITY = re.compile(
    r"(?:数量|quantity|qty)\s*[:：]?\s*(\d{1,6})|(\d{1,5})\s*(?:台|件|辆|units?\b)", re.IGNORECASE
)
_PHONE_CANDIDATE = re.compile(
    r"(?<![\dA-Za-z])(?:\+?86[\s-]?)?(?:1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}[\s-]?\d{7,8})(?!\d)"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ADDRESS_WORDS = re.compile(
    r"(省|市|区|县|镇|乡|村|路|街|道|巷|号|室|楼|栋|单元|\b(road|street|st\.|avenue|ave\.?|lane|"
    r"district|building|room|flat|unit|floor|city|province)\b)",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class LetterFields:
    """What the letter says about itself, beyond its body text."""

    language: str = "zh"
    title: str | None = None
    salutation: str | None = None
    body: list[str] = field(default_factory=list)
    closing: str | None = None
    sender_name: str | None = None
    address: str | None = None
    phones: list[str] = field(default_factory=list)
    email: str | None = None
    date_line: str | None = None
    letter_date: date | None = None
    order_number: str | None = None
    model: str | None = None
    specification: str | None = None
    serial: str | None = None
    quantity: int | None = None
    unreadable: list[str] = field(default_factory=list)  # labelled fields whose value was unusable

    def has_contact(self) -> bool:
        return bool(self.phones or self.email or self.address)


def parse_letter(paragraphs: list[list[str]]) -> LetterFields:
    """The fields of a letter given as paragraphs of lines, top to bottom."""
    blocks = [[line.strip() for line in p if line.strip()] for p in paragraphs]
    blocks = [b for b in blocks if b]
    text = "\n".join(line for block in blocks for line in block)
    fields = LetterFields(language=detect_language(text))
    kinds = [_block_kind(block) for block in blocks]
    salutation = next((i for i, k in enumerate(kinds) if k == "salutation"), None)
    closing = next(
        (
            i
            for i, k in enumerate(kinds)
            if k == "closing" and (salutation is None or i > salutation)
        ),
        None,
    )
    for i, block in enumerate(blocks):
        if kinds[i] == "label":
            for line in block:
                _take_label(fields, line)
        elif kinds[i] == "date" and fields.date_line is None:
            fields.date_line = block[0]
    if salutation is not None:
        fields.salutation = " ".join(blocks[salutation])
        _head(fields, blocks[:salutation], kinds[:salutation])
    start = salutation + 1 if salutation is not None else _first_body(kinds)
    end = closing if closing is not None else _body_end(kinds, start)
    fields.body = [
        _join(block)
        for block, kind in zip(blocks[start:end], kinds[start:end], strict=True)
        if kind == "text"
    ]
    if closing is not None:
        closing_lines = []
        after = closing
        while after < len(blocks) and kinds[after] == "closing":
            closing_lines.extend(blocks[after])
            after += 1
        fields.closing = "\n".join(closing_lines)
        _signature(fields, blocks[after:], kinds[after:])
    _from_text(fields, text)
    return fields


def detect_language(text: str) -> str:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "zh"
    cjk = sum(1 for ch in letters if _CJK.match(ch))
    return "zh" if cjk / len(letters) > 0.2 else "en"


def _block_kind(block: list[str]) -> str:
    first = block[0]
    if _LABEL.match(first) and all(_LABEL.match(line) for line in block):
        return "label"
    if len(block) == 1 and _SALUTATION.match(first) and len(first) <= 60:
        return "salutation"
    if len(block) <= 2 and all(_CLOSING.match(line) for line in block):
        return "closing"
    if len(block) == 1 and len(first) <= 30 and _parse_date(first) and _is_mostly_date(first):
        return "date"
    return "text"


def _is_mostly_date(line: str) -> bool:
    rest = line
    for pattern in _DATES:
        rest = pattern.sub("", rest)
    rest = re.sub(r"^(日期|date)\s*[:：]", "", rest.strip(), flags=re.IGNORECASE)
    return len(rest.strip(" ,.，。")) <= 3


def _parse_date(line: str) -> date | None:
    for pattern in _DATES:
        match = pattern.search(line)
        if not match:
            continue
        parts = match.groupdict()
        month = int(parts["m"]) if parts.get("m") else _MONTH.get(_month(parts["mon"]), 0)
        try:
            return date(int(parts["y"]), month, int(parts["d"]))
        except (ValueError, TypeError):
            continue
    return None


def _month(name: str) -> str:
    lowered = name.lower()
    return next((full for full in _MONTH if full.startswith(lowered[:3])), lowered)


def _first_body(kinds: list[str]) -> int:
    """Without a salutation the body starts at the first plain paragraph after any title."""
    for i, kind in enumerate(kinds):
        if kind == "text" and not (i == 0 and len(kinds) > 1):
            return i
    return 0


def _body_end(kinds: list[str], start: int) -> int:
    """Without a closing the body ends where the trailing labelled/date lines begin."""
    end = len(kinds)
    while end > start and kinds[end - 1] in ("label", "date", "closing"):
        end -= 1
    return end


def _head(fields: LetterFields, blocks: list[list[str]], kinds: list[str]) -> None:
    """Before the salutation: a title, a date, or (English style) the sender's address."""
    address: list[str] = []
    for block, kind in zip(blocks, kinds, strict=True):
        if kind != "text":
            continue
        line = _join(block)
        if (
            fields.title is None
            and not address
            and len(line) <= 60
            and not _looks_like_address(line)
        ):
            fields.title = line
        elif _looks_like_address(line):
            address.append(line)
    if address and fields.address is None:
        fields.address = ", ".join(address)


def _signature(fields: LetterFields, blocks: list[list[str]], kinds: list[str]) -> None:
    """After the closing: the sender's name, then address and phone lines."""
    for block, kind in zip(blocks, kinds, strict=True):
        if kind != "text":
            continue
        line = _join(block)
        if fields.sender_name is None and _looks_like_name(line, fields.language):
            fields.sender_name = line
        elif fields.address is None and _looks_like_address(line):
            fields.address = line


def _looks_like_name(line: str, language: str) -> bool:
    if any(ch.isdigit() for ch in line) or _LABEL.match(line):
        return False
    if language == "zh" and _CJK.search(line):
        return 2 <= len(line) <= 12
    return 2 <= len(line) <= 40 and len(line.split()) <= 4


def _looks_like_address(line: str) -> bool:
    return (
        bool(re.search(r"\d", line))
        and bool(_ADDRESS_WORDS.search(line))
        and not _PHONE_CANDIDATE.fullmatch(line.strip())
    )


def _take_label(fields: LetterFields, line: str) -> None:
    match = _LABEL.match(line)
    if not match:
        return
    label = re.sub(r"\s+", " ", match["label"].lower())
    value = match["value"].strip()
    kind = next((k for k, names in _LABEL_KIND.items() if label in names), None)
    if kind is None and label.startswith("order"):
        kind = "order"
    if kind is None and label.startswith("serial"):
        kind = "serial"
    if not value:
        if kind in ("phone", "address", "email"):
            fields.unreadable.append(kind)
        return
    if kind == "name":
        fields.sender_name = fields.sender_name or value
    elif kind == "address":
        fields.address = value
    elif kind == "phone":
        phones = find_phones(value.translate(_DIGITISH))
        if phones:
            fields.phones.extend(p for p in phones if p not in fields.phones)
        else:
            fields.unreadable.append("phone")
    elif kind == "email":
        found = _EMAIL.search(value)
        if found:
            fields.email = found.group(0)
        else:
            fields.unreadable.append("email")
    elif kind == "date":
        fields.date_line = line
    elif kind == "order":
        fields.order_number = _order(value) or value.split()[0]
    elif kind == "model":
        fields.model = value.split()[0].strip(",，。.")
    elif kind == "serial":
        fields.serial = value.split()[0].strip(",，。.")
    elif kind == "specification":
        fields.specification = value
    elif kind == "quantity" and value[:6].strip().isdigit():
        fields.quantity = int(value[:6].strip())


def find_phones(text: str) -> list[str]:
    """Valid Chinese phone numbers in `text`, as E.164 national digits (e.g. 13812345678)."""
    found: list[str] = []
    for match in _PHONE_CANDIDATE.finditer(text):
        digits = re.sub(r"[^\d+]", "", match.group(0))
        try:
            number = phonenumbers.parse(digits, "CN")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            national = str(number.national_number)
            national = national if national.startswith("1") else f"0{national}"
            if national not in found:
                found.append(national)
    return found


def _order(text: str) -> str | None:
    match = _ORDER.search(text)
    if match:
        return f"HT{match.group(1).translate(_DIGITISH)}-{match.group(2).translate(_DIGITISH)}"
    return None


def _from_text(fields: LetterFields, text: str) -> None:
    """Fields anywhere in the letter that the labelled lines did not already give."""
    flat = text.replace("\n", " ")
    if not fields.phones:
        fields.phones = find_phones(flat)
    if fields.email is None:
        found = _EMAIL.search(flat)
        fields.email = found.group(0) if found else None
    if fields.order_number is None:
        labelled = _ORDER_LABELLED.search(flat)
        fields.order_number = _order(flat) or (labelled.group(1) if labelled else None)
    if fields.model is None:
        labelled = _MODEL_LABELLED.search(flat)
        bare = _MODEL.search(flat)
        fields.model = labelled.group(1) if labelled else (bare.group(1) if bare else None)
    if fields.serial is None:
        serial = _SERIAL.search(flat) or _SERIAL_LABELLED.search(flat) or _BATCH.search(flat)
        fields.serial = serial.group(1) if serial else None
    if fields.quantity is None:
        quantity = _QUANTITY.search(flat)
        if quantity:
            fields.quantity = int(quantity.group(1) or quantity.group(2))
    if fields.date_line is not None:
        fields.letter_date = _parse_date(fields.date_line)
    fields.unreadable = [kind for kind in fields.unreadable if not _known(fields, kind)]


def _known(fields: LetterFields, kind: str) -> bool:
    return bool(
        {"phone": fields.phones, "email": fields.email, "address": fields.address}.get(kind)
    )


def _join(block: list[str]) -> str:
    text = ""
    for line in block:
        text = join_text(text, line)
    return text
