"""Archiving a Twilio call as ONE raw input, and what arrives after it.

The call's provider id is its CallSid: the in-call finish, a retried status
callback and a dropped call's status callback all meet at the archive's
unique key, so one call is one record. A transcription Twilio delivers after
the call was archived becomes a follow-up of that record.
"""

from __future__ import annotations

from channels.base import AcceptResult, AccountView, ChannelHost
from channels.hotline.calldoc import (
    MEDIA_TYPE,
    CallDocument,
    FollowUpDocument,
    Turn,
    from_twilio,
    latest,
)
from channels.hotline.settings import HotlineSettings

ARCHIVED_STEP = "archived"


def worth_a_record(document: CallDocument, settings: HotlineSettings) -> bool:
    """A call becomes a complaint once the caller took the complaint path or said
    something; a status look-up or a call put through to a person does not."""
    option = settings.option(document.menu_option or "")
    return bool(document.turns or document.recordings or (option and option.action == "complaint"))


async def archive_call(
    host: ChannelHost, account: AccountView, settings: HotlineSettings, call_sid: str
) -> AcceptResult:
    """Archive the call with everything kept so far (idempotent per CallSid)."""
    steps = await host.call_steps(account, call_sid)
    document = from_twilio(call_sid, steps, settings, None)
    result = await host.accept(
        account,
        provider_id=call_sid,
        data=document.to_bytes(),
        media_type=MEDIA_TYPE,
        meta={"call_id": call_sid, "complete": document.complete},
        received_at=document.started_at,
        reserve_reference=True,
    )
    if not result.duplicate:
        transcribed = any(turn.input == "transcription" for turn in document.turns)
        await host.keep_call_step(
            account,
            call_sid,
            ARCHIVED_STEP,
            {"reference": result.reference, "raw_id": result.raw_id, "transcribed": transcribed},
        )
        if document.recordings and not transcribed:
            await send_late_transcription(host, account, call_sid)  # it may have raced us
    return result


async def send_late_transcription(host: ChannelHost, account: AccountView, call_sid: str) -> None:
    """A transcription that missed the archived call goes to its record as a follow-up."""
    steps = await host.call_steps(account, call_sid)
    archived = latest(steps, ARCHIVED_STEP)
    transcription = latest(steps, "transcription")
    if not archived or archived.get("transcribed") or not archived.get("reference"):
        return
    if not transcription or not transcription.get("TranscriptionText"):
        return
    document = FollowUpDocument(
        call_id=call_sid,
        reference=str(archived["reference"]),
        turns=[
            Turn(
                text=transcription["TranscriptionText"],
                step="recording",
                input="transcription",
            )
        ],
    )
    await host.accept(
        account,
        provider_id=f"{call_sid}/transcription",
        data=document.to_bytes(),
        media_type=MEDIA_TYPE,
        meta={"call_id": call_sid, "follow_up_of": archived["reference"]},
    )
