"""The web form's parts on their own: photos, texts, tokens, limits, normaliser, e-mail."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from PIL import Image

from channels.base import AccountView, AcknowledgeError, NormaliseError, RawInput
from channels.registry import get_kind
from channels.webform.document import build_document
from channels.webform.i18n import EN, ZH, choose_language
from channels.webform.images import PhotoError, reencode, sniff
from channels.webform.security import Csrf, RateLimiter
from gateway.public_status import contact_matches, public_events
from storage.records import Complainant, HistoryEntry
from tests.channels.webform.conftest import jpeg_with_gps, png_bytes


def test_catalogues_have_the_same_keys_and_placeholders():
    assert set(ZH) == set(EN)
    for key in EN:
        assert sorted(_placeholders(EN[key])) == sorted(_placeholders(ZH[key])), key


def _placeholders(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, "zh-CN,zh;q=0.9", "zh-CN"),
        (None, None, "zh-TW", "zh-CN"),
        (None, None, "en-US,en;q=0.8,zh;q=0.5", "en"),
        (None, None, "fr-FR,en;q=0.3,zh;q=0.6", "zh-CN"),
        (None, None, "de", "zh-CN"),
        (None, "en", "zh-CN", "en"),
        ("zh-cn", "en", "en", "zh-CN"),
        ("xx", None, "en", "en"),
    ],
)
def test_language_choice(query, cookie, header, expected):
    assert choose_language(query, cookie, header, ["zh-CN", "en"]) == expected


def test_only_offered_languages_are_chosen():
    assert choose_language("zh-CN", None, "zh-CN", ["en"]) == "en"


def test_sniffing_ignores_names_and_declared_types():
    assert sniff(jpeg_with_gps()) == "jpeg"
    assert sniff(png_bytes()) == "png"
    assert sniff(b"GIF89a....") is None
    assert sniff(b"") is None


def test_png_stays_png_and_large_photos_are_scaled_down():
    out = io.BytesIO()
    Image.new("RGB", (3000, 1500), "white").save(out, "PNG")
    photo = reencode(out.getvalue(), max_side=1024)
    assert photo.media_type == "image/png" and (photo.width, photo.height) == (1024, 512)


def test_heic_becomes_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 200, 10)).save(out, "HEIF")
    assert sniff(out.getvalue()) == "heic"
    photo = reencode(out.getvalue(), max_side=2560)
    assert photo.media_type == "image/jpeg" and photo.original_type == "image/heic"
    assert Image.open(io.BytesIO(photo.data)).format == "JPEG"


def test_decompression_bomb_is_refused():
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # small file, 144 M pixels
    with pytest.raises(PhotoError) as caught:
        reencode(out.getvalue(), max_side=2560)
    assert caught.value.key == "err_photo_broken"


def test_jpeg_header_on_png_content_is_refused():
    data = b"\xff\xd8\xff" + png_bytes()
    with pytest.raises(PhotoError):
        reencode(data, max_side=2560)


def test_csrf_tokens():
    csrf = Csrf(b"k" * 32)
    token = csrf.issue("webform", "cookie-1")
    assert csrf.check("webform", "cookie-1", token.value) == token.nonce
    assert csrf.check("webform", "cookie-2", token.value) is None
    assert csrf.check("dealers", "cookie-1", token.value) is None
    assert Csrf(b"x" * 32).check("webform", "cookie-1", token.value) is None
    old = csrf.issue("webform", "cookie-1", now=1_000_000)
    assert csrf.check("webform", "cookie-1", old.value) is None


def test_rate_limiter_window_and_bounded_memory():
    limiter = RateLimiter(max_keys=10)
    assert limiter.hit("a", 2, 60, now=0) == 0
    assert limiter.hit("a", 2, 60, now=1) == 0
    assert limiter.hit("a", 2, 60, now=2) == pytest.approx(58)
    assert limiter.hit("a", 2, 60, now=61) == 0
    for i in range(100):
        limiter.hit(f"k{i}", 1, 1, now=1000 + i)
    assert len(limiter._events) <= 11


def _raw(fields: dict, photos=(), language="zh-CN") -> RawInput:
    data = build_document(
        language=language,
        timezone="Asia/Shanghai",
        department_hints=["after_sales"],
        fields={"description": "热水器漏水，地板泡坏了", **fields},
        photos=list(photos),
    )
    return RawInput(
        data=data,
        media_type="application/json",
        account="webform",
        provider_id="form:n:1",
        received_at=datetime(2026, 11, 3, 8, 0, tzinfo=UTC),
    )


def test_normaliser_reads_the_document():
    photo = reencode(jpeg_with_gps(), 2560)
    draft = get_kind("webform").normalise(
        _raw(
            {
                "phone": "+8613812345678",
                "consent": True,
                "occurred_on": "2026-11-01",
                "product_model": "JSQ24-HT3",
                "quantity": 2,
            },
            [photo],
        )
    )
    assert draft.channel.value == "webform"
    assert draft.complainant.phones == ["+8613812345678"]
    assert draft.occurred_at == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert draft.product.quantity == 2 and draft.product.model == "JSQ24-HT3"
    assert "发生日期：2026-11-01" in draft.body and "数量：2" in draft.body
    assert draft.hints == ["department_hint:after_sales"]
    assert draft.attachments[0].media_type == "image/jpeg"
    assert draft.attachment_data[draft.attachments[0].sha256] == photo.data


def test_normaliser_drops_contact_without_consent():
    draft = get_kind("webform").normalise(_raw({"email": "a@example.com", "consent": False}))
    assert draft.complainant.email is None and "anonymous" in draft.hints


def test_normaliser_refuses_what_is_not_a_form_document():
    raw = _raw({})
    for data in (b"not json", json.dumps({"format": "webform/1"}).encode()):
        with pytest.raises(NormaliseError):
            get_kind("webform").normalise(
                RawInput(data, raw.media_type, raw.account, raw.provider_id, raw.received_at)
            )


def test_document_is_the_same_bytes_for_the_same_submission():
    assert _raw({"name": "李四"}).data == _raw({"name": "李四"}).data


class RecordingHost:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.public_base_url = "https://complaints.example.com"

    async def send_mail(self, message: EmailMessage) -> None:
        self.sent.append(message)


def _account(settings: dict | None = None) -> AccountView:
    return AccountView(id=1, name="webform", kind="webform", settings=settings or {}, enabled=True)


async def test_acknowledgement_email_in_the_forms_language():
    host = RecordingHost()
    note = await get_kind("webform").acknowledge(
        _account(),
        {
            "reference": "QC-202611-000007",
            "language": "zh",
            "complainant": {"email": "a@example.com", "name": "王五", "language": "en"},
        },
        host,  # type: ignore[arg-type]
    )
    message = host.sent[0]
    assert message["To"] == "a@example.com" and message["Auto-Submitted"] == "auto-replied"
    assert message["Subject"] == "[QC-202611-000007] We have received your complaint"
    body = message.get_content()
    assert "Dear 王五" in body and "https://complaints.example.com/status" in body
    assert "sent" in note


async def test_acknowledgement_without_email_sends_nothing_and_says_why():
    host = RecordingHost()
    with pytest.raises(AcknowledgeError) as caught:
        await get_kind("webform").acknowledge(
            _account(),
            {"reference": "QC-202611-000008", "complainant": {"phones": ["+86138"]}},
            host,  # type: ignore[arg-type]
        )
    assert host.sent == [] and "no SMS sender is configured" in str(caught.value)
    assert not caught.value.retry  # a dead letter to replay once SMS is set up, never a loop


def test_contact_matching():
    who = Complainant(phones=["+8613812345678"], email="Zhang@Example.com")
    assert contact_matches(who, "138-1234-5678")
    assert contact_matches(who, "zhang@example.com ")
    assert not contact_matches(who, "13812345679")
    assert not contact_matches(who, "45678")
    assert not contact_matches(Complainant(), "13812345678")


def test_public_history_hides_internal_events():
    at = datetime(2026, 11, 3, tzinfo=UTC)
    history = [
        HistoryEntry(at=at, actor="system", action="received"),
        HistoryEntry(at=at, actor="system", action="created", detail={"department": "quality"}),
        HistoryEntry(at=at, actor="system", action="delivery_retry", detail={"destination": "x"}),
        HistoryEntry(at=at, actor="system", action="delivered", detail={"purpose": "route"}),
        HistoryEntry(at=at, actor="system", action="delivered", detail={"purpose": "escalation"}),
        HistoryEntry(at=at, actor="system", action="delivered", detail={"purpose": "ack"}),
        HistoryEntry(at=at, actor="lee", action="corrected", detail={"why": "x"}),
        HistoryEntry(at=at, actor="lee", action="closed"),
    ]
    events = [event["event"] for event in public_events(history)]
    assert events == ["received", "registered", "forwarded", "acknowledged", "closed"]
