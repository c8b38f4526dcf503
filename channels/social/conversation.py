"""A closed conversation as one raw input: its document, and the draft made from it.

The document holds every message of the conversation in order, with each
photo or file fetched by then and kept as a blob (`sha256`), or the reason it
could not be kept. The normaliser is pure: it joins the texts (a voice note
counts by its transcript) and points the attachments at the kept blobs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from channels.base import NormaliseError, RawInput
from channels.social.media import Fetched, MediaError
from channels.social.message import MediaRef, SocialMessage
from storage.conversations import DueConversation
from storage.records import Attachment, ChannelKind, Complainant, ComplaintDraft

CONVERSATION_MEDIA_TYPE = "application/vnd.complaint-gateway.conversation+json"
Downloader = Callable[[MediaRef], Awaitable[Fetched]]
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


class Postpone(Exception):
    """A media download failed in a way a later attempt may fix."""


async def build_document(
    network: str, conversation: DueConversation, download: Downloader | None, *, final: bool
) -> tuple[bytes, list[bytes]]:
    """The conversation's document and its media bytes.

    A retryable download failure raises `Postpone` unless this is the `final`
    attempt, when the media is left out with the reason (the message itself,
    and the archived webhook body with the media's address, are kept).
    """
    blobs: list[bytes] = []
    messages = []
    for stored in conversation.messages:
        message = SocialMessage.model_validate(stored.content)
        media = []
        for ref in message.media:
            entry: dict[str, Any] = ref.model_dump(exclude_none=True)
            try:
                if download is None:
                    raise MediaError("the channel account no longer exists", retry=False)
                fetched = await download(ref)
            except MediaError as exc:
                if exc.retry and not final:
                    raise Postpone(str(exc)) from exc
                entry["error"] = str(exc)
            else:
                blobs.append(fetched.data)
                entry.update(
                    media_type=fetched.media_type,
                    size=len(fetched.data),
                    sha256=_sha256(fetched.data),
                )
            media.append(entry)
        messages.append(
            {
                "provider_id": stored.provider_id,
                "raw_id": stored.raw_id,
                "at": stored.at.isoformat(),
                **message.model_dump(exclude={"media"}),
                "media": media,
            }
        )
    document = {
        "network": network,
        "conversation_id": conversation.id,
        "person": conversation.person,
        "follow_up_of": conversation.follow_up_of,
        "closed_by": conversation.close_reason or "quiet",
        "messages": messages,
    }
    return json.dumps(document, ensure_ascii=False).encode(), blobs


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def guess_language(text: str) -> str | None:
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return None
    return "zh" if cjk * 3 >= latin else "en"


def _line(message: dict[str, Any]) -> str:
    return str(message.get("text") or "").strip()


def normalise_conversation(raw: RawInput, family: ChannelKind) -> ComplaintDraft:
    """The draft of one closed conversation; other archived inputs (malformed bodies) are
    refused with the reason they were kept for."""
    if raw.media_type != CONVERSATION_MEDIA_TYPE:
        reason = raw.meta.get("error") or f"not a conversation ({raw.media_type})"
        raise NormaliseError(str(reason))
    try:
        document = json.loads(raw.data)
        messages = list(document["messages"])
    except (ValueError, KeyError, TypeError) as exc:
        raise NormaliseError(f"conversation document is unreadable: {exc}") from exc
    if not messages:
        raise NormaliseError("conversation has no messages")
    body = "\n".join(line for line in (_line(m) for m in messages) if line)
    senders = [m.get("sender") or {} for m in messages]
    name = next((s["name"] for s in senders if s.get("name")), None)
    phone = next((s["phone"] for s in senders if s.get("phone")), None)
    spoken = next((s["language"] for s in senders if s.get("language")), None)
    attachments, missing = [], False
    for message in messages:
        for media in message.get("media", []):
            if "sha256" not in media:
                missing = True
                continue
            attachments.append(
                Attachment(
                    name=media.get("name") or f"{media.get('kind', 'file')}-{media['sha256'][:12]}",
                    media_type=media["media_type"],
                    size=media["size"],
                    sha256=media["sha256"],
                    storage_key=f"blob:{media['sha256']}",
                )
            )
    language = guess_language(body) or _short_language(spoken)
    return ComplaintDraft(
        channel=family,
        channel_account=raw.account,
        provider_ids=[str(m["provider_id"]) for m in messages],
        received_at=datetime.fromisoformat(messages[0]["at"]),
        complainant=Complainant(
            name=name,
            phones=[phone] if phone else [],
            handle=document.get("person"),
            language=_short_language(spoken) or language,
        ),
        body=body,
        language=language,
        attachments=attachments,
        hints=["conversation", *(["media_missing"] if missing else [])],
        follow_up_of=document.get("follow_up_of"),
    )


def _short_language(code: str | None) -> str | None:
    """Telegram's "zh-hans" / "en-US" as the record's "zh" / "en"."""
    return code.split("-")[0].lower() if code else None
