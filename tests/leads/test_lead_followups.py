"""Follow-ups on a lead: exactly one target, owner or their manager, the lead's clock,
listing by lead, visibility."""

import uuid
from datetime import timedelta

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.leads.pool_helpers import make_lead, make_pool


async def test_follow_up_on_a_lead_moves_its_clock_and_status():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        await make_pool(http, company.admin)
        lead = await make_lead(http, rep, "张三")
        clock.advance(timedelta(hours=3))
        rep = await company.relogin(rep_id)
        body = {"lead_id": lead["id"], "kind": "call", "text": "初次电话"}
        created = await http.post("/v1/followups", json=body, headers=rep)
        assert created.status_code == 201, created.text
        followup = created.json()
        assert followup["lead_id"] == lead["id"] and followup["customer_id"] is None
        after = (await http.get(f"/v1/leads/{lead['id']}", headers=rep)).json()
        assert after["status"] == "contacted" and after["followup_count"] == 1
        assert after["first_followup_at"] == after["last_followup_at"] is not None
        assert after["version"] == 2
        clock.advance(timedelta(hours=1))
        rep = await company.relogin(rep_id)
        await http.post("/v1/followups", json=body | {"text": "第二次"}, headers=rep)
        again = (await http.get(f"/v1/leads/{lead['id']}", headers=rep)).json()
        assert again["followup_count"] == 2 and again["status"] == "contacted"
        assert again["first_followup_at"] == after["first_followup_at"]
        assert again["last_followup_at"] > after["last_followup_at"]
        listed = (await http.get(f"/v1/followups?lead_id={lead['id']}", headers=rep)).json()
        assert [f["text"] for f in listed["items"]] == ["第二次", "初次电话"]
        # Edits of a lead follow-up leave customers alone (customer_id is null).
        edit = await http.patch(
            f"/v1/followups/{followup['id']}",
            json={"next_followup_at": (clock.now() + timedelta(days=1)).isoformat()},
            headers=rep | {"If-Match": '"1"'},
        )
        assert edit.status_code == 200, edit.text


async def test_exactly_one_target_and_who_may_follow_up():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        other = await company.department("Other")
        _, rep = await company.user("rep", team)
        _, colleague = await company.user("rep", team)
        _, manager = await company.user("manager", team)
        _, sibling_manager = await company.user("manager", other)
        await make_pool(http, company.admin, members=[{"department_id": team}])
        lead = await make_lead(http, rep, "张三")
        customer = await create_customer(http, rep, "Acme")
        both = {"lead_id": lead["id"], "customer_id": customer["id"], "kind": "call", "text": "x"}
        assert (await http.post("/v1/followups", json=both, headers=rep)).status_code == 422
        neither = {"kind": "call", "text": "x"}
        assert (await http.post("/v1/followups", json=neither, headers=rep)).status_code == 422
        body = {"lead_id": lead["id"], "kind": "visit", "text": "上门"}
        assert (await http.post("/v1/followups", json=body, headers=colleague)).status_code == 404
        assert (
            await http.post("/v1/followups", json=body, headers=sibling_manager)
        ).status_code == 404
        by_manager = await http.post("/v1/followups", json=body, headers=manager)
        assert by_manager.status_code == 201
        by_admin = await http.post("/v1/followups", json=body, headers=company.admin)
        assert by_admin.status_code == 201
        ghost = {"lead_id": str(uuid.uuid4()), "kind": "call", "text": "x"}
        assert (await http.post("/v1/followups", json=ghost, headers=rep)).status_code == 404
        # A lead in its pool: claim it first.
        pooled = await make_lead(http, rep, "李四", in_pool=True)
        refused = await http.post(
            "/v1/followups", json=body | {"lead_id": pooled["id"]}, headers=colleague
        )
        assert refused.status_code == 409 and refused.json()["code"] == "lead_not_owned"
        # Visibility: the owner sees the manager's follow-up; the colleague and the sibling
        # manager do not; another company does not.
        fid = by_manager.json()["id"]
        assert (await http.get(f"/v1/followups/{fid}", headers=rep)).status_code == 200
        assert (await http.get(f"/v1/followups/{fid}", headers=colleague)).status_code == 404
        assert (await http.get(f"/v1/followups/{fid}", headers=sibling_manager)).status_code == 404
        stranger = await signup(http, "Other")
        assert (await http.get(f"/v1/followups/{fid}", headers=stranger.admin)).status_code == 404
        mine = (await http.get(f"/v1/followups?lead_id={lead['id']}", headers=rep)).json()
        assert len(mine["items"]) == 2
        # The feed has no item for lead follow-ups (and does not break on them).
        feed = await http.get("/v1/feed", headers=manager)
        assert feed.status_code == 200
