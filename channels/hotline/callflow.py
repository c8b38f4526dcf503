"""The IVR, one function per webhook step: what the caller said in, TwiML out.

Each step keeps its Twilio parameters (with what we made of them, under `_`
keys) before it answers, so the call's state is in the database and any
front-end copy can take the next step. The step key carries the attempt
(`menu#2`) so a re-prompt is a new step while Twilio's retry of the same
request is the same one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from twilio.twiml.voice_response import VoiceResponse

from channels.base import AccountView, ChannelHost
from channels.hotline.archive import (
    ARCHIVED_STEP,
    ENDED_STEP,
    FINISHED_STEP,
    VOICEMAIL_STEP,
    archive_call,
    send_late_transcription,
    settle_call,
)
from channels.hotline.calldoc import latest
from channels.hotline.phones import e164
from channels.hotline.settings import HotlineSettings, MenuOption
from channels.hotline.texts import reference_from_digits, say, spell_reference
from channels.hotline.twiml import ask, goodbye, record, speak

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_LANGUAGE_WORDS = {
    "zh": ("中文", "普通话", "国语", "汉语", "chinese", "mandarin"),
    "en": ("english", "英文", "英语"),
}


@dataclass
class Call:
    """One webhook request of one call, with what the step needs to answer it."""

    host: ChannelHost
    account: AccountView
    settings: HotlineSettings
    sid: str
    params: dict[str, str]
    language: str
    attempt: int
    step_url: str  # public URL prefix of this account's steps

    def url(self, step: str, *, attempt: int = 1, language: str | None = None) -> str:
        query = {"lang": language or self.language}
        if attempt > 1:
            query["attempt"] = str(attempt)
        return f"{self.step_url}/{step}?{urlencode(query)}"

    async def keep(self, step: str, **interpretation: Any) -> bool:
        return await self.host.keep_call_step(
            self.account, self.sid, *self.row(step, **interpretation)
        )

    def row(self, step: str, **interpretation: Any) -> tuple[str, dict[str, Any]]:
        """The step's key and what is kept of it."""
        key = step if self.attempt <= 1 else f"{step}#{self.attempt}"
        extra = {f"_{name}": value for name, value in interpretation.items()}
        return key, {**self.params, **extra}

    def said(self) -> str:
        return (self.params.get("SpeechResult") or "").strip()

    def keyed(self) -> str:
        return (self.params.get("Digits") or "").strip().strip("#")


Step = Callable[[Call], Awaitable[VoiceResponse]]


def base_url(public_base_url: str, account_name: str) -> str:
    return f"{public_base_url.rstrip('/')}/hotline/twilio/{quote(account_name, safe='')}"


async def voice(call: Call) -> VoiceResponse:
    """The call comes in: greeting and language choice (or the menu, if one language)."""
    await call.keep("voice")
    if len(call.settings.languages) == 1:
        return _menu_prompt(call, call.settings.languages[0], attempt=1, greet=True)
    return _language_prompt(call, attempt=1)


def _language_prompt(call: Call, attempt: int) -> VoiceResponse:
    texts = []
    for index, language in enumerate(call.settings.languages, start=1):
        if attempt == 1:
            texts.append((say(call.settings, language, "welcome"), language))
        texts.append((say(call.settings, language, "choose_language", digit=str(index)), language))
    first = call.settings.languages[0]
    return ask(
        VoiceResponse(),
        texts,
        action=call.url("language", attempt=attempt, language=first),
        language=first,
        num_digits=1,
        hints=[word for words in _LANGUAGE_WORDS.values() for word in words[:2]],
    )


def chosen_language(call: Call) -> str | None:
    languages = call.settings.languages
    keyed = call.keyed()
    if keyed.isdigit() and 1 <= int(keyed) <= len(languages):
        return languages[int(keyed) - 1]
    spoken = call.said().lower()
    for language in languages:
        if any(word in spoken for word in _LANGUAGE_WORDS[language]):
            return language
    return None


async def language(call: Call) -> VoiceResponse:
    chosen = chosen_language(call)
    if chosen is None and call.attempt < MAX_ATTEMPTS:
        await call.keep("language")
        return _language_prompt(call, attempt=call.attempt + 1)
    chosen = chosen or call.settings.languages[0]
    await call.keep("language", language=chosen)
    return _menu_prompt(call, chosen, attempt=1, greet=False)


