"""Lead pools: admin writes, member reads, members replaced, soft delete; claiming."""

import asyncio
import uuid
from datetime import timedelta

from app.core import clock
from tests.helpers import client, signup
from tests.leads.pool_helpers import claim, make_lead, make_pool


async def test_admin_creates_reads_patches_and_deletes_a_pool():
    async with client() as http:
        company = await signup(http)
        sales = await company.department("销售部")
        rep_id, rep = await company.user("rep", sales)
        pool_id = str(uuid.uuid4())
        body = {
            "id": pool_id,
            "name": "北京区线索池",
            "region": "北京",
            "members": [{"department_id": sales}],
            "mode": "pull",
            "assignment": "manual",
            "daily_claim_limit": 5,
            "holding_cap": 10,
            "recycle_after_days": 7,
        }
        created = await http.post("/v1/lead-pools", json=body, headers=company.admin)
        assert created.status_code == 201, created.text
        pool = created.json()
        assert pool["members"] == [{"department_id": sales, "user_id": None}]
        again = await http.post("/v1/lead-pools", json=body, headers=company.admin)
        assert again.status_code == 200 and again.json()["id"] == pool_id
        other = await http.post("/v1/lead-pools", json=body | {"name": "x"}, headers=company.admin)
        assert other.status_code == 409 and other.json()["code"] == "id_conflict"
        taken = await http.post(
            "/v1/lead-pools", json={"name": "北京区线索池"}, headers=company.admin
        )
        assert taken.status_code == 409 and taken.json()["code"] == "lead_pool_name_taken"
        by_rep = await http.post("/v1/lead-pools", json={"name": "y"}, headers=rep)
        assert by_rep.status_code == 403
        # A rep of the member department reads it.
        assert (await http.get(f"/v1/lead-pools/{pool_id}", headers=rep)).status_code == 200
        listed = (await http.get("/v1/lead-pools", headers=rep)).json()["items"]
        assert [p["id"] for p in listed] == [pool_id]
        # PATCH needs If-Match and replaces the members.
        patch = {"members": [{"user_id": rep_id}], "mode": "both"}
        url = f"/v1/lead-pools/{pool_id}"
        assert (await http.patch(url, json=patch, headers=company.admin)).status_code == 428
        stale = await http.patch(url, json=patch, headers=company.admin | {"If-Match": '"9"'})
        assert stale.status_code == 412
        changed = await http.patch(url, json=patch, headers=company.admin | {"If-Match": '"1"'})
        assert changed.status_code == 200, changed.text
        assert changed.json()["members"] == [{"department_id": None, "user_id": rep_id}]
        assert changed.json()["mode"] == "both" and changed.json()["version"] == 2
        bad = await http.patch(
            url,
            json={"members": [{"user_id": str(uuid.uuid4())}]},
            headers=company.admin | {"If-Match": '"2"'},
        )
        assert bad.status_code == 422 and bad.json()["code"] == "unknown_user"
        both = await http.post(
            "/v1/lead-pools",
            json={"name": "z", "members": [{"user_id": rep_id, "department_id": sales}]},
            headers=company.admin,
        )
        assert both.status_code == 422
        # It holds a lead: 409; after the lead is deleted it goes.
        lead = await make_lead(http, rep, pool_id=pool_id)
        refused = await http.delete(url, headers=company.admin)
        assert refused.status_code == 409 and refused.json()["code"] == "lead_pool_not_empty"
        assert (await http.delete(f"/v1/leads/{lead['id']}", headers=rep)).status_code == 204
        assert (await http.delete(url, headers=company.admin)).status_code == 204
        assert (await http.get(url, headers=company.admin)).status_code == 404


async def test_pool_visibility_member_non_member_manager_sibling_and_other_company():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        east_team = await company.department("East team", east)
        west = await company.department("West")
        _, member = await company.user("rep", east_team)
        _, outsider = await company.user("rep", west)
        _, east_manager = await company.user("manager", east)
        _, west_manager = await company.user("manager", west)
        pool = await make_pool(http, company.admin, members=[{"department_id": east_team}])
        url = f"/v1/lead-pools/{pool['id']}"
        assert (await http.get(url, headers=member)).status_code == 200
        assert (await http.get(url, headers=east_manager)).status_code == 200
        assert (await http.get(url, headers=outsider)).status_code == 404
        assert (await http.get(url, headers=west_manager)).status_code == 404
        stranger = await signup(http, "Other")
        assert (await http.get(url, headers=stranger.admin)).status_code == 404
        # Pool leads follow the pool.
        lead = await make_lead(http, company.admin, pool_id=pool["id"], in_pool=True)
        lead_url = f"/v1/leads/{lead['id']}"
        assert (await http.get(lead_url, headers=member)).status_code == 200
        assert (await http.get(lead_url, headers=east_manager)).status_code == 200
        assert (await http.get(lead_url, headers=outsider)).status_code == 404
        assert (await http.get(lead_url, headers=west_manager)).status_code == 404
        assert (await http.get(lead_url, headers=stranger.admin)).status_code == 404


