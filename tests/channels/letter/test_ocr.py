"""Real OCR on generated letters: accuracy, fields, and the inputs scanners and phones make."""

from __future__ import annotations

import statistics
import textwrap

import pytest

from channels.letter.samples import (
    DEGRADATIONS,
    char_accuracy,
    degrade,
    photo_with_exif_rotation,
    render,
    sample_letters,
    to_bytes,
)
from tests.channels.letter.conftest import letter_png, read, read_many
from tests.channels.letter.files import image_pdf, multipage_tiff, text_pdf


def _transcript(draft) -> str:
    return draft.channel_detail["transcript"]


def test_clean_and_degraded_letters_meet_the_accuracy_targets(letters):
    clean = [letter_png(letter, font_index=i) for i, letter in enumerate(letters)]
    others = sample_letters(2 * len(DEGRADATIONS), seed=2027)  # 22 different letters in all
    degraded_set = [
        (others[i], how)
        for i, how in enumerate([*DEGRADATIONS, *DEGRADATIONS])  # each kind, zh and en
    ]
    degraded = [to_bytes(degrade(render(letter), how, seed=7)) for letter, how in degraded_set]
    drafts = read_many(clean + degraded)
    scores: dict[str, list[float]] = {"zh": [], "en": []}
    for letter, draft in zip(letters, drafts[: len(clean)], strict=True):
        scores[letter.language].append(char_accuracy(letter.text(), _transcript(draft)))
        assert draft.language == letter.language
        assert draft.complainant.name == letter.name
        assert draft.complainant.phones == [letter.phone]
        assert draft.complainant.address == letter.address
        assert draft.order_number == letter.order_number
        assert draft.product.model == letter.model
        assert draft.channel_detail["letter"]["date_line"] == letter.date_line
        assert draft.channel_detail["letter"]["salutation"] == letter.salutation
        body = draft.body.split("\n\n")  # the paragraphs kept, nothing but them
        assert len(body) == len(letter.paragraphs)
        for read_back, written in zip(body, letter.paragraphs, strict=True):
            assert char_accuracy(written, read_back) >= 0.97
        assert draft.hints == []
    for language, values in scores.items():
        assert statistics.mean(values) >= 0.97, (language, values)
    for (letter, how), draft in zip(degraded_set, drafts[len(clean) :], strict=True):
        accuracy = char_accuracy(letter.text(), _transcript(draft))
        assert accuracy >= 0.90, (how, letter.language, accuracy)
        assert draft.order_number == letter.order_number, how
        assert draft.complainant.phones == [letter.phone], how


def test_page_images_are_kept_and_confidence_reported(letters):
    draft = read(letter_png(letters[0]))
    assert [a.name for a in draft.attachments] == ["page-1.jpg"]
    assert draft.attachment_data[draft.attachments[0].sha256][:3] == b"\xff\xd8\xff"
    page = draft.channel_detail["ocr"]["pages"][0]
    assert page["source"] == "ocr" and page["confidence"] > 0.9
    assert draft.channel_detail["ocr"]["engine"].startswith("rapidocr")


def test_a_phone_photo_stored_sideways_is_turned_upright(letters):
    letter = letters[1]
    photo = degrade(render(letter), "photo", seed=3)
    draft = read(photo_with_exif_rotation(photo))
    assert char_accuracy(letter.text(), _transcript(draft)) >= 0.90
    assert draft.order_number == letter.order_number


@pytest.mark.parametrize("index", [0, 1])  # zh, en
def test_a_pdf_with_a_text_layer_uses_its_text(letters, index):
    letter = letters[index]
    lines = []
    for line in letter.lines():  # set as a word processor would: wrapped to the page
        lines += (
            [line[i : i + 36] for i in range(0, len(line), 36)]
            if letter.language == "zh"
            else textwrap.wrap(line, 80)
        )
    draft = read(text_pdf([lines]))
    page = draft.channel_detail["ocr"]["pages"][0]
    assert page["source"] == "text_layer" and page["confidence"] == 1.0
    assert char_accuracy(letter.text(), _transcript(draft)) == 1.0
    assert draft.complainant.phones == [letter.phone]
    assert draft.order_number == letter.order_number
    assert len(draft.attachments) == 1  # the page rendered for the reviewer all the same


def test_a_scanned_pdf_and_a_multipage_tiff_are_read_page_by_page(letters):
    first, second = letters[2], letters[3]
    pages = [render(first), render(second)]
    pdf_draft, tiff_draft = read_many([image_pdf(pages), multipage_tiff(pages)])
    for draft in (pdf_draft, tiff_draft):
        assert [p["source"] for p in draft.channel_detail["ocr"]["pages"]] == ["ocr", "ocr"]
        assert [a.name for a in draft.attachments] == ["page-1.jpg", "page-2.jpg"]
        text = _transcript(draft)
        assert char_accuracy(first.text() + second.text(), text) >= 0.97
        assert draft.order_number == first.order_number


def test_a_page_scanned_upside_down_is_read_the_right_way_up(letters):
    letter = letters[4]
    draft = read(to_bytes(render(letter).rotate(180)))
    assert char_accuracy(letter.text(), _transcript(draft)) >= 0.97
    assert draft.channel_detail["ocr"]["pages"][0]["skew_degrees"] == 180
