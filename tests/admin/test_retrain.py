"""Retrain from corrections (small corpus, 2 epochs), promote, pick-up without a restart,
roll back; too few corrections and a rule that does not compile change nothing."""

from __future__ import annotations

import pytest

from classifiers.retrain import RetrainError
from classifiers.rule_overlay import RuleError
from gateway.admin_ui.models import rule_store
from gateway.corrections import Correction, apply_correction
from gateway.retraining import model_store, run_retrain
from tests.admin.conftest import AdminGateway

TEXTS = ["刚到货的冰箱门板上有一道很深的凹痕", "快递送来的洗衣机外壳开裂了"]


async def _correct_two(admin: AdminGateway) -> None:
    for text in TEXTS:
        _, body = await admin.gw.post({"body": text, "complainant": {"phone": "13812345678"}})
        await admin.gw.record(body["reference"])
        await apply_correction(
            admin.svc, body["reference"], Correction(department="logistics"),
            actor="supervisor", note="transport damage",
        )  # fmt: skip


async def test_too_few_corrections(admin_gateway: AdminGateway) -> None:
    with pytest.raises(RetrainError, match="needs at least 2"):
        await run_retrain(admin_gateway.svc, "supervisor")
    assert [v.version for v in model_store(admin_gateway.svc).versions()] == ["shipped"]


async def test_retrain_promote_and_roll_back(admin_gateway: AdminGateway) -> None:
    shipped = admin_gateway.svc.classify.status["model_version"]
    await _correct_two(admin_gateway)
    outcome = await run_retrain(admin_gateway.svc, "supervisor")
    assert outcome["promoted"], outcome["message"]
    assert admin_gateway.svc.classify.status["model_version"] == outcome["version"]
    _, body = await admin_gateway.gw.post({"body": TEXTS[0], "complainant": {"phone": "1381234"}})
    record = await admin_gateway.gw.record(body["reference"])
    assert record["classification"]["model_version"] == outcome["version"]
    supervisor = admin_gateway.browsers["supervisor"]
    status, page = await supervisor.get("/admin/models")
    assert outcome["version"] in page and "promoted" in page
    status, _ = await supervisor.post("/admin/models/shipped/promote")
    assert status == 303
    assert admin_gateway.svc.classify.status["model_version"] == shipped


async def test_rules_publish_and_bad_rule(admin_gateway: AdminGateway) -> None:
    store = rule_store(admin_gateway.svc)
    taxonomy = admin_gateway.svc.classify.classifier.taxonomy
    with pytest.raises(RuleError, match="does not compile"):
        store.publish([{"group": "departments.logistics", "regex": "(到货"}], taxonomy,
                      actor="s", note="x")  # fmt: skip
    with pytest.raises(RuleError, match="unknown rule group"):
        store.publish([{"group": "departments.astrology", "zh": ["星座"]}], taxonomy,
                      actor="s", note="x")  # fmt: skip
    assert store.active() is None
    version = store.publish(
        [{"group": "departments.logistics", "weight": 1.0, "zh": ["到货时"]}], taxonomy,
        actor="s", note="x",
    )  # fmt: skip
    admin_gateway.svc.classify.refresh(force=True)
    assert admin_gateway.svc.classify.status["rules_version"] == version
