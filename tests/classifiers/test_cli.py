"""`classify` and `evaluate` commands through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.commands.classify import classify, evaluate


def _labels(
    validity: str, reason: str | None, severity: str, flags: list[str], dept: str | None
) -> dict:
    return {"validity": validity, "reason": reason, "severity": severity, "flags": flags,
            "department": dept}  # fmt: skip


RECORDS = [
    {"id": "a", "channel": "hotline", "text": "空调冒烟了，有焦味，我要打12315",
     "complainant": {"phone": "13812345678"},
     "labels": _labels("valid", None, "major", ["safety", "regulator"], "quality")},
    {"id": "b", "channel": "email", "subject": "Automatic reply: hello", "text": "I am away.",
     "hints": ["auto_reply"], "complainant": {"email": "x@y.com"},
     "labels": _labels("invalid", "spam", "minor", [], None)},
    {"id": "c", "channel": "webform", "text": "冰箱漏水",
     "labels": _labels("invalid", "no_contact", "general", [], None)},
]  # fmt: skip


def write(path: Path) -> Path:
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\nnot json\n",
        encoding="utf-8",
    )
    return path


def test_classify_prints_one_decision_per_line_in_order(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        classify, [str(write(tmp_path / "in.jsonl")), "--model-dir", str(tmp_path / "none")]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [line["id"] for line in lines[:3]] == ["a", "b", "c"]
    assert lines[0]["severity"] == "major" and "safety" in lines[0]["flags"]
    assert lines[1]["reason"] == "spam"
    assert lines[2]["reason"] == "no_contact"
    assert lines[3]["error"] == "not a JSON object"
    for key in (
        "validity",
        "reason",
        "severity",
        "flags",
        "department",
        "confidence",
        "needs_review",
        "explanation",
        "entities",
    ):
        assert key in lines[0]


def test_evaluate_reports_and_applies_thresholds(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl")
    args = [str(path), "--model-dir", str(tmp_path / "none")]
    ok = CliRunner().invoke(evaluate, args)
    assert ok.exit_code == 0, ok.output
    assert "major_recall: 1.0000" in ok.output
    assert "department confusion" in ok.output
    strict = CliRunner().invoke(evaluate, [*args, "--min-department-f1", "1.01"])
    assert strict.exit_code == 1
    as_json = CliRunner().invoke(evaluate, [*args, "--json"])
    assert json.loads(as_json.output.strip().splitlines()[-1])["validity_accuracy"] == 1.0
