"""The call document: how one call is archived, whether Twilio took it or it was imported.

One JSON format for both sources means one normaliser. A Twilio call keeps
every webhook step's parameters verbatim under `steps`; the caller's answers
are lifted into `turns`. Documented in docs/hotline.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from channels.hotline.settings import HotlineSettings, Language

CALL_FORMAT = "hotline-call/1"
FOLLOW_UP_FORMAT = "hotline-follow-up/1"
REJECTED_FORMAT = "hotline-rejected/1"
MEDIA_TYPE = "application/json"
#: Steps whose answer is part of the complaint, in the order they are asked.
ANSWER_STEPS = ("problem", "product", "order")


class Turn(BaseModel):
    """One thing said (or keyed in) during the call."""

    model_config = ConfigDict(extra="forbid")

    speaker: Literal["caller", "agent"] = "caller"
    text: str = Field(max_length=20_000)
    step: str | None = None
    input: Literal["speech", "dtmf", "transcription", "text"] = "text"
    confidence: float | None = None
    at: datetime | None = None


class Recording(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    sid: str | None = None
    duration_seconds: int | None = None


class CallDocument(BaseModel):
    """A whole call as archived."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["hotline-call/1"] = "hotline-call/1"
    source: Literal["twilio", "import"]
    call_id: str = Field(min_length=1, max_length=200)
    caller: str | None = None
    called: str | None = None
    started_at: datetime
    language: Language
    agent: str | None = None
    complete: bool = True
    status: str | None = None
    menu_option: str | None = None
    department_hint: str | None = None
    turns: list[Turn] = Field(default_factory=list)
    recordings: list[Recording] = Field(default_factory=list)
    steps: list[dict[str, Any]] = Field(default_factory=list)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


class FollowUpDocument(BaseModel):
    """Something that arrived after the call was archived (a late transcription)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["hotline-follow-up/1"] = "hotline-follow-up/1"
    call_id: str
    reference: str
    turns: list[Turn] = Field(default_factory=list)
    recordings: list[Recording] = Field(default_factory=list)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def rejected_document(where: str, error: str, content: str) -> bytes:
    """A bad part of an import file, archived as is so that it can be fixed and replayed."""
    return json.dumps(
        {"format": REJECTED_FORMAT, "where": where, "error": error, "content": content},
        ensure_ascii=False,
    ).encode()


Step = tuple[str, dict[str, Any], str]  # (step key, Twilio parameters, ISO time kept)


def latest(steps: list[Step], name: str) -> dict[str, Any] | None:
    """The parameters of the last attempt at step `name` (`menu`, `menu#2`, …)."""
    found = None
    for key, params, _at in steps:
        if key.split("#")[0] == name:
            found = params
    return found


def reached_end(steps: list[Step]) -> bool:
    """True when the caller answered every prompt or left a recorded message."""
    recording = latest(steps, "recording")
    return latest(steps, "order") is not None or bool(recording and recording.get("RecordingUrl"))


def from_twilio(
    call_sid: str, steps: list[Step], settings: HotlineSettings, language: str | None
) -> CallDocument:
    """The call document of a Twilio call from its kept steps."""
    first = steps[0][1] if steps else {}
    lang = language or _chosen_language(steps) or settings.languages[0]
    menu = latest(steps, "menu") or {}
    option = settings.option(str(menu.get("_option", "")))
    statuses = [p.get("CallStatus") for k, p, _ in steps if k.startswith(("status", "ended"))]
    return CallDocument(
        source="twilio",
        call_id=call_sid,
        caller=first.get("From") or first.get("Caller"),
        called=first.get("To") or first.get("Called"),
        started_at=datetime.fromisoformat(steps[0][2]) if steps else datetime.now(UTC),
        language=lang,  # type: ignore[arg-type]
        complete=reached_end(steps),
        status=statuses[-1] if statuses else None,
        menu_option=option.digit if option else None,
        department_hint=option.department_hint if option else None,
        turns=_turns(steps),
        recordings=_recordings(steps),
        steps=[{"step": key, "at": at, "params": params} for key, params, at in steps],
    )


def _chosen_language(steps: list[Step]) -> str | None:
    choice = latest(steps, "language")
    return str(choice["_language"]) if choice and choice.get("_language") else None


def _turns(steps: list[Step]) -> list[Turn]:
    turns: list[Turn] = []
    for name in ANSWER_STEPS:
        params = latest(steps, name)
        if not params:
            continue
        if params.get("SpeechResult"):
            confidence = params.get("Confidence")
            turns.append(
                Turn(
                    text=params["SpeechResult"],
                    step=name,
                    input="speech",
                    confidence=float(confidence) if confidence else None,
                )
            )
        elif params.get("Digits", "").strip("#"):
            turns.append(Turn(text=params["Digits"].strip("#"), step=name, input="dtmf"))
    transcription = latest(steps, "transcription")
    if transcription and transcription.get("TranscriptionText"):
        turns.append(
            Turn(text=transcription["TranscriptionText"], step="recording", input="transcription")
        )
    return turns


def _recordings(steps: list[Step]) -> list[Recording]:
    params = latest(steps, "recording")
    if not params or not params.get("RecordingUrl"):
        return []
    duration = params.get("RecordingDuration")
    return [
        Recording(
            url=params["RecordingUrl"],
            sid=params.get("RecordingSid"),
            duration_seconds=int(str(duration)) if str(duration or "").isdigit() else None,
        )
    ]
