"""The acknowledgement of a web form complaint: the reference, in the language the
form was filled in — by e-mail when an address was given, else by SMS to the phone
given when the form's account has a Twilio sender (`sms` setting).
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from channels.webform.settings import WebformSettings

_TEXT = {
    "zh-CN": {
        "subject": "[{reference}] 我们已收到您的投诉",
        "body": (
            "{name}您好：\n\n"
            "我们已收到您在{company}网上投诉页面提交的投诉，受理编号：{reference}\n\n"
            "接下来：我们会核实并分类您的投诉，转给负责的部门；一般在 24 小时内首次答复您，"
            "最迟在 15 个工作日内给您最终答复。\n\n"
            "查询处理进度：{status_url}（需要受理编号和您留下的联系方式）\n\n"
            "{company}"
        ),
        "sms": "【{company}】您的投诉已受理，受理编号{reference}。查询进度：{status_url}",
    },
    "en": {
        "subject": "[{reference}] We have received your complaint",
        "body": (
            "Dear {name},\n\n"
            "We have received the complaint you sent through the {company} complaint form. "
            "Your reference number is {reference}.\n\n"
            "What happens next: we check and classify your complaint and pass it to the "
            "department responsible. You get a first answer within 24 hours as a rule and a "
            "final answer within 15 working days at the latest.\n\n"
            "Look up the status: {status_url} (with the reference and the contact you gave)\n\n"
            "{company}"
        ),
        "sms": "{company}: we have received your complaint, reference {reference}. "
        "Status: {status_url}",
    },
}


def ack_language(acknowledgement: dict[str, Any], settings: WebformSettings) -> str:
    """The form's language, else the complaint's, else the form's first language."""
    complainant = acknowledgement.get("complainant") or {}
    for value in (complainant.get("language"), acknowledgement.get("language")):
        if isinstance(value, str):
            if value.lower().startswith("zh") and "zh-CN" in _TEXT:
                return "zh-CN"
            if value.lower().startswith("en"):
                return "en"
    return settings.languages[0]


def ack_message(
    acknowledgement: dict[str, Any], settings: WebformSettings, status_url: str
) -> EmailMessage | None:
    """The e-mail to send, or None when the complainant gave no e-mail address."""
    complainant = acknowledgement.get("complainant") or {}
    address = complainant.get("email")
    if not address:
        return None
    language = ack_language(acknowledgement, settings)
    texts = _TEXT[language]
    company = settings.company.get(language)
    name = complainant.get("name") or ("客户" if language == "zh-CN" else "customer")
    reference = str(acknowledgement["reference"])
    message = EmailMessage()
    message["To"] = address
    message["Subject"] = texts["subject"].format(reference=reference)
    message["Auto-Submitted"] = "auto-replied"  # RFC 3834: no mail loops with auto-responders
    message["X-Complaint-Reference"] = reference
    message.set_content(
        texts["body"].format(name=name, company=company, reference=reference, status_url=status_url)
    )
    return message


def ack_sms(
    acknowledgement: dict[str, Any], settings: WebformSettings, status_url: str
) -> tuple[str, str] | None:
    """(phone, text) of the SMS to send, or None when the complainant gave no phone."""
    complainant = acknowledgement.get("complainant") or {}
    phones = complainant.get("phones") or []
    if not phones:
        return None
    language = ack_language(acknowledgement, settings)
    text = _TEXT[language]["sms"].format(
        company=settings.company.get(language),
        reference=str(acknowledgement["reference"]),
        status_url=status_url,
    )
    return str(phones[0]), text
