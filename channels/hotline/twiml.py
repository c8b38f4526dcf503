"""TwiML building blocks: prompts in the caller's language, built with `VoiceResponse`."""

from __future__ import annotations

from collections.abc import Sequence

from twilio.twiml.voice_response import Gather, VoiceResponse

from channels.hotline.settings import TWILIO_LANGUAGE, VOICE, HotlineSettings
from channels.hotline.texts import say

PROMPT_TIMEOUT_SECONDS = 6


def speak(target: VoiceResponse | Gather, text: str, language: str) -> None:
    """`<Say>` in the voice of `language` on a response or a `<Gather>`."""
    target.say(text, language=TWILIO_LANGUAGE[language], voice=VOICE[language])


def ask(
    response: VoiceResponse,
    texts: Sequence[tuple[str, str]],
    *,
    action: str,
    language: str,
    input_: str = "speech dtmf",
    num_digits: int | None = None,
    hints: list[str] | None = None,
) -> VoiceResponse:
    """A `<Gather>` that always calls `action`, even when the caller said nothing."""
    gather = response.gather(
        input=input_,
        action=action,
        method="POST",
        language=TWILIO_LANGUAGE[language],
        timeout=PROMPT_TIMEOUT_SECONDS,
        speech_timeout="auto",
        finish_on_key="#",
        num_digits=num_digits,
        hints=", ".join(hints) if hints else None,
        action_on_empty_result=True,
    )
    for text, text_language in texts:
        speak(gather, text, text_language)
    return response


def record(
    response: VoiceResponse,
    settings: HotlineSettings,
    language: str,
    *,
    action: str,
    transcribe_callback: str,
) -> VoiceResponse:
    """The recorded-message fallback (`<Record>`), transcribed by Twilio if enabled."""
    speak(response, say(settings, language, "record"), language)
    response.record(
        action=action,
        method="POST",
        max_length=settings.recording_max_seconds,
        finish_on_key="#",
        play_beep=True,
        transcribe=settings.transcribe_recordings,
        transcribe_callback=transcribe_callback if settings.transcribe_recordings else None,
    )
    return response


def goodbye(response: VoiceResponse, settings: HotlineSettings, language: str) -> VoiceResponse:
    speak(response, say(settings, language, "goodbye"), language)
    response.hangup()
    return response
