"""Approval flows: admin writes and reads, validation, one active flow per kind, edits that
apply to new submissions only, soft delete."""

import uuid

import pytest

from tests.approvals.approval_helpers import (
    admins,
    create_flow,
    insert_contract,
    manager,
    submit,
    users,
)
from tests.customers.helpers import create_customer
from tests.helpers import client, signup


async def test_admin_creates_a_flow_and_a_retry_answers_it():
    async with client() as http:
        company = await signup(http)
        flow_id = str(uuid.uuid4())
        body = {
            "id": flow_id,
            "kind": "contract",
            "name": "合同审批",
            "steps": [manager(1), admins(mode="all")],
        }
        created = await http.post("/v1/approval-flows", json=body, headers=company.admin)
        assert created.status_code == 201, created.text
        assert created.headers["etag"] == '"1"'
        flow = created.json()
        assert flow["id"] == flow_id
        assert flow["active"] is True
        assert flow["threshold"] is None
        assert flow["steps"] == [
            {"approvers": {"type": "manager", "levels": 1}, "mode": "any"},
            {"approvers": {"type": "role", "role": "admin"}, "mode": "all"},
        ]
        again = await http.post("/v1/approval-flows", json=body, headers=company.admin)
        assert again.status_code == 200
        assert again.json() == flow
        other = await http.post(
            "/v1/approval-flows", json=body | {"name": "another"}, headers=company.admin
        )
        assert other.status_code == 409
        assert other.json()["code"] == "id_conflict"
        # Another company using the id learns nothing about it.
        stranger = await signup(http, "Other")
        theirs = await http.post("/v1/approval-flows", json=body, headers=stranger.admin)
        assert theirs.status_code == 409
        assert theirs.json()["code"] == "id_conflict"


async def test_only_admins_write_and_read_flows():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        _, boss = await company.user("manager")
        flow = await create_flow(http, company.admin, [admins()])
        for headers in (rep, boss):
            for response in (
                await http.post(
                    "/v1/approval-flows",
                    json={"kind": "contract", "name": "x", "steps": [admins()]},
                    headers=headers,
                ),
                await http.get("/v1/approval-flows", headers=headers),
                await http.get(f"/v1/approval-flows/{flow['id']}", headers=headers),
                await http.patch(
                    f"/v1/approval-flows/{flow['id']}",
                    json={"name": "y"},
                    headers=headers | {"If-Match": '"1"'},
                ),
                await http.delete(f"/v1/approval-flows/{flow['id']}", headers=headers),
            ):
                assert response.status_code == 403, response.text
        # Another company's admin: not found.
        stranger = await signup(http, "Other")
        response = await http.get(f"/v1/approval-flows/{flow['id']}", headers=stranger.admin)
        assert response.status_code == 404
        listed = await http.get("/v1/approval-flows", headers=stranger.admin)
        assert listed.json()["items"] == []


