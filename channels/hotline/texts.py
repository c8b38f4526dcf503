"""What the hotline says, in Mandarin and English; an account may override any text."""

from __future__ import annotations

from channels.hotline.settings import HotlineSettings

DEFAULTS: dict[str, dict[str, str]] = {
    "zh": {
        "choose_language": "普通话请按{digit}，或者说中文。",
        "welcome": "您好，这里是{company}投诉热线。",
        "menu_item": "{label}请按{digit}。",
        "problem": "请在提示音后说出您的姓名，发生了什么问题，时间和地点。说完请按井号键。",
        "product": "请说出产品名称和型号。没有请按井号键。",
        "order": "请说出或者输入订单号。没有请按井号键。",
        "record": "请在提示音后留言，说完请按井号键或者挂机。",
        "after_hours": "现在是非工作时间，人工客服暂时无法接听。",
        "not_understood": "对不起，没有听清。",
        "thanks": (
            "感谢您的来电，我们已经记录您的投诉。您的投诉编号是：{spelled}。再说一遍：{spelled}。"
        ),
        "no_recording": "没有录到留言。",
        "status_prompt": "请输入投诉编号中的十二位数字，以井号键结束。",
        "status_found": "您的投诉{spelled}目前的状态是：{status}。",
        "status_unknown": "没有找到与您的来电号码对应的投诉{spelled}。",
        "connecting": "正在为您转接人工客服，请稍候。",
        "technical": "对不起，系统繁忙。您已说的内容已经记录，我们会尽快联系您。",
        "goodbye": "再见。",
        "sms": "【{company}】您的投诉已受理，编号{reference}。请保留编号以便查询进度。",
        "status.open": "处理中",
        "status.closed": "已办结",
    },
    "en": {
        "choose_language": "For English, press {digit} or say English.",
        "welcome": "Welcome to the {company} complaints line.",
        "menu_item": "For {label}, press {digit}.",
        "problem": (
            "After the tone, please tell us your name, what happened, when and where. "
            "Press the hash key when you are done."
        ),
        "product": "Please say the product and its model. Press hash if you do not know.",
        "order": "Please say or key in your order number. Press hash if you have none.",
        "record": "Please leave a message after the tone. Press hash or hang up when done.",
        "after_hours": "Our service team is closed at the moment.",
        "not_understood": "Sorry, I did not catch that.",
        "thanks": (
            "Thank you. Your complaint is recorded. Your reference is: {spelled}. "
            "Once again: {spelled}."
        ),
        "no_recording": "No message was recorded.",
        "status_prompt": "Please key in the twelve digits of your reference, then press hash.",
        "status_found": "Complaint {spelled} is {status}.",
        "status_unknown": "We found no complaint {spelled} for the number you are calling from.",
        "connecting": "Connecting you to a member of our team.",
        "technical": (
            "Sorry, we have a technical problem. What you said is kept; we will call back."
        ),
        "goodbye": "Goodbye.",
        "sms": "{company}: your complaint is registered, reference {reference}.",
        "status.open": "being handled",
        "status.closed": "closed",
    },
}
_ZH_DIGITS = "零一二三四五六七八九"


def say(settings: HotlineSettings, language: str, key: str, **values: str) -> str:
    """The text `key` in `language`, the account's override first."""
    template = settings.texts.get(language, {}).get(key)  # type: ignore[call-overload]
    if template is None:
        template = DEFAULTS[language].get(key, key)
    return template.format(company=settings.company, **values)


def spell_reference(reference: str, language: str) -> str:
    """`QC-202611-000042` spoken one character at a time, with pauses between the parts."""
    parts = []
    for part in reference.split("-"):
        chars = [_ZH_DIGITS[int(c)] if language == "zh" and c.isdigit() else c for c in part]
        parts.append(" ".join(chars))
    return ("，" if language == "zh" else ", ").join(parts)


def reference_from_digits(digits: str, prefix: str = "QC") -> str | None:
    """The 12 digits a caller keys in (`202611000042`) as a reference, or None."""
    digits = "".join(c for c in digits if c.isdigit())
    if len(digits) != 12:
        return None
    return f"{prefix}-{digits[:6]}-{digits[6:]}"
