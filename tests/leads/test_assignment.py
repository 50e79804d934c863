"""Automatic assignment: round robin continuing across calls, skipping inactive and capped
reps, spreading a batch evenly; least loaded; push (assign) vs pull."""

import uuid
from collections import Counter

from app.core.pagination import MAX_LIMIT
from app.db import session_factory
from app.leads.models import Lead, LeadPool
from app.leads.pools.assignment import assign_new_leads, distribute
from tests.helpers import client, signup
from tests.leads.pool_helpers import make_lead, make_pool


async def notifications(http, headers) -> list[dict]:
    response = await http.get(f"/v1/notifications?limit={MAX_LIMIT}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_distribute_rules():
    a, b, c = sorted(uuid.uuid4() for _ in range(3))
    members = [(a, 0), (b, 0), (c, 0)]
    assert Counter(distribute(members, 10, strategy="round_robin", cap=None, cursor=None)) == {
        a: 4,
        b: 3,
        c: 3,
    }
    # After the cursor; a capped member is skipped; nobody with room: fewer owners.
    assert distribute(members, 2, strategy="round_robin", cap=None, cursor=a) == [b, c]
    assert distribute([(a, 1), (b, 0)], 3, strategy="round_robin", cap=1, cursor=None) == [b]
    loaded = [(a, 5), (b, 1), (c, 0)]
    assert distribute(loaded, 3, strategy="least_loaded", cap=None, cursor=None) == [c, b, c]


async def test_round_robin_continues_across_calls_and_skips_inactive_and_capped():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        users = sorted([await company.user("rep", team) for _ in range(4)], key=lambda u: u[0])
        (a_id, a), (b_id, _), (c_id, _), (d_id, _) = users
        # d is deactivated; c holds the cap (2) already.
        pool = await make_pool(
            http,
            company.admin,
            members=[{"department_id": team}],
            assignment="round_robin",
            mode="both",
            holding_cap=2,
        )
        deactivated = await http.post(f"/v1/users/{d_id}/deactivate", headers=company.admin)
        assert deactivated.status_code == 200, deactivated.text
        c = await company.relogin(c_id)
        for n in range(2):
            await make_lead(http, c, f"C{n}", pool_id=pool["id"])  # c is at the cap
        owners = []
        for n in range(3):
            lead = await make_lead(http, company.admin, f"L{n}", pool_id=pool["id"], in_pool=True)
            owners.append(lead["owner_id"])
        # Starts at the first member, one by one, skipping c (capped) and d (inactive).
        assert owners == [a_id, b_id, a_id]
        # The next call continues after the cursor (a): b.
        lead = await make_lead(http, company.admin, "L3", pool_id=pool["id"], in_pool=True)
        assert lead["owner_id"] == b_id
        # Everyone holds 2 = the cap: the next lead stays in the pool.
        rest = await make_lead(http, company.admin, "L4", pool_id=pool["id"], in_pool=True)
        assert rest["owner_id"] is None and rest["in_pool"] is True
        # a got one lead per assignment: lead_assigned notifications.
        kinds = [n["kind"] for n in await notifications(http, a)]
        assert kinds.count("lead_assigned") == 2
        events = (await http.get(f"/v1/leads/{rest['id']}/events", headers=company.admin)).json()
        assert [e["kind"] for e in events["items"]] == ["created"]


async def test_bulk_assign_spreads_4_3_3_and_sends_one_notification_each():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        users = sorted([await company.user("rep", team) for _ in range(3)], key=lambda u: u[0])
        pool = await make_pool(
            http, company.admin, members=[{"department_id": team}], assignment="manual"
        )
        ids = [
            (await make_lead(http, company.admin, f"L{n}", pool_id=pool["id"], in_pool=True))["id"]
            for n in range(10)
        ]
        async with session_factory()() as session:
            row = await session.get_one(LeadPool, uuid.UUID(pool["id"]))
            row.assignment = "round_robin"
            given = await assign_new_leads(
                session, uuid.UUID(company.admin_id), row, [uuid.UUID(i) for i in ids]
            )
            await session.commit()
        counts = Counter(given.values())
        assert sorted(counts.values()) == [3, 3, 4]
        assert counts[uuid.UUID(users[0][0])] == 4
        for _, headers in users:
            kinds = [n["kind"] for n in await notifications(http, headers)]
            assert kinds == ["leads_assigned"]
        async with session_factory()() as session:
            cursor = (await session.get_one(LeadPool, uuid.UUID(pool["id"]))).rr_cursor
            owners = {
                lead.owner_id for lead in [await session.get_one(Lead, uuid.UUID(i)) for i in ids]
            }
        assert cursor == uuid.UUID(users[0][0])  # the tenth lead went to the first member
        assert owners == {uuid.UUID(u[0]) for u in users}
        # The pool is round robin now (committed above): the next lead created continues
        # after the cursor.
        lead = await make_lead(http, company.admin, "next", pool_id=pool["id"], in_pool=True)
        assert lead["owner_id"] == users[1][0]
        # Manual pools: nothing.
        async with session_factory()() as session:
            row = await session.get_one(LeadPool, uuid.UUID(pool["id"]))
            row.assignment = "manual"
            assert await assign_new_leads(session, None, row, [uuid.UUID(ids[0])]) == {}


async def test_least_loaded_gives_to_the_rep_with_fewest_open_leads():
    async with client() as http:
        company = await signup(http)
        a_id, a = await company.user("rep")
        b_id, _ = await company.user("rep")
        pool = await make_pool(
            http,
            company.admin,
            members=[{"user_id": a_id}, {"user_id": b_id}],
            assignment="least_loaded",
        )
        for n in range(2):
            await make_lead(http, a, f"A{n}", pool_id=pool["id"])  # a owns two
        owners = [
            (await make_lead(http, company.admin, f"L{n}", pool_id=pool["id"], in_pool=True))[
                "owner_id"
            ]
            for n in range(3)
        ]
        assert owners == [b_id, b_id, min(a_id, b_id)]


async def test_push_assign_by_admin_and_manager_modes_cap_and_override():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        west = await company.department("West")
        _, manager = await company.user("manager", east)
        rep_id, rep = await company.user("rep", east)
        west_id, _ = await company.user("rep", west)
        pool = await make_pool(http, company.admin, mode="push", holding_cap=1)
        lead = await make_lead(http, company.admin, "A", pool_id=pool["id"], in_pool=True)
        other = await make_lead(http, company.admin, "B", pool_id=pool["id"], in_pool=True)
        url = f"/v1/leads/{lead['id']}/assign"
        assert (await http.post(url, json={"user_id": rep_id}, headers=rep)).status_code == 403
        far = await http.post(url, json={"user_id": west_id}, headers=manager)
        assert far.status_code in (403, 404)
        # The manager cannot see an unowned lead of a pool nobody in their subtree is in.
        done = await http.post(url, json={"user_id": rep_id}, headers=company.admin)
        assert done.status_code == 200, done.text
        assert done.json()["owner_id"] == rep_id
        capped = await http.post(
            f"/v1/leads/{other['id']}/assign", json={"user_id": rep_id}, headers=company.admin
        )
        assert capped.status_code == 409 and capped.json()["code"] == "lead_cap_reached"
        override = await http.post(
            f"/v1/leads/{other['id']}/assign",
            json={"user_id": rep_id, "override_cap": True},
            headers=company.admin,
        )
        assert override.status_code == 200
        kinds = [n["kind"] for n in await notifications(http, rep)]
        assert kinds.count("lead_assigned") == 2
        # A pull-only pool refuses pushes.
        pull = await make_pool(http, company.admin, "pull", mode="pull")
        pulled = await make_lead(http, company.admin, "C", pool_id=pull["id"], in_pool=True)
        refused = await http.post(
            f"/v1/leads/{pulled['id']}/assign", json={"user_id": rep_id}, headers=company.admin
        )
        assert refused.status_code == 409 and refused.json()["code"] == "lead_pool_mode"
        ghost = await http.post(
            f"/v1/leads/{pulled['id']}/assign",
            json={"user_id": str(uuid.uuid4())},
            headers=company.admin,
        )
        assert ghost.status_code in (409, 422)


async def test_release_by_owner_and_manager_not_by_others():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        other_team = await company.department("Other")
        rep_id, rep = await company.user("rep", team)
        _, manager = await company.user("manager", team)
        _, sibling_manager = await company.user("manager", other_team)
        pool = await make_pool(http, company.admin, members=[{"department_id": team}])
        lead = await make_lead(http, rep, "A", pool_id=pool["id"])
        url = f"/v1/leads/{lead['id']}/release"
        assert (await http.post(url, json={}, headers=sibling_manager)).status_code == 404
        released = await http.post(url, json={"reason": "不合适"}, headers=rep)
        assert released.status_code == 200 and released.json()["owner_id"] is None
        again = await http.post(url, json={}, headers=rep)
        assert again.status_code == 409 and again.json()["code"] == "lead_not_owned"
        back = await http.post(f"/v1/lead-pools/{pool['id']}/leads/{lead['id']}/claim", headers=rep)
        assert back.status_code == 200
        assert (await http.post(url, json={}, headers=manager)).status_code == 200
        events = (await http.get(f"/v1/leads/{lead['id']}/events", headers=manager)).json()
        kinds = [e["kind"] for e in events["items"]]
        assert kinds == ["released", "claimed", "released", "created"]
        assert events["items"][2]["reason"] == "不合适"
        assert rep_id