async def test_validation_of_steps_threshold_and_users():
    async with client() as http:
        company = await signup(http)
        user_id, _ = await company.user("rep")
        gone_id, _ = await company.user("rep")
        deactivated = await http.post(f"/v1/users/{gone_id}/deactivate", headers=company.admin)
        assert deactivated.status_code == 200, deactivated.text
        stranger = await signup(http, "Other")
        outsider_id, _ = await stranger.user("rep")
        bad = [
            {"kind": "discount", "name": "d", "steps": [admins()]},  # no threshold
            {"kind": "contract", "name": "c", "steps": [admins()], "threshold": "0.1"},
            {"kind": "discount", "name": "d", "steps": [admins()], "threshold": "1"},
            {"kind": "contract", "name": "c", "steps": []},
            {"kind": "contract", "name": "c", "steps": [manager(6)]},
            {"kind": "contract", "name": "c", "steps": [{"approvers": {"type": "boss"}}]},
            {"kind": "contract", "name": "c", "steps": [admins(mode="some")]},
            {"kind": "refund", "name": "r", "steps": [admins()]},
            {"kind": "contract", "name": "c", "steps": [users()]},
        ]
        for body in bad:
            response = await http.post("/v1/approval-flows", json=body, headers=company.admin)
            assert response.status_code == 422, (body, response.text)
        response = await http.post(
            "/v1/approval-flows",
            json={
                "kind": "payment",
                "name": "p",
                "steps": [admins(), users(user_id, gone_id, outsider_id, str(uuid.uuid4()))],
            },
            headers=company.admin,
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "unknown_approver"
        assert [e["loc"] for e in problem["errors"]] == [
            ["body", "steps", 1, "approvers", "user_ids", index] for index in (1, 2, 3)
        ]
        discount = await create_flow(
            http, company.admin, [users(user_id)], kind="discount", threshold="0.15"
        )
        assert discount["threshold"] == "0.1500"


async def test_one_active_flow_per_kind():
    async with client() as http:
        company = await signup(http)
        first = await create_flow(http, company.admin, [admins()])
        payment = await create_flow(http, company.admin, [admins()], kind="payment")
        second = await create_flow(http, company.admin, [manager(1)])
        flows = {
            f["id"]: f
            for f in (await http.get("/v1/approval-flows", headers=company.admin)).json()["items"]
        }
        assert flows[first["id"]]["active"] is False
        assert flows[first["id"]]["version"] == 2
        assert flows[second["id"]]["active"] is True
        assert flows[payment["id"]]["active"] is True  # another kind is untouched
        inactive = await create_flow(http, company.admin, [admins()], active=False)
        assert inactive["active"] is False
        listed = await http.get(
            "/v1/approval-flows?kind=contract&active=true", headers=company.admin
        )
        assert [f["id"] for f in listed.json()["items"]] == [second["id"]]
        # Re-activating the first by PATCH deactivates the second.
        etag = (await http.get(f"/v1/approval-flows/{first['id']}", headers=company.admin)).headers[
            "etag"
        ]
        patched = await http.patch(
            f"/v1/approval-flows/{first['id']}",
            json={"active": True},
            headers=company.admin | {"If-Match": etag},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["active"] is True
        got = await http.get(f"/v1/approval-flows/{second['id']}", headers=company.admin)
        assert got.json()["active"] is False


async def test_patch_needs_if_match_and_applies_to_new_submissions_only():
    async with client() as http:
        company = await signup(http)
        approver_id, _ = await company.user("rep")
        other_id, _ = await company.user("rep")
        rep_id, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        flow = await create_flow(http, company.admin, [users(approver_id)])
        url = f"/v1/approval-flows/{flow['id']}"
        missing = await http.patch(url, json={"name": "x"}, headers=company.admin)
        assert missing.status_code == 428
        stale = await http.patch(
            url, json={"name": "x"}, headers=company.admin | {"If-Match": '"9"'}
        )
        assert stale.status_code == 412
        first = await insert_contract(company.id, customer["id"], rep_id)
        before = await submit(rep_id, first, customer["id"])
        assert before is not None
        patched = await http.patch(
            url,
            json={"name": "新流程", "steps": [users(other_id, mode="all")]},
            headers=company.admin | {"If-Match": '"1"'},
        )
        assert patched.status_code == 200, patched.text
        assert patched.headers["etag"] == '"2"'
        assert patched.json()["name"] == "新流程"
        threshold = await http.patch(
            url, json={"threshold": "0.2"}, headers=company.admin | {"If-Match": '"2"'}
        )
        assert threshold.status_code == 422
        unknown = await http.patch(
            url,
            json={"steps": [users(str(uuid.uuid4()))]},
            headers=company.admin | {"If-Match": '"2"'},
        )
        assert unknown.status_code == 422
        assert unknown.json()["code"] == "unknown_approver"
        second = await insert_contract(company.id, customer["id"], rep_id)
        after = await submit(rep_id, second, customer["id"])
        assert after is not None
        old = (await http.get(f"/v1/approvals/{before.id}", headers=company.admin)).json()
        new = (await http.get(f"/v1/approvals/{after.id}", headers=company.admin)).json()
        assert [a["user_id"] for a in old["steps"][0]["approvers"]] == [approver_id]
        assert old["steps"][0]["mode"] == "any"
        assert [a["user_id"] for a in new["steps"][0]["approvers"]] == [other_id]
        assert new["steps"][0]["mode"] == "all"


@pytest.mark.usefixtures("own_outcomes")
async def test_delete_is_soft_and_stops_new_submissions():
    async with client() as http:
        company = await signup(http)
        approver_id, approver = await company.user("rep")
        rep_id, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        flow = await create_flow(http, company.admin, [users(approver_id)])
        waiting = await submit(
            rep_id, await insert_contract(company.id, customer["id"], rep_id), customer["id"]
        )
        assert waiting is not None
        deleted = await http.delete(f"/v1/approval-flows/{flow['id']}", headers=company.admin)
        assert deleted.status_code == 204
        assert (
            await http.get(f"/v1/approval-flows/{flow['id']}", headers=company.admin)
        ).status_code == 404
        assert (await http.get("/v1/approval-flows", headers=company.admin)).json()["items"] == []
        later = await insert_contract(company.id, customer["id"], rep_id)
        assert await submit(rep_id, later, customer["id"]) is None  # no flow: no approval
        # The pending approval goes on.
        approved = await http.post(f"/v1/approvals/{waiting.id}/approve", json={}, headers=approver)
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
