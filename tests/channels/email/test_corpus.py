"""The normaliser on the tricky-mail corpus and on CPython's public e-mail test messages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.base import RawInput
from channels.email.normalise import normalise_mail
from storage.records import ComplaintDraft
from tests.channels.email.corpus import CASES, Case

CPYTHON = sorted((Path(__file__).parent / "data" / "cpython").glob("msg_*.txt"))


def normalise(data: bytes, provider_id: str = "<x@y>/abc") -> ComplaintDraft:
    return normalise_mail(
        RawInput(
            data=data,
            media_type="message/rfc822",
            account="mailbox",
            provider_id=provider_id,
            received_at=datetime(2026, 3, 16, 2, 0, tzinfo=UTC),
        )
    )


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_message(case: Case):
    draft = normalise(case.data)
    for text in case.body_has:
        assert text in draft.body, f"{text!r} missing from {draft.body!r}"
    for text in case.body_lacks:
        assert text not in draft.body, f"{text!r} should be cut from {draft.body!r}"
    if case.subject is not None:
        assert case.subject in (draft.subject or ""), draft.subject
    if case.sender is not None or case.name == "no_from":
        assert draft.complainant.email == case.sender
    if case.name_is is not None:
        assert draft.complainant.name == case.name_is
    for hint in case.hints:
        assert hint in draft.hints, draft.hints
    for hint in case.no_hints:
        assert hint not in draft.hints, draft.hints
    if case.attachments is not None:
        assert len(draft.attachments) == case.attachments
        for item in draft.attachments:
            assert item.sha256 in draft.attachment_data and item.size > 0
    if case.language is not None:
        assert draft.language == case.language
    assert draft.follow_up_of == case.follow_up_of
    for phone in case.phones:
        assert phone in draft.complainant.phones
    assert "\ufffd" not in draft.body or "incomplete" in draft.hints


def test_machine_mail_never_continues_a_complaint():
    bounce = next(case for case in CASES if case.name == "dsn_bounce")
    draft = normalise(bounce.data)
    assert draft.follow_up_of is None and draft.replies_to == []


def test_huge_attachment_is_kept_whole():
    case = next(case for case in CASES if case.name == "huge_attachment")
    draft = normalise(case.data)
    assert draft.attachments[0].size == 256 * 20000


def test_backfilled_file_takes_its_date():
    case = CASES[0]
    draft = normalise(case.data, provider_id="file:abc")
    assert draft.received_at == datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
    assert draft.received_tz == "+08:00"


@pytest.mark.parametrize("path", CPYTHON, ids=[path.name for path in CPYTHON])
def test_cpython_test_messages_normalise(path: Path):
    draft = normalise(path.read_bytes())
    assert draft.channel.value == "email"
    assert draft.body or draft.subject or draft.attachments or "incomplete" in draft.hints


def test_cpython_specific_outcomes():
    by_name = {path.name: normalise(path.read_bytes()) for path in CPYTHON}
    assert "bounce" in by_name["msg_16.txt"].hints  # a DSN from postmaster
    assert "bounce" in by_name["msg_25.txt"].hints  # "Returned mail" from MAILER-DAEMON
    assert by_name["msg_07.txt"].attachments[0].media_type == "image/gif"
    assert "¡This is a Quoted Printable" in by_name["msg_10.txt"].body
    assert by_name["msg_01.txt"].complainant.email == "bbb@ddd.com"
