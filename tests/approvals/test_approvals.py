"""The approval engine: approver resolution at submission (manager chain, role, users), skipped
steps, any/all, approve / reject / withdraw, the locked record, concurrent decisions, lists,
visibility, notifications, webhooks and the customer's timeline."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from app.approvals.timeline import approval_steps
from app.config import get_settings
from app.core.errors import ProblemError
from app.db import session_factory
from tests.approvals.approval_helpers import (
    admins,
    contract_status,
    create_flow,
    insert_contract,
    manager,
    principal_of,
    rows,
    scalar,
    submit,
    users,
)
from tests.customers.helpers import create_customer
from tests.helpers import Company, client, signup
from tests.notifications.webhook_helpers import create_webhook

pytestmark = pytest.mark.usefixtures("own_outcomes")


@dataclass
class Org:
    """Root (the admin) → Sales (a manager) → East (a manager) → Team (no manager, a rep)."""

    company: Company
    sales: str
    east: str
    team: str
    m_sales_id: str
    m_sales: dict[str, str]
    m_east_id: str
    m_east: dict[str, str]
    rep_id: str
    rep: dict[str, str]
    customer: dict[str, Any]


async def org(http: httpx.AsyncClient) -> Org:
    company = await signup(http)
    sales = await company.department("Sales")
    east = await company.department("East", sales)
    team = await company.department("Team", east)
    m_sales_id, m_sales = await company.user("manager", sales, name="销售总监")
    m_east_id, m_east = await company.user("manager", east, name="华东经理")
    rep_id, rep = await company.user("rep", team, name="小王")
    customer = await create_customer(http, rep, "Acme")
    return Org(
        company, sales, east, team, m_sales_id, m_sales, m_east_id, m_east, rep_id, rep, customer
    )


async def contract(o: Org, owner_id: str | None = None) -> str:
    return await insert_contract(o.company.id, o.customer["id"], owner_id or o.rep_id)


async def get(http: httpx.AsyncClient, approval_id: object, headers: dict[str, str]) -> Any:
    response = await http.get(f"/v1/approvals/{approval_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def decide(
    http: httpx.AsyncClient, approval_id: object, verb: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await http.post(f"/v1/approvals/{approval_id}/{verb}", json=body, headers=headers)


def approver_ids(approval: dict[str, Any], step: int) -> list[str]:
    return [a["user_id"] for a in approval["steps"][step]["approvers"]]


def history(approval: dict[str, Any]) -> list[tuple[str, int | None, str | None]]:
    return [(a["action"], a["step"], a["reason"]) for a in approval["actions"]]


async def notices(user_id: str, kind: str) -> list[Any]:
    return await rows(
        "SELECT data AS params, subject_id FROM notifications WHERE user_id = :u AND kind = :k"
        " ORDER BY created_at",
        u=uuid.UUID(user_id),
        k=kind,
    )


async def test_manager_chain_levels_one_and_two_then_approved():
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1), manager(2), manager(3)])
        record = await contract(o)
        approval = await submit(o.rep_id, record, o.customer["id"])
        assert approval is not None and approval.status == "pending"
        got = await get(http, approval.id, o.rep)
        # Team has no manager: level 1 is East's, level 2 Sales', level 3 nobody (skipped).
        assert approver_ids(got, 0) == [o.m_east_id]
        assert approver_ids(got, 1) == [o.m_sales_id]
        assert got["steps"][2]["skipped"] is True
        assert got["steps"][2]["skip_reason"] == "no_approver"
        assert got["current_step"] == 0
        assert got["amount"] == "12800.00"
        assert got["can_decide"] is False
        assert history(got) == [("submit", None, None), ("skip", 2, "no_approver")]
        assert len(await notices(o.m_east_id, "approval_requested")) == 1
        assert await notices(o.m_sales_id, "approval_requested") == []
        # Level 2 cannot decide step 0.
        early = await decide(http, approval.id, "approve", o.m_sales)
        assert early.status_code == 403
        first = await decide(http, approval.id, "approve", o.m_east, comment="同意")
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "pending"
        assert first.json()["current_step"] == 1
        assert first.json()["steps"][0]["approvers"][0]["decision"] == "approved"
        assert await contract_status(record) == "pending_approval"
        requested = await notices(o.m_sales_id, "approval_requested")
        assert len(requested) == 1 and requested[0].subject_id == approval.id
        decided = await notices(o.rep_id, "approval_decided")
        assert [n.params["decision"] for n in decided] == ["approved"]
        assert (await get(http, approval.id, o.m_sales))["can_decide"] is True
        last = await decide(http, approval.id, "approve", o.m_sales)
        assert last.status_code == 200, last.text
        done = last.json()
        assert done["status"] == "approved"
        assert done["current_step"] is None
        assert done["decided_at"] is not None
        assert history(done) == [
            ("submit", None, None),
            ("skip", 2, "no_approver"),
            ("approve", 0, "同意"),
            ("approve", 1, None),
        ]
        assert await contract_status(record) == "active"
        assert len(await notices(o.rep_id, "approval_decided")) == 2
        again = await decide(http, approval.id, "approve", o.m_sales)
        assert again.status_code == 409
        assert again.json()["code"] == "approval_not_pending"


async def test_a_manager_submitter_starts_one_department_higher():
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1), manager(2)])
        own = await create_customer(http, o.m_east, "East's own")
        record = await insert_contract(o.company.id, own["id"], o.m_east_id)
        approval = await submit(o.m_east_id, record, own["id"])
        assert approval is not None
        got = await get(http, approval.id, o.m_east)
        assert approver_ids(got, 0) == [o.m_sales_id]
        assert got["steps"][1]["skip_reason"] == "no_approver"  # nobody above Sales
        # A rep of East itself: level 1 is East's manager.
        east_rep_id, east_rep = await o.company.user("rep", o.east)
        theirs = await create_customer(http, east_rep, "Rep's")
        second = await submit(
            east_rep_id,
            await insert_contract(o.company.id, theirs["id"], east_rep_id),
            theirs["id"],
        )
        assert second is not None
        got = await get(http, second.id, east_rep)
        assert approver_ids(got, 0) == [o.m_east_id]
        assert approver_ids(got, 1) == [o.m_sales_id]


async def test_every_active_manager_of_the_level_and_inactive_ones_left_out():
    async with client() as http:
        o = await org(http)
        second_id, second = await o.company.user("manager", o.east)
        gone_id, _ = await o.company.user("manager", o.east)
        assert (
            await http.post(f"/v1/users/{gone_id}/deactivate", headers=o.company.admin)
        ).status_code == 200
        await create_flow(http, o.company.admin, [manager(1)])
        approval = await submit(o.rep_id, await contract(o), o.customer["id"])
        assert approval is not None
        got = await get(http, approval.id, o.rep)
        assert approver_ids(got, 0) == [o.m_east_id, second_id]
        # `any`: either decides the step.
        response = await decide(http, approval.id, "approve", second)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "approved"


async def test_role_admin_and_the_submitting_admin_skips_it():
    async with client() as http:
        o = await org(http)
        admin2_id, admin2 = await o.company.user("admin")
        admin3_id, _ = await o.company.user("admin")
        assert (
            await http.post(f"/v1/users/{admin3_id}/deactivate", headers=o.company.admin)
        ).status_code == 200
        await create_flow(http, o.company.admin, [admins(mode="all")])
        record = await contract(o)
        approval = await submit(o.rep_id, record, o.customer["id"])
        assert approval is not None
        got = await get(http, approval.id, o.rep)
        assert approver_ids(got, 0) == [o.company.admin_id, admin2_id]
        # An admin submits: the admin step is theirs to decide, so it is skipped — and with
        # every step skipped the record is approved at once.
        own = await insert_contract(o.company.id, o.customer["id"], o.rep_id)
        at_once = await submit(admin2_id, own, o.customer["id"])
        assert at_once is not None
        assert at_once.status == "approved"
        assert await contract_status(own) == "active"
        got = await get(http, at_once.id, admin2)
        assert got["steps"][0]["skip_reason"] == "self_approval"
        assert approver_ids(got, 0) == [o.company.admin_id, admin2_id]
        assert history(got) == [("submit", None, None), ("skip", 0, "self_approval")]
        assert got["decided_at"] is not None


async def test_named_users_all_mode():
    async with client() as http:
        o = await org(http)
        u1_id, u1 = await o.company.user("rep")
        u2_id, u2 = await o.company.user("rep")
        u3_id, _ = await o.company.user("rep")
        await create_flow(http, o.company.admin, [users(u1_id, u2_id, u3_id, mode="all")])
        assert (
            await http.post(f"/v1/users/{u3_id}/deactivate", headers=o.company.admin)
        ).status_code == 200
        record = await contract(o)
        approval = await submit(o.rep_id, record, o.customer["id"])
        assert approval is not None
        assert approver_ids(await get(http, approval.id, o.rep), 0) == [u1_id, u2_id]
        first = await decide(http, approval.id, "approve", u1)
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "pending"
        assert first.json()["current_step"] == 0
        assert first.json()["can_decide"] is False
        twice = await decide(http, approval.id, "approve", u1)
        assert twice.status_code == 409
        assert twice.json()["code"] == "approval_already_decided"
        assert await notices(o.rep_id, "approval_decided") == []  # the step is not decided yet
        second = await decide(http, approval.id, "approve", u2)
        assert second.status_code == 200, second.text
        assert second.json()["status"] == "approved"
        assert await contract_status(record) == "active"


async def test_everything_skipped_is_approved_at_once():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")  # in the root department: no manager anywhere
        customer = await create_customer(http, rep, "Acme")
        await create_flow(http, company.admin, [manager(1), users(rep_id)])
        record = await insert_contract(company.id, customer["id"], rep_id)
        approval = await submit(rep_id, record, customer["id"])
        assert approval is not None and approval.status == "approved"
        assert await contract_status(record) == "active"
        got = await get(http, approval.id, rep)
        assert [s["skip_reason"] for s in got["steps"]] == ["no_approver", "self_approval"]
        assert history(got) == [
            ("submit", None, None),
            ("skip", 0, "no_approver"),
            ("skip", 1, "self_approval"),
        ]
        # Nothing pending: the record may be submitted again (a new approval).
        assert await submit(rep_id, record, customer["id"]) is not None


async def test_no_active_flow_means_no_approval():
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1)], active=False)
        assert await submit(o.rep_id, await contract(o), o.customer["id"]) is None


async def test_reject_returns_the_record_to_draft():
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1), manager(2)])
        record = await contract(o)
        approval = await submit(o.rep_id, record, o.customer["id"])
        assert approval is not None
        no_reason = await decide(http, approval.id, "reject", o.m_east)
        assert no_reason.status_code == 422
        blank = await decide(http, approval.id, "reject", o.m_east, reason="  ")
        assert blank.status_code == 422
        submitter = await decide(http, approval.id, "reject", o.rep, reason="x")
        assert submitter.status_code == 403
        rejected = await decide(http, approval.id, "reject", o.m_east, reason="折扣太大")
        assert rejected.status_code == 200, rejected.text
        body = rejected.json()
        assert body["status"] == "rejected"
        assert body["reason"] == "折扣太大"
        assert body["current_step"] is None
        assert history(body)[-1] == ("reject", 0, "折扣太大")
        assert await contract_status(record) == "draft"
        decided = await notices(o.rep_id, "approval_decided")
        assert [n.params["decision"] for n in decided] == ["rejected"]
        later = await decide(http, approval.id, "approve", o.m_east)
        assert later.status_code == 409
        assert later.json()["code"] == "approval_not_pending"
        # The record may be submitted again.
        assert await submit(o.rep_id, record, o.customer["id"]) is not None


async def test_withdraw_by_the_submitter_only_while_pending():
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1)])
        record = await contract(o)
        approval = await submit(o.rep_id, record, o.customer["id"])
        assert approval is not None
        by_approver = await decide(http, approval.id, "withdraw", o.m_east)
        assert by_approver.status_code == 403
        by_admin = await decide(http, approval.id, "withdraw", o.company.admin)
        assert by_admin.status_code == 403
        withdrawn = await decide(http, approval.id, "withdraw", o.rep)
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["status"] == "withdrawn"
        assert history(withdrawn.json())[-1] == ("withdraw", 0, None)
        assert await contract_status(record) == "draft"
        told = await notices(o.m_east_id, "approval_decided")
        assert [n.params["decision"] for n in told] == ["withdrawn"]
        again = await decide(http, approval.id, "withdraw", o.rep)
        assert again.status_code == 409
        assert again.json()["code"] == "approval_not_pending"
        approve = await decide(http, approval.id, "approve", o.m_east)
        assert approve.status_code == 409


async def test_a_record_waits_in_one_approval_at_a_time():
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1)])
        record = await contract(o)
        first = await submit(o.rep_id, record, o.customer["id"])
        assert first is not None
        with pytest.raises(ProblemError) as locked:
            await submit(o.rep_id, record, o.customer["id"])
        assert locked.value.status == 409
        assert locked.value.code == "record_locked_for_approval"
        assert locked.value.extra["approval_id"] == str(first.id)
        assert (await decide(http, first.id, "withdraw", o.rep)).status_code == 200
        assert await submit(o.rep_id, record, o.customer["id"]) is not None


async def _race(approval_id: object, requests: list[Any]) -> list[httpx.Response]:
    """Run the decisions while another connection holds the approval's row: each request
    reads it, records its approver's decision and waits at the approval's conditional UPDATE;
    then the row is let go."""
    async with session_factory()() as holder:
        await holder.execute(
            text("SELECT id FROM approvals WHERE id = :a FOR UPDATE"), {"a": approval_id}
        )
        tasks = [asyncio.ensure_future(request) for request in requests]
        waiting = 0
        for _ in range(250):
            waiting = await scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND query LIKE 'UPDATE approvals %'"
            )
            if waiting == len(tasks):
                break
            await asyncio.sleep(0.02)
        assert waiting == len(tasks)
        await holder.rollback()
    return list(await asyncio.gather(*tasks))


async def test_concurrent_approve_and_reject_exactly_one_wins():
    async with client() as http:
        o = await org(http)
        u1_id, u1 = await o.company.user("rep")
        u2_id, u2 = await o.company.user("rep")
        await create_flow(http, o.company.admin, [users(u1_id, u2_id)])
        record = await contract(o)
        approval = await submit(o.rep_id, record, o.customer["id"])
        assert approval is not None
        approve, reject = await _race(
            approval.id,
            [
                decide(http, approval.id, "approve", u1),
                decide(http, approval.id, "reject", u2, reason="不行"),
            ],
        )
        statuses = sorted([approve.status_code, reject.status_code])
        assert statuses == [200, 409], [approve.text, reject.text]
        loser = approve if approve.status_code == 409 else reject
        assert loser.json()["code"] == "approval_changed"
        final = await get(http, approval.id, o.rep)
        expected = "approved" if approve.status_code == 200 else "rejected"
        assert final["status"] == expected
        assert await contract_status(record) == ("active" if expected == "approved" else "draft")
        decisions = [a["decision"] for a in final["steps"][0]["approvers"]]
        assert sorted(decisions, key=str) == sorted([expected, None], key=str)
        assert [a["action"] for a in final["actions"]] == [
            "submit",
            "approve" if expected == "approved" else "reject",
        ]


async def test_concurrent_approvals_of_an_all_step_both_count():
    async with client() as http:
        o = await org(http)
        u1_id, u1 = await o.company.user("rep")
        u2_id, u2 = await o.company.user("rep")
        await create_flow(http, o.company.admin, [users(u1_id, u2_id, mode="all")])
        record = await contract(o)
        approval = await submit(o.rep_id, record, o.customer["id"])
        assert approval is not None
        results = await _race(
            approval.id,
            [decide(http, approval.id, "approve", u1), decide(http, approval.id, "approve", u2)],
        )
        assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
        final = await get(http, approval.id, o.rep)
        assert final["status"] == "approved"
        assert await contract_status(record) == "active"


async def test_lists_for_approvers_and_submitters():
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1), manager(2)])
        decided = await submit(o.rep_id, await contract(o), o.customer["id"])
        assert decided is not None
        assert (await decide(http, decided.id, "approve", o.m_east)).status_code == 200
        waiting = await submit(o.rep_id, await contract(o), o.customer["id"])
        assert waiting is not None
        other_rep_id, other_rep = await o.company.user("rep", o.sales)  # Sales: not East
        theirs = await create_customer(http, other_rep, "Other")
        elsewhere = await submit(
            other_rep_id,
            await insert_contract(o.company.id, theirs["id"], other_rep_id),
            theirs["id"],
        )
        assert elsewhere is not None

        async def ids(headers: dict[str, str], query: str) -> list[str]:
            response = await http.get(f"/v1/approvals?{query}", headers=headers)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        # East's manager: pending at their step, and the one they decided (newest first).
        assert await ids(o.m_east, "role=approver") == [str(waiting.id), str(decided.id)]
        # `decided` is still pending (at Sales): East decided a step of it, so it is listed;
        # `can_decide` tells what waits for the caller.
        pending = await http.get("/v1/approvals?role=approver&status=pending", headers=o.m_east)
        assert [(i["id"], i["can_decide"]) for i in pending.json()["items"]] == [
            (str(waiting.id), True),
            (str(decided.id), False),
        ]
        assert await ids(o.m_east, "role=approver&status=approved") == []
        # Sales' manager: step 1 of `decided` (now current), `elsewhere` (step 0); not
        # `waiting`, whose current step is East's.
        assert await ids(o.m_sales, "role=approver") == [str(elsewhere.id), str(decided.id)]
        assert await ids(o.rep, "role=submitter") == [str(waiting.id), str(decided.id)]
        assert await ids(o.rep, "role=approver") == []
        assert await ids(o.rep, "role=submitter&status=rejected") == []
        page = await http.get("/v1/approvals?role=submitter&limit=1", headers=o.rep)
        assert [i["id"] for i in page.json()["items"]] == [str(waiting.id)]
        cursor = page.json()["next_cursor"]
        assert cursor
        rest = await http.get(
            f"/v1/approvals?role=submitter&limit=1&cursor={cursor}", headers=o.rep
        )
        assert [i["id"] for i in rest.json()["items"]] == [str(decided.id)]
        assert rest.json()["next_cursor"] is None
        # A record's history: every approval of it the caller may see.
        record_id = str(waiting.record_id)
        assert await ids(o.company.admin, f"record_type=contract&record_id={record_id}") == [
            str(waiting.id)
        ]
        listed = (await http.get("/v1/approvals?role=approver", headers=o.m_sales)).json()
        assert [i["can_decide"] for i in listed["items"]] == [True, True]
        assert listed["items"][0]["actions"] is None
        bad = await http.get("/v1/approvals?role=boss", headers=o.rep)
        assert bad.status_code == 422


async def test_visibility_and_other_companies():
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1)])
        approval = await submit(o.rep_id, await contract(o), o.customer["id"])
        assert approval is not None
        # Sales' manager is no approver but sees the customer (the owner is in their subtree).
        assert (await get(http, approval.id, o.m_sales))["id"] == str(approval.id)
        refused = await decide(http, approval.id, "approve", o.m_sales)
        assert refused.status_code == 403
        # A rep elsewhere neither approves nor sees it: 404 on every route.
        _, stranger = await o.company.user("rep", o.sales)
        assert (await http.get(f"/v1/approvals/{approval.id}", headers=stranger)).status_code == 404
        for verb, body in (("approve", {}), ("reject", {"reason": "x"}), ("withdraw", {})):
            response = await decide(http, approval.id, verb, stranger, **body)
            assert response.status_code == 404, (verb, response.text)
        assert (await http.get("/v1/approvals", headers=stranger)).json()["items"] == []
        # The company's admin sees everything; another company nothing.
        assert (await get(http, approval.id, o.company.admin))["status"] == "pending"
        other = await signup(http, "Other")
        for headers in (other.admin,):
            response = await http.get(f"/v1/approvals/{approval.id}", headers=headers)
            assert response.status_code == 404
            response = await decide(http, approval.id, "approve", headers)
            assert response.status_code == 404
            assert (await http.get("/v1/approvals", headers=headers)).json()["items"] == []
        missing = await http.get(f"/v1/approvals/{uuid.uuid4()}", headers=o.rep)
        assert missing.status_code == 404


@pytest.fixture
def local_webhooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS", "true")
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.usefixtures("local_webhooks")
async def test_the_webhook_and_the_customer_timeline():
    async with client() as http:
        o = await org(http)
        webhook = await create_webhook(
            http, o.company, "http://127.0.0.1:9/hook", event_types=["approval.decided"]
        )
        await create_flow(http, o.company.admin, [manager(1)])
        approval = await submit(o.rep_id, await contract(o), o.customer["id"])
        assert approval is not None
        assert (
            await decide(http, approval.id, "reject", o.m_east, reason="价格")
        ).status_code == 200
        deliveries = await rows(
            "SELECT event_type, payload FROM webhook_deliveries WHERE webhook_id = :w",
            w=uuid.UUID(webhook["id"]),
        )
        assert [d.event_type for d in deliveries] == ["approval.decided"]
        payload = deliveries[0].payload
        payload = json.loads(payload) if isinstance(payload, str) else payload
        data = payload.get("data", payload)
        assert data["approval_id"] == str(approval.id)
        assert data["status"] == "rejected"
        assert data["reason"] == "价格"
        # The approval's steps as rows of the customer's timeline.
        principal = await principal_of(o.rep_id)
        async with session_factory()() as session:
            source = approval_steps(uuid.UUID(o.customer["id"]), principal).subquery()
            found = (await session.execute(select(source).order_by(source.c[1]))).all()
        assert [(row[2], row[6]) for row in found] == [
            ("approval.submit", "HT-2027-000001 Test contract"),
            ("approval.reject", "HT-2027-000001 Test contract: 价格"),
        ]
        assert found[1][3] == uuid.UUID(o.m_east_id)
        assert str(found[0][7]) == "12800.00"


async def _real_contract_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.composition import APPROVAL_OUTCOMES
    from app.money.contracts import service as contracts

    monkeypatch.setitem(APPROVAL_OUTCOMES, "contract", contracts.approval_outcome)


async def _submitted_contract(http: httpx.AsyncClient, o: Org, discount: str) -> dict[str, Any]:
    """A contract made and submitted over the contracts API (10,000.00 less `discount`)."""
    response = await http.post(
        "/v1/contracts",
        json={
            "customer_id": o.customer["id"],
            "title": "年度服务",
            "lines": [
                {
                    "description": "服务",
                    "quantity": "2",
                    "unit_price": "5000.00",
                    "discount": discount,
                }
            ],
        },
        headers=o.rep,
    )
    assert response.status_code == 201, response.text
    submitted = await http.post(f"/v1/contracts/{response.json()['id']}/submit", headers=o.rep)
    assert submitted.status_code == 200, submitted.text
    body: dict[str, Any] = submitted.json()
    return body


async def test_contract_submit_end_to_end(monkeypatch: pytest.MonkeyPatch):
    """With the contracts package's own outcome: submit → the manager approves → active; a
    rejection sends it back to draft; while waiting it is locked."""
    await _real_contract_outcome(monkeypatch)
    async with client() as http:
        o = await org(http)
        await create_flow(http, o.company.admin, [manager(1)])
        first = await _submitted_contract(http, o, "0")
        assert first["status"] == "pending_approval"
        approval = await get(http, first["approval_id"], o.rep)
        assert approval["kind"] == "contract"
        assert approval["amount"] == "10000.00"
        assert approver_ids(approval, 0) == [o.m_east_id]
        locked = await http.patch(
            f"/v1/contracts/{first['id']}",
            json={"title": "改"},
            headers=o.rep | {"If-Match": f'"{first["version"]}"'},
        )
        assert locked.status_code == 409
        assert locked.json()["code"] == "record_locked_for_approval"
        done = await decide(http, approval["id"], "approve", o.m_east)
        assert done.status_code == 200, done.text
        active = (await http.get(f"/v1/contracts/{first['id']}", headers=o.rep)).json()
        assert active["status"] == "active"

        second = await _submitted_contract(http, o, "0")
        rejected = await decide(http, second["approval_id"], "reject", o.m_east, reason="再谈")
        assert rejected.status_code == 200, rejected.text
        draft = (await http.get(f"/v1/contracts/{second['id']}", headers=o.rep)).json()
        assert draft["status"] == "draft"


async def test_contract_discount_then_contract_approval(monkeypatch: pytest.MonkeyPatch):
    await _real_contract_outcome(monkeypatch)
    async with client() as http:
        o = await org(http)
        pricing_id, pricing = await o.company.user("rep", name="价格专员")
        await create_flow(
            http, o.company.admin, [users(pricing_id)], kind="discount", threshold="0.1"
        )
        await create_flow(http, o.company.admin, [manager(1)])
        first = await _submitted_contract(http, o, "0.2")
        assert first["status"] == "pending_approval"
        discount = await get(http, first["approval_id"], o.rep)
        assert discount["kind"] == "discount"
        assert approver_ids(discount, 0) == [pricing_id]
        assert discount["amount"] == "8000.00"
        approved = await decide(http, discount["id"], "approve", pricing)
        assert approved.status_code == 200, approved.text
        waiting = (await http.get(f"/v1/contracts/{first['id']}", headers=o.rep)).json()
        assert waiting["status"] == "pending_approval"
        follow_up = await get(http, waiting["approval_id"], o.rep)
        assert follow_up["kind"] == "contract"
        assert follow_up["submitter_id"] == o.rep_id
        assert approver_ids(follow_up, 0) == [o.m_east_id]
        done = await decide(http, follow_up["id"], "approve", o.m_east)
        assert done.status_code == 200, done.text
        active = (await http.get(f"/v1/contracts/{first['id']}", headers=o.rep)).json()
        assert active["status"] == "active"
