"""The learned model: train-and-load round trip, missing and corrupt model directories."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from classifiers import ClassifierInput, load_classifier
from classifiers.corpus import load_examples
from classifiers.model import META_FILE
from classifiers.taxonomy import load_taxonomy
from classifiers.training import load_train_config, train

SAMPLES = [
    ("冰箱冷藏室漏水，地上都是水", "valid", None, "general", [], "quality"),
    ("The fridge is leaking water onto the floor", "valid", None, "general", [], "quality"),
    ("快递送来时外箱破损，冰箱门凹了", "valid", None, "general", [], "logistics"),
    (
        "The courier dropped the box and the washer arrived dented",
        "valid",
        None,
        "general",
        [],
        "logistics",
    ),
    ("退款申请两周了还没到账", "valid", None, "general", [], "finance"),
    ("My refund has not been paid after three weeks", "valid", None, "general", [], "finance"),
    ("空调冒烟了，有焦味", "valid", None, "major", ["safety"], "quality"),
    ("The charger caught fire", "valid", None, "major", ["safety"], "quality"),
    ("代开发票，加微信详谈", "invalid", "spam", "minor", [], None),
    ("Cheap SEO services, click here", "invalid", "spam", "minor", [], None),
    ("请问冰箱有白色款吗", "invalid", "not_a_complaint", "minor", [], None),
    ("Do you sell rice cookers in blue?", "invalid", "not_a_complaint", "minor", [], None),
]


def write_corpus(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    with (path / "tiny.jsonl").open("w", encoding="utf-8") as handle:
        for n, (text, validity, reason, severity, flags, department) in enumerate(SAMPLES):
            record = {
                "id": f"t-{n}", "channel": "webform", "text": text,
                "complainant": {"email": "a@b.cn"},
                "labels": {"validity": validity, "reason": reason, "severity": severity,
                           "flags": flags, "department": department},
            }  # fmt: skip
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("model")
    examples = load_examples([write_corpus(base / "data")])
    config = {**load_train_config(), "epochs": 6, "augment_copies": 0}
    report = train(examples, base / "model", load_taxonomy(), config)
    assert report.examples == len(SAMPLES)
    return report.model_dir


def test_round_trip_loads_and_predicts(tiny_model: Path) -> None:
    clf = load_classifier(model_dir=tiny_model)
    assert clf.status["model"] == "loaded"
    assert clf.status["model_version"].startswith("model-")
    decision = clf.classify(ClassifierInput(text="冰箱漏水", complainant={"email": "a@b.cn"}))
    assert decision.model_version == clf.status["model_version"]
    assert decision.rules_version == clf.status["rules_version"]
    assert set(decision.confidence) >= {"validity", "severity"}


def test_training_is_reproducible(tiny_model: Path, tmp_path: Path) -> None:
    examples = load_examples([write_corpus(tmp_path / "data")])
    config = {**load_train_config(), "epochs": 6, "augment_copies": 0}
    again = train(examples, tmp_path / "model", load_taxonomy(), config)
    first = json.loads((tiny_model / META_FILE).read_text())["model_version"]
    assert again.model_version == first
    item = ClassifierInput(text="退款还没到账", complainant={"email": "a@b.cn"})
    a = load_classifier(model_dir=tiny_model).classify(item).confidence
    b = load_classifier(model_dir=again.model_dir).classify(item).confidence
    assert a == b


def test_missing_model_runs_rules_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        clf = load_classifier(model_dir=tmp_path / "absent")
    assert clf.status["model"].startswith("missing")
    assert "rules only" in caplog.text
    decision = clf.classify(
        ClassifierInput(text="空调冒烟了", complainant={"phone": "13812345678"})
    )
    assert decision.severity == "major" and decision.model_version == ""


def test_corrupt_model_runs_rules_only(tiny_model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / META_FILE).write_text('{"model_version": "x"}')
    (broken / "config.cfg").write_text("this is not a spaCy config [[[")
    clf = load_classifier(model_dir=broken)
    assert clf.status["model"].startswith("corrupt")
    decision = clf.classify(
        ClassifierInput(text="我已经起诉你们了，法院已受理", complainant={"phone": "13812345678"})
    )
    assert decision.reason == "in_litigation"


def test_truncated_weights_are_corrupt(tiny_model: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    weights = copy / "textcat_department" / "model"
    weights.write_bytes(weights.read_bytes()[:100])
    clf = load_classifier(model_dir=copy)
    assert clf.status["model"].startswith("corrupt")