def _menu_prompt(call: Call, language: str, attempt: int, greet: bool) -> VoiceResponse:
    texts = [(say(call.settings, language, "welcome"), language)] if greet else []
    if attempt > 1:
        texts.append((say(call.settings, language, "not_understood"), language))
    for option in call.settings.menu:
        label = option.labels.get(language) or option.action  # type: ignore[call-overload]
        texts.append(
            (say(call.settings, language, "menu_item", label=label, digit=option.digit), language)
        )
    return ask(
        VoiceResponse(),
        texts,
        action=call.url("menu", attempt=attempt, language=language),
        language=language,
        num_digits=1,
        hints=[word for option in call.settings.menu for word in option.words],
    )


def chosen_option(call: Call) -> MenuOption | None:
    keyed = call.keyed()
    if keyed:
        return call.settings.option(keyed[0])
    spoken = call.said().lower()
    return next((o for o in call.settings.menu if any(w.lower() in spoken for w in o.words)), None)


async def menu(call: Call) -> VoiceResponse:
    option = chosen_option(call)
    await call.keep("menu", option=option.digit if option else None)
    if option is None:
        if call.attempt < MAX_ATTEMPTS:
            return _menu_prompt(call, call.language, attempt=call.attempt + 1, greet=False)
        return goodbye(VoiceResponse(), call.settings, call.language)
    if option.action == "status":
        return ask(
            VoiceResponse(),
            [(say(call.settings, call.language, "status_prompt"), call.language)],
            action=call.url("lookup"),
            language=call.language,
            input_="dtmf",
        )
    if option.action == "operator":
        return _operator(call)
    return _answer_prompt(call, "problem")


def _answer_prompt(call: Call, step: str) -> VoiceResponse:
    return ask(
        VoiceResponse(),
        [(say(call.settings, call.language, step), call.language)],
        action=call.url(step),
        language=call.language,
    )


def _record_prompt(call: Call, response: VoiceResponse | None = None) -> VoiceResponse:
    return record(
        response or VoiceResponse(),
        call.settings,
        call.language,
        action=call.url("recording"),
        transcribe_callback=call.url("transcription"),
    )


def _operator(call: Call) -> VoiceResponse:
    """A person in business hours; otherwise (or with no operator number) a message."""
    settings = call.settings
    response = VoiceResponse()
    if settings.operator_number and settings.business_hours.is_open(datetime.now(UTC)):
        speak(response, say(settings, call.language, "connecting"), call.language)
        response.dial(settings.operator_number, action=call.url("dial"), method="POST", timeout=25)
        return response
    speak(response, say(settings, call.language, "after_hours"), call.language)
    return _record_prompt(call, response)


async def problem(call: Call) -> VoiceResponse:
    """What happened; nothing understood → the recorded-message fallback."""
    await call.keep("problem")
    if not call.said() and not call.keyed():
        return _record_prompt(call)
    return _answer_prompt(call, "product")


async def product(call: Call) -> VoiceResponse:
    await call.keep("product")
    return _answer_prompt(call, "order")


async def order(call: Call) -> VoiceResponse:
    return await _finish(call, answered=call.row("order"))


async def recording(call: Call) -> VoiceResponse:
    await call.keep("recording")
    duration = call.params.get("RecordingDuration", "0")
    if call.params.get("RecordingUrl") and duration.isdigit() and int(duration) > 0:
        if call.settings.transcribe_recordings and call.settings.transcription_wait_seconds:
            return await _hold(call)
        return await _finish(call)
    response = VoiceResponse()
    speak(response, say(call.settings, call.language, "no_recording"), call.language)
    return goodbye(response, call.settings, call.language)


async def _hold(call: Call) -> VoiceResponse:
    """A voicemail: the caller hears its reference now; it is archived (and classified)
    once Twilio's transcription is in, or when the configured wait is over."""
    reference = await call.host.keep_call_step_with_reference(
        call.account, call.sid, VOICEMAIL_STEP, {"RecordingUrl": call.params["RecordingUrl"]}
    )
    if reference is None:  # kept before this wait existed: archive it as it is
        return await _finish(call)
    steps = await call.host.call_steps(call.account, call.sid)
    if latest(steps, "transcription"):  # the transcription was quicker than this webhook
        await archive_call(call.host, call.account, call.settings, call.sid)
    return _thanks(call, reference)


