"""Which complaint a mail continues: a reference in it, or a reply to our acknowledgement.

Our acknowledgements carry the reference in their Message-ID, so a reply's
`In-Reply-To`/`References` names the complaint without a lookup. Replies to mail we
received are found by the gateway from the ids listed in `draft.replies_to`.
"""

from __future__ import annotations

import re
import secrets

from storage.references import PREFIX

REFERENCE = re.compile(rf"(?<![A-Za-z0-9]){PREFIX}-\d{{6}}-\d{{6}}(?!\d)")
_ACK_ID = re.compile(rf"^<ack\.({PREFIX}-\d{{6}}-\d{{6}})\.[^@>]+@[^>]+>$")


def ack_message_id(reference: str, domain: str) -> str:
    """A Message-ID for an acknowledgement that names its complaint."""
    return f"<ack.{reference}.{secrets.token_hex(6)}@{domain}>"


def reference_of_ack(message_id: str) -> str | None:
    match = _ACK_ID.match(message_id)
    return match.group(1) if match else None


def referenced_complaint(reply_ids: list[str], subject: str, text: str) -> str | None:
    """The reference this mail continues: from our ack's id, then the subject, then the text."""
    for message_id in reply_ids:
        reference = reference_of_ack(message_id)
        if reference:
            return reference
    for source in (subject, text):
        match = REFERENCE.search(source)
        if match:
            return match.group(0)
    return None
