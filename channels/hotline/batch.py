"""Transcript import: calls exported by other call-centre systems, JSON or CSV.

Each call becomes its own input with provider id `import:<call_id>`, so
importing a file again adds nothing. A call that cannot be read is split out
all the same, as a rejected part naming its line (CSV) or index (JSON): it is
archived, fails in the normaliser with that message, and the good calls go
on. The formats are documented in docs/hotline.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from channels.base import BatchItem
from channels.hotline.calldoc import MEDIA_TYPE, CallDocument, Recording, Turn, rejected_document

MAX_CALLS = 100_000
CSV_COLUMNS = ("call_id", "number", "started_at", "agent", "language", "transcript")
LANGUAGES = {
    "zh": "zh", "zh-cn": "zh", "zh-hans": "zh", "cmn": "zh", "cmn-cn": "zh", "cmn-hans-cn": "zh",
    "en": "en", "en-us": "en", "en-gb": "en",
}  # fmt: skip
_SPEAKER = re.compile(r"^\s*(caller|customer|agent|来电|客户|客服|坐席)\s*[:：]\s*", re.I)
_AGENT_WORDS = {"agent", "客服", "坐席"}


class ImportedTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: str = "caller"
    text: str = Field(min_length=1, max_length=20_000)

    @field_validator("speaker")
    @classmethod
    def _speaker(cls, value: str) -> str:
        value = value.strip().lower()
        if value in ("caller", "customer", "来电", "客户"):
            return "caller"
        if value in _AGENT_WORDS:
            return "agent"
        raise ValueError(f"unknown speaker {value!r} (caller or agent)")


class ImportedCall(BaseModel):
    """One call of an import file (the JSON object; a CSV row maps onto it)."""

    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=160)
    number: str | None = Field(default=None, max_length=40, description="caller ID")
    called: str | None = Field(default=None, max_length=40)
    started_at: datetime
    agent: str | None = Field(default=None, max_length=200)
    language: str
    turns: list[ImportedTurn] = Field(min_length=1, max_length=2_000)
    recording_url: str | None = Field(default=None, max_length=2_000)
    complete: bool = True

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        known = LANGUAGES.get(value.strip().lower())
        if known is None:
            raise ValueError(f"unknown language {value!r} (known: zh, en, cmn-CN, en-US, …)")
        return known

    @field_validator("started_at")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("started_at needs a UTC offset, e.g. 2026-03-15T10:20:00+08:00")
        return value

    def document(self) -> CallDocument:
        return CallDocument(
            source="import",
            call_id=self.call_id,
            caller=self.number,
            called=self.called,
            started_at=self.started_at,
            language=self.language,  # type: ignore[arg-type]
            agent=self.agent,
            complete=self.complete,
            turns=[Turn(speaker=t.speaker, text=t.text) for t in self.turns],  # type: ignore[arg-type]
            recordings=[Recording(url=self.recording_url)] if self.recording_url else [],
        )


def split(data: bytes, filename: str) -> list[BatchItem]:
    """Every call of an import file as an input of its own (bad ones as rejected parts)."""
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        return [_rejected("file", f"not UTF-8 or GB18030 text: {exc}", data[:4000].hex())]
    is_json = filename.lower().endswith(".json") or text.lstrip()[:1] in ("[", "{")
    parts = _json_calls(text) if is_json else _csv_calls(text)
    items: list[BatchItem] = []
    for where, call, error, content in parts:
        if len(items) >= MAX_CALLS:
            items.append(_rejected(where, f"more than {MAX_CALLS} calls in one file", content))
            break
        items.append(_accepted(where, call) if call else _rejected(where, error, content))
    return items


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


Part = tuple[str, ImportedCall | None, str, str]  # where, call, error, original content


def _parse(where: str, value: Any, content: str) -> Part:
    try:
        return where, ImportedCall.model_validate(value), "", content
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'call'}: {e['msg']}" for e in exc.errors()
        )
        return where, None, problems, content


def _json_calls(text: str) -> Iterator[Part]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        yield "file", None, f"invalid JSON: {exc}", text[:20_000]
        return
    calls = document.get("calls") if isinstance(document, dict) else document
    if not isinstance(calls, list):
        yield "file", None, 'expected a list of calls or {"calls": [...]}', text[:20_000]
        return
    for index, call in enumerate(calls):
        content = json.dumps(call, ensure_ascii=False)
        yield _parse(f"calls[{index}]", call, content)


def _csv_calls(text: str) -> Iterator[Part]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error) as exc:
        yield "line 1", None, f"no CSV header: {exc}", text[:2000]
        return
    missing = [c for c in CSV_COLUMNS if c not in header and c not in ("agent", "number")]
    if missing:
        yield "line 1", None, f"CSV header lacks {', '.join(missing)}", ",".join(header)
        return
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"line {start}", None, f"broken CSV: {exc}", ""
            return
        where, content = f"line {start}", _csv_line(row)
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield where, None, f"expected {len(header)} fields, got {len(row)}", content
            continue
        fields = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        value: dict[str, Any] = {k: v for k, v in fields.items() if v and k != "transcript"}
        value["turns"] = _transcript_turns(fields.get("transcript", ""))
        yield _parse(where, value, content)


def _csv_line(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(row)
    return out.getvalue().rstrip("\r\n")


def _transcript_turns(transcript: str) -> list[dict[str, str]]:
    """`caller: …` / `agent: …` lines (来电/客服 too); a line without a speaker continues
    the previous turn, or is the caller's when it is the first."""
    turns: list[dict[str, str]] = []
    for line in transcript.splitlines():
        if not line.strip():
            continue
        match = _SPEAKER.match(line)
        if match:
            turns.append({"speaker": match.group(1), "text": line[match.end() :].strip()})
        elif turns:
            turns[-1]["text"] += "\n" + line.strip()
        else:
            turns.append({"speaker": "caller", "text": line.strip()})
    return turns


def _accepted(where: str, call: ImportedCall) -> BatchItem:
    return BatchItem(
        provider_id=f"import:{call.call_id}",
        data=call.document().to_bytes(),
        media_type=MEDIA_TYPE,
        where=where,
        received_at=call.started_at,
        meta={"call_id": call.call_id, "where": where},
    )


def _rejected(where: str, error: str, content: str) -> BatchItem:
    digest = hashlib.sha256(f"{where}\n{content}".encode()).hexdigest()
    return BatchItem(
        provider_id=f"import-rejected:{digest[:48]}",
        data=rejected_document(where, error, content),
        media_type=MEDIA_TYPE,
        where=where,
        meta={"where": where},
        error=f"{where}: {error}",
    )
