"""Structural evidence: facts about a record that are not a matter of wording.

- machine mail (auto-reply hint, bounce or out-of-office subject) → `spam`;
- whether any contact exists (complainant fields, or a phone/e-mail/handle/address in the
  text; a withheld caller ID or an anonymous form adds none) → `no_contact`;
- stated purchase or event dates against `received_at` → `expired`;
- text with no letters at all (empty, emoji-only, binary garbage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from classifiers.dates import DateMention
from classifiers.entities import Entities
from classifiers.inputs import AUTO_REPLY, ClassifierInput
from classifiers.taxonomy import Taxonomy

_MACHINE_SUBJECT = re.compile(
    r"^\s*(?:\[?auto(?:matic)?[ -]?(?:reply|response|antwort)|out of (?:the )?office|ooo\b|"
    r"undeliverable|undelivered mail|delivery status notification|"
    r"mail delivery (?:failed|failure|subsystem)|"
    r"returned mail|failure notice|delivery failure|message not delivered|vacation reply|"
    r"自动回复|自動回覆|自动答复|休假|外出|不在办公室|系统退信|退信|邮件退回|无法投递|投递失败)",
    re.I,
)
_LETTERS = re.compile(r"[A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class Structure:
    machine_mail: str | None
    has_contact: bool
    contact_source: str | None
    expired: str | None
    letters: int


def machine_mail(item: ClassifierInput) -> str | None:
    """Why this looks machine-generated, or None."""
    if AUTO_REPLY in item.hints:
        return "auto_reply hint from the channel"
    if item.subject and _MACHINE_SUBJECT.search(item.subject):
        return f"machine-mail subject '{item.subject[:60]}'"
    return None


def contact_source(item: ClassifierInput, entities: Entities) -> str | None:
    if item.complainant_has_contact():
        return "complainant"
    if entities.has_contact():
        return "text"
    return None


def expiry(
    mentions: list[DateMention], received: date, taxonomy: Taxonomy, extended_warranty: bool
) -> str | None:
    """Why the complaint is out of time, or None (LABELS.md rule 5)."""
    if not mentions:
        return None
    warranty_cut = _years_before(received, taxonomy.company.warranty_years)
    window_cut = received - timedelta(days=round(taxonomy.company.complaint_window_months * 30.44))
    purchases = [m for m in mentions if m.purchase]
    if purchases and not extended_warranty:
        latest_purchase = max(m.value for m in purchases)
        if latest_purchase < warranty_cut:
            years = taxonomy.company.warranty_years
            return f"bought {latest_purchase.isoformat()}, over {years} years before receipt"
    events = [m for m in mentions if not m.purchase]
    if events and max(m.value for m in events) < window_cut:
        latest = max(m.value for m in events)
        months = taxonomy.company.complaint_window_months
        return f"event {latest.isoformat()}, over {months} months before receipt"
    return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def received_day(item: ClassifierInput) -> date:
    return (item.received_at or datetime.now()).date()


def analyse(
    item: ClassifierInput, entities: Entities, taxonomy: Taxonomy, extended: bool
) -> Structure:
    source = contact_source(item, entities)
    return Structure(
        machine_mail=machine_mail(item),
        has_contact=source is not None,
        contact_source=source,
        expired=expiry(entities.date, received_day(item), taxonomy, extended),
        letters=len(_LETTERS.findall(f"{item.subject or ''} {item.text or ''}"[:5000])),
    )