def _thanks(call: Call, reference: str | None) -> VoiceResponse:
    response = VoiceResponse()
    if reference:
        spelled = spell_reference(reference, call.language)
        speak(response, say(call.settings, call.language, "thanks", spelled=spelled), call.language)
    return goodbye(response, call.settings, call.language)


async def _finish(call: Call, answered: tuple[str, dict[str, Any]] | None = None) -> VoiceResponse:
    """The reference is taken and kept with the call (one transaction, with the step just
    `answered`) so the caller hears it now; archiving the call follows the answer (the
    housekeeping does it, should this process stop first)."""
    reference = await call.host.keep_call_step_with_reference(
        call.account, call.sid, FINISHED_STEP, {}, answered
    )
    later(archive_call(call.host, call.account, call.settings, call.sid), call.sid)
    return _thanks(call, reference)


def later(work: Coroutine[Any, Any, Any], call_sid: str) -> None:
    """Run `work` after the webhook answered. What it needs is committed already, and the
    housekeeping redoes it if this process stops first (see `archive.archive_waiting`)."""
    task = asyncio.create_task(work, name=f"hotline:{call_sid}")
    _LATER.add(task)
    task.add_done_callback(_done)


_LATER: set[asyncio.Task[Any]] = set()


def _done(task: asyncio.Task[Any]) -> None:
    _LATER.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("hotline follow-up work failed", exc_info=task.exception())


async def lookup(call: Call) -> VoiceResponse:
    """Status by reference, told only to the number the complaint came from."""
    await call.keep("lookup")
    response = VoiceResponse()
    reference = reference_from_digits(call.keyed())
    phone = e164(call.params.get("From", ""), call.settings.default_region)
    status = await call.host.complaint_status(reference, phone) if reference and phone else None
    spelled = spell_reference(reference or call.keyed(), call.language)
    if status is None:
        speak(response, say(call.settings, call.language, "status_unknown", spelled=spelled),
              call.language)  # fmt: skip
    else:
        label = say(call.settings, call.language, f"status.{status}")
        label = status if label == f"status.{status}" else label
        speak(response, say(call.settings, call.language, "status_found", spelled=spelled,
                            status=label), call.language)  # fmt: skip
    return goodbye(response, call.settings, call.language)


async def dial(call: Call) -> VoiceResponse:
    """After the person hangs up; if nobody answered, take a message instead."""
    await call.keep("dial")
    if call.params.get("DialCallStatus") == "completed":
        return VoiceResponse()
    return _record_prompt(call)


async def transcription(call: Call) -> VoiceResponse:
    """Twilio's transcription of the recorded message (often after the call ended).

    A voicemail still waiting for it is archived now, words included; one archived
    already (the wait was over) gets the words as a follow-up.
    """
    await call.keep("transcription")
    steps = await call.host.call_steps(call.account, call.sid)
    if latest(steps, VOICEMAIL_STEP) and not latest(steps, ARCHIVED_STEP):
        result = await archive_call(call.host, call.account, call.settings, call.sid)
        if not result.duplicate:
            return VoiceResponse()
    await send_late_transcription(call.host, call.account, call.sid)
    return VoiceResponse()


async def status(call: Call) -> VoiceResponse:
    """The call ended (or dropped): it is archived unless it already was (same CallSid)."""
    call_status = call.params.get("CallStatus", "")
    if call_status not in FINAL_STATUSES:
        await call.host.keep_call_step(call.account, call.sid, f"status:{call_status}", call.params)
        return VoiceResponse()
    await call.host.keep_call_step(call.account, call.sid, ENDED_STEP, call.params)
    later(settle_call(call.host, call.account, call.settings, call.sid), call.sid)
    return VoiceResponse()


STEPS: dict[str, Step] = {
    "voice": voice,
    "language": language,
    "menu": menu,
    "problem": problem,
    "product": product,
    "order": order,
    "recording": recording,
    "lookup": lookup,
    "dial": dial,
    "transcription": transcription,
    "status": status,
}
