"""The acknowledgement mail: the reference and what happens next, in the complainant's language.

It carries `Auto-Submitted: auto-replied` (RFC 3834) so well-behaved responders stay
quiet, a Message-ID that names the complaint so a reply threads back, and is sent at
most a few times an hour to one address, so no responder can pull it into a loop.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict, deque
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from channels.email.settings import EmailSettings
from channels.email.threads import ack_message_id

_NO_REPLY = re.compile(
    r"^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?|notifications?)[@+.-]",
    re.IGNORECASE,
)

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_NEXT_STEPS = {
    "zh": {
        "valid": "我们会在 24 小时内给您初步答复，并在调查后告知处理结果。",
        "not_specific": "为便于调查，请回复本邮件补充产品型号、订单号、问题经过，并可附上照片。",
        "not_a_complaint": "您的来信已转交客服，我们会尽快答复您的咨询。",
        "other": "我们会审核您的来信，并通过本邮箱与您联系。",
    },
    "en": {
        "valid": "We will reply within 24 hours and tell you the outcome of our investigation.",
        "not_specific": (
            "To investigate, please reply with the product model, order number, what happened, "
            "and photos if you have them."
        ),
        "not_a_complaint": (
            "Your message has been passed to customer service, who will answer soon."
        ),
        "other": "We will review your message and contact you at this address.",
    },
}


class AckRateLimiter:
    """At most `limit` acknowledgements per address per hour, in this process."""

    def __init__(self, window_seconds: float = 3600.0) -> None:
        self.window = window_seconds
        self._sent: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, address: str, limit: int) -> bool:
        now = time.monotonic()
        sent = self._sent[address.lower()]
        while sent and now - sent[0] > self.window:
            sent.popleft()
        if len(sent) >= limit:
            return False
        sent.append(now)
        return True


def ack_address(acknowledgement: dict[str, Any]) -> str | None:
    """Where the acknowledgement goes, or None when nobody should get one."""
    address = str((acknowledgement.get("complainant") or {}).get("email") or "").strip()
    if "@" not in address or _NO_REPLY.match(address):
        return None
    return address


def build_ack(
    acknowledgement: dict[str, Any], settings: EmailSettings, address: str
) -> EmailMessage:
    reference = str(acknowledgement["reference"])
    language = "zh" if str(acknowledgement.get("language") or "").startswith("zh") else "en"
    steps = _NEXT_STEPS[language]
    validity = acknowledgement.get("validity") or "valid"
    reason = acknowledgement.get("reason")
    next_step = steps["valid"] if validity == "valid" else steps.get(str(reason), steps["other"])
    who = (acknowledgement.get("complainant") or {}).get("name") or ""
    original_subject = str(acknowledgement.get("subject") or "").strip()
    if language == "zh":
        subject = f"您的投诉已受理 [{reference}]"
        greeting = f"{who}，您好：" if who else "您好："
        text = (
            f"{greeting}\n\n我们已收到您的来信，受理编号为 {reference}。\n{next_step}\n\n"
            f"如需补充材料，请直接回复本邮件，并保留主题中的编号。\n\n"
            f"{settings.company_name_zh} 客户服务部\n（本邮件由系统自动发送）"
        )
    else:
        subject = f"We received your complaint [{reference}]"
        greeting = f"Dear {who}," if who else "Hello,"
        text = (
            f"{greeting}\n\nWe have received your message; its reference is {reference}.\n"
            f"{next_step}\n\nTo add anything, reply to this e-mail and keep the reference in "
            f"the subject.\n\n{settings.company_name_en} Customer Service\n"
            f"(This message was sent automatically.)"
        )
    if original_subject:
        subject = f"{subject} {original_subject}"[:250]
    message = EmailMessage()
    message["To"] = formataddr((who, address)) if who else address
    if settings.reply_from:
        message["From"] = settings.reply_from
    message["Subject"] = subject
    domain = (settings.reply_from or "").rpartition("@")[2].strip("> ") or "complaints.invalid"
    message["Message-ID"] = ack_message_id(reference, domain)
    ids = acknowledgement.get("provider_ids") or []
    original = [pid for pid in ids if _MESSAGE_ID.fullmatch(str(pid))]
    if original:
        message["In-Reply-To"] = original[0]
        message["References"] = original[0]
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Complaint-Reference"] = reference
    message.set_content(text)
    return message
