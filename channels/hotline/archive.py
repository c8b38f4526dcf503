"""Archiving a Twilio call as ONE raw input, and what arrives after it.

The call's provider id is its CallSid: the in-call finish, a retried status
callback and a dropped call's status callback all meet at the archive's
unique key, so one call is one record. A transcription Twilio delivers after
the call was archived becomes a follow-up of that record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from channels.base import AcceptResult, AccountView, ChannelHost
from channels.hotline.calldoc import (
    MEDIA_TYPE,
    CallDocument,
    FollowUpDocument,
    Step,
    Turn,
    from_twilio,
    latest,
)
from channels.hotline.settings import HotlineSettings

ARCHIVED_STEP = "archived"
#: Kept with the reference the caller heard when a voicemail waits for its transcription.
VOICEMAIL_STEP = "voicemail"
#: Kept with the reference the caller heard at the end of the prompts; archived right after.
FINISHED_STEP = "finished"
#: The final status callback (completed, busy, failed, no-answer, canceled).
ENDED_STEP = "ended"
#: How long the housekeeping leaves a finished or ended call to the webhook's own follow-up.
SETTLE_SECONDS = 10.0


def worth_a_record(document: CallDocument, settings: HotlineSettings) -> bool:
    """A call becomes a complaint once the caller took the complaint path or said
    something; a status look-up or a call put through to a person does not."""
    option = settings.option(document.menu_option or "")
    return bool(document.turns or document.recordings or (option and option.action == "complaint"))


def waits_for_transcription(steps: list[Step], settings: HotlineSettings) -> bool:
    """A voicemail whose transcription is still to come, within the configured wait.

    Classified without its words, a voicemail would be routed on nothing; so it
    is archived when the transcription arrives, or when the wait is over (the
    channel's housekeeping), whichever comes first.
    """
    if not latest(steps, VOICEMAIL_STEP) or latest(steps, "transcription"):
        return False
    if latest(steps, ARCHIVED_STEP):
        return False
    kept_at = next(at for key, _params, at in steps if key == VOICEMAIL_STEP)
    waited = (datetime.now(UTC) - _aware(datetime.fromisoformat(kept_at))).total_seconds()
    return waited < settings.transcription_wait_seconds


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def archive_call(
    host: ChannelHost, account: AccountView, settings: HotlineSettings, call_sid: str
) -> AcceptResult:
    """Archive the call with everything kept so far (idempotent per CallSid).

    A voicemail's reference was taken when the caller heard it; it is archived under it.
    """
    steps = await host.call_steps(account, call_sid)
    document = from_twilio(call_sid, steps, settings, None)
    reserved = (latest(steps, VOICEMAIL_STEP) or latest(steps, FINISHED_STEP) or {}).get(
        "_reference"
    )
    meta = {"call_id": call_sid, "complete": document.complete}
    result = await host.accept(
        account,
        provider_id=call_sid,
        data=document.to_bytes(),
        media_type=MEDIA_TYPE,
        meta=meta,
        received_at=document.started_at,
        reserve_reference=not reserved,
        reference=str(reserved) if reserved else None,
    )
    if result.duplicate and not latest(steps, ARCHIVED_STEP):
        # Archived by a process that stopped before noting it: note it now, so the call is
        # not picked up again; its words are unknown here, so a transcription is sent on.
        await host.keep_call_step(
            account,
            call_sid,
            ARCHIVED_STEP,
            {"reference": result.reference, "raw_id": result.raw_id, "transcribed": False},
        )
        await send_late_transcription(host, account, call_sid)
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


async def settle_call(
    host: ChannelHost, account: AccountView, settings: HotlineSettings, call_sid: str
) -> None:
    """After the call ended: archive it unless it already was, waits for a transcription,
    or never became a complaint (then it is marked, so the housekeeping lets it be)."""
    steps = await host.call_steps(account, call_sid)
    if latest(steps, ARCHIVED_STEP) or waits_for_transcription(steps, settings):
        return
    reserved = latest(steps, FINISHED_STEP) or latest(steps, VOICEMAIL_STEP)
    if reserved or worth_a_record(from_twilio(call_sid, steps, settings, None), settings):
        await archive_call(host, account, settings, call_sid)
    else:
        await host.keep_call_step(account, call_sid, ARCHIVED_STEP, {"reference": None})


async def archive_waiting(host: ChannelHost, account: AccountView) -> int:
    """Archive what the webhooks left to be archived and is due: voicemails whose wait for
    a transcription is over, and (should the process have stopped before it got to them)
    finished or ended calls. Returns how many calls it looked at."""
    settings = HotlineSettings.model_validate(account.settings)
    due = [
        (VOICEMAIL_STEP, float(settings.transcription_wait_seconds)),
        (FINISHED_STEP, SETTLE_SECONDS),
        (ENDED_STEP, SETTLE_SECONDS),
    ]
    done = 0
    for step, seconds in due:
        for sid in await host.calls_waiting(account, step, ARCHIVED_STEP, seconds):
            await settle_call(host, account, settings, sid)
            done += 1
    return done


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