async def test_claim_modes_membership_daily_limit_and_cap():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        _, outsider = await company.user("rep", await company.department("Other"))
        pool = await make_pool(
            http,
            company.admin,
            members=[{"user_id": rep_id}],
            mode="pull",
            daily_claim_limit=2,
            holding_cap=3,
        )
        leads = [
            await make_lead(
                http,
                company.admin,
                f"L{n}",
                pool_id=pool["id"],
                in_pool=True,
                phone=f"1380000000{n}",
            )
            for n in range(5)
        ]
        first = await claim(http, rep, pool["id"], leads[0]["id"])
        assert first.status_code == 200, first.text
        assert first.json()["owner_id"] == rep_id and first.json()["in_pool"] is False
        assert (await claim(http, rep, pool["id"], leads[1]["id"])).status_code == 200
        limited = await claim(http, rep, pool["id"], leads[2]["id"])
        assert limited.status_code == 409 and limited.json()["code"] == "lead_claim_limit_reached"
        # Not a member: 403 (the pool is invisible to them anyway: 404).
        assert (await claim(http, outsider, pool["id"], leads[2]["id"])).status_code == 404
        # Next company day: the limit resets; the cap (3) stops the fourth.
        clock.advance(timedelta(days=1))
        rep = await company.relogin(rep_id)
        assert (await claim(http, rep, pool["id"], leads[2]["id"])).status_code == 200
        capped = await claim(http, rep, pool["id"], leads[3]["id"])
        assert capped.status_code == 409 and capped.json()["code"] == "lead_cap_reached"
        # Already owned: 409 lead_not_in_pool (own lead) — and a push-only pool refuses claims.
        again = await claim(http, rep, pool["id"], leads[0]["id"])
        assert again.status_code == 409
        admin = await company.relogin_admin()
        etag = (await http.get(f"/v1/lead-pools/{pool['id']}", headers=admin)).headers["etag"]
        await http.patch(
            f"/v1/lead-pools/{pool['id']}",
            json={"mode": "push", "holding_cap": None},
            headers=admin | {"If-Match": etag},
        )
        pushed = await claim(http, rep, pool["id"], leads[4]["id"])
        assert pushed.status_code == 409 and pushed.json()["code"] == "lead_pool_mode"
        events = (await http.get(f"/v1/leads/{leads[0]['id']}/events", headers=rep)).json()
        assert [e["kind"] for e in events["items"]] == ["claimed", "created"]


async def test_a_manager_seeing_a_pool_through_the_subtree_is_not_a_member():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        _, manager = await company.user("manager")
        rep_id, _ = await company.user("rep", team)
        pool = await make_pool(http, company.admin, members=[{"department_id": team}])
        lead = await make_lead(http, company.admin, pool_id=pool["id"], in_pool=True)
        refused = await claim(http, manager, pool["id"], lead["id"])
        assert refused.status_code == 403 and refused.json()["code"] == "lead_pool_not_member"
        assert rep_id


async def test_two_concurrent_claims_one_wins():
    async with client() as http:
        company = await signup(http)
        a_id, a = await company.user("rep")
        b_id, b = await company.user("rep")
        pool = await make_pool(
            http, company.admin, members=[{"user_id": a_id}, {"user_id": b_id}], mode="pull"
        )
        lead = await make_lead(http, company.admin, pool_id=pool["id"], in_pool=True)
        results = await asyncio.gather(
            claim(http, a, pool["id"], lead["id"]), claim(http, b, pool["id"], lead["id"])
        )
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json()["code"] == "lead_not_in_pool"
        events = (await http.get(f"/v1/leads/{lead['id']}/events", headers=company.admin)).json()
        assert [e["kind"] for e in events["items"]].count("claimed") == 1
