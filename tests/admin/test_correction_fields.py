"""Corrections over HTTP: the corrector is whoever authenticated, never a name in the body;
extracted fields (product, order number, contact) are corrected with who/when/why, through
the admin JSON API and the record page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from storage.tables_routing import CorrectionExample
from storage.users import create_token
from tests.admin.conftest import AdminGateway

BODY = {"body": "冰箱BCD-520W门封条老化漏冷，制冷效果很差", "complainant": {"phone": "13812345678"}}


async def _reference(admin: AdminGateway) -> str:
    _, body = await admin.gw.post(BODY)
    await admin.gw.record(body["reference"])
    return str(body["reference"])


def _corrections(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for h in record["history"] if h["action"] == "corrected"]


async def _examples(admin: AdminGateway) -> int:
    async with admin.svc.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(CorrectionExample)) or 0)


async def test_the_corrector_is_the_token_owner_not_the_body(admin_gateway: AdminGateway) -> None:
    reference = await _reference(admin_gateway)
    async with admin_gateway.svc.sessions.begin() as session:
        token = await create_token(session, "supervisor", "t")
    client = admin_gateway.gw.client
    url = f"/api/v1/admin/complaints/{reference}/corrections"
    headers = {"Authorization": f"Bearer {token}"}
    forged = await client.post(
        url,
        json={"department": "logistics", "note": "n", "actor": "someone.else"},
        headers=headers,
    )
    assert forged.status == 422, await forged.text()
    assert "credentials" in (await forged.json())["error"]["message"]
    assert _corrections(await admin_gateway.gw.record(reference)) == []  # nothing applied
    done = await client.post(url, json={"department": "logistics", "note": "n"}, headers=headers)
    assert done.status == 200, await done.text()
    by_key = await client.post(
        url, json={"department": "sales", "note": "m"}, headers=admin_gateway.gw.auth
    )
    assert by_key.status == 200, await by_key.text()
    history = _corrections(await admin_gateway.gw.record(reference))
    assert [h["actor"] for h in history] == ["supervisor", "tests"]


async def test_extracted_fields_are_corrected_through_the_api(
    admin_gateway: AdminGateway,
) -> None:
    reference = await _reference(admin_gateway)
    before = await admin_gateway.gw.record(reference)
    url = f"/api/v1/admin/complaints/{reference}/corrections"
    client, auth = admin_gateway.gw.client, admin_gateway.gw.auth
    change = {
        "product.model": "BCD-521W",
        "product.quantity": "2",
        "order_number": "HT20260315-0042",
        "complainant.phones": ["+8613900000000"],
        "complainant.name": "李女士",
    }
    response = await client.post(
        url, json={"fields": change, "note": "checked against the invoice"}, headers=auth
    )
    result = await response.json()
    assert response.status == 200, result
    after = await admin_gateway.gw.record(reference)
    assert after["product"]["model"] == "BCD-521W" and after["product"]["quantity"] == 2
    assert after["order_number"] == "HT20260315-0042"
    assert after["complainant"]["phones"] == ["+8613900000000"]
    assert after["complainant"]["name"] == "李女士"
    assert after["classification"]["department"] == before["classification"]["department"]
    entry = _corrections(after)[-1]
    assert entry["actor"] == "tests" and entry["at"]
    assert entry["detail"]["reason"] == "checked against the invoice"
    assert entry["detail"]["fields"]["order_number"] == {
        "before": before["order_number"],
        "after": "HT20260315-0042",
    }
    assert (
        entry["detail"]["fields"]["complainant.phones"]["before"]
        == (before["complainant"]["phones"])
    )
    assert await _examples(admin_gateway) == 0  # labels untouched: not a training example


def _by_complainant(record: dict[str, Any]) -> set[str]:
    return {
        link["reference"]
        for link in record["links"]
        if link["kind"] in ("same_complainant", "repeat")
    }


async def test_a_corrected_phone_links_later_complaints_from_it(
    admin_gateway: AdminGateway,
) -> None:
    gw = admin_gateway.gw
    first = await _reference(admin_gateway)  # from 13812345678
    response = await gw.client.post(
        f"/api/v1/admin/complaints/{first}/corrections",
        json={"fields": {"complainant.phones": ["+8613900000000"]}, "note": "misheard number"},
        headers=gw.auth,
    )
    assert response.status == 200, await response.text()
    _, new = await gw.post(
        {"body": "洗衣机XQB80脱水时噪音很大", "complainant": {"phone": "13900000000"}}
    )
    assert _by_complainant(await gw.record(new["reference"])) == {first}
    _, old = await gw.post({"body": "空调KFR-35GW不制冷", "complainant": {"phone": "13812345678"}})
    assert first not in _by_complainant(await gw.record(old["reference"]))


async def test_bad_fields_change_nothing(admin_gateway: AdminGateway) -> None:
    reference = await _reference(admin_gateway)
    before = await admin_gateway.gw.record(reference)
    url = f"/api/v1/admin/complaints/{reference}/corrections"
    client, auth = admin_gateway.gw.client, admin_gateway.gw.auth
    for fields, message in (
        ({"product.colour": "red"}, "unknown field"),
        ({"order_number": "X-1", "product.quantity": "two"}, "whole number"),
        ({"complainant.phones": [1, 2]}, "list of strings"),
    ):
        response = await client.post(url, json={"fields": fields, "note": "n"}, headers=auth)
        assert response.status == 422
        assert message in (await response.json())["error"]["message"]
    after = await admin_gateway.gw.record(reference)
    assert after["order_number"] == before["order_number"] and _corrections(after) == []


async def test_fields_and_labels_from_the_record_page(admin_gateway: AdminGateway) -> None:
    reference = await _reference(admin_gateway)
    supervisor = admin_gateway.browsers["supervisor"]
    status, page = await supervisor.get(f"/admin/records/{reference}")
    assert status == 200 and 'name="field.order_number"' in page
    assert 'name="field.complainant.phones"' in page and 'value="13812345678"' in page
    status, _ = await supervisor.post(
        f"/admin/records/{reference}/correct",
        {"validity": "valid", "department": "logistics", "severity": "general",
         "flags_present": "1", "field.order_number": "HT-9",
         "field.complainant.phones": "13812345678, +8613900000000",
         "field.product.model": "", "note": "called back"},
    )  # fmt: skip
    assert status == 303
    record = await admin_gateway.gw.record(reference)
    assert record["order_number"] == "HT-9"
    assert record["complainant"]["phones"] == ["13812345678", "+8613900000000"]
    assert record["classification"]["department"] == "logistics"
    entry = _corrections(record)[-1]
    assert entry["actor"] == "supervisor"
    assert set(entry["detail"]["fields"]) == {"order_number", "complainant.phones"}
    assert await _examples(admin_gateway) == 1  # the department changed: a training example
    _, page = await supervisor.get(f"/admin/records/{reference}")
    assert 'value="HT-9"' in page
    viewer = admin_gateway.browsers["viewer"]
    _, page = await viewer.get(f"/admin/records/{reference}")
    assert "field.order_number" not in page and "+8613900000000" not in page
