import asyncio
import uuid
from datetime import timedelta

from app.core import clock
from tests.customers.helpers import create_customer, default_pool, set_rules
from tests.helpers import client, signup


async def test_release_then_claim_moves_ownership_and_records_history():
    async with client() as http:
        company = await signup(http)
        rep_a_id, rep_a = await company.user("rep")
        rep_b_id, rep_b = await company.user("rep")
        customer = await create_customer(http, rep_a, "Acme")
        url = f"/v1/customers/{customer['id']}"
        no_reason = await http.post(f"{url}/release", json={}, headers=rep_a)
        assert no_reason.status_code == 422
        released = await http.post(
            f"{url}/release", json={"reason": "budget frozen"}, headers=rep_a
        )
        assert released.status_code == 200
        assert released.json()["in_pool"] and released.json()["recycle_at"] is None
        pool = (await http.get("/v1/pool/customers", headers=rep_b)).json()["items"]
        assert pool[0]["id"] == customer["id"]
        assert (
            pool[0]["pool_entry_kind"] == "released" and pool[0]["pool_reason"] == "budget frozen"
        )
        assert pool[0]["previous_owner_id"] == rep_a_id
        claimed = await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=rep_b)
        assert claimed.status_code == 200 and claimed.json()["owner_id"] == rep_b_id
        assert claimed.json()["recycle_at"] is not None
        again = await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=rep_b)
        assert again.status_code == 409 and again.json()["code"] == "customer_not_in_pool"
        history = (await http.get(f"{url}/ownership", headers=rep_b)).json()["items"]
        assert [e["kind"] for e in history] == ["claimed", "released", "created"]
        assert history[1]["reason"] == "budget frozen" and history[1]["actor_id"] == rep_a_id
        timeline = (await http.get(f"{url}/timeline", headers=rep_b)).json()["items"]
        assert [t["kind"] for t in timeline] == [
            "ownership.claimed",
            "ownership.released",
            "ownership.created",
        ]
        assert timeline[1]["summary"] == "budget frozen"


async def test_holding_cap_blocks_create_claim_and_transfer():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        await set_rules(http, company.admin, holding_cap=2)
        await create_customer(http, rep, "One")
        await create_customer(http, rep, "Two")
        third = await http.post("/v1/customers", json={"name": "Three"}, headers=rep)
        assert third.status_code == 409 and third.json()["code"] == "holding_cap_reached"
        assert third.json()["holding_cap"] == 2
        pooled = await create_customer(http, company.admin, "Pooled", in_pool=True)
        claim = await http.post(f"/v1/pool/customers/{pooled['id']}/claim", headers=rep)
        assert claim.json()["code"] == "holding_cap_reached"
        transfer = await http.post(
            f"/v1/customers/{pooled['id']}/transfer",
            json={"to_user_id": rep_id},
            headers=company.admin,
        )
        assert transfer.status_code == 409 and transfer.json()["code"] == "holding_cap_reached"
        forced = await http.post(
            f"/v1/customers/{pooled['id']}/transfer",
            json={"to_user_id": rep_id, "override_cap": True},
            headers=company.admin,
        )
        assert forced.status_code == 200 and forced.json()["owner_id"] == rep_id
        history = (
            await http.get(f"/v1/customers/{pooled['id']}/ownership", headers=company.admin)
        ).json()
        assert history["items"][0]["kind"] == "assigned"


async def test_department_cap_overrides_the_company_cap_for_its_subtree():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        team = await company.department("Team", east)
        _, rep = await company.user("rep", team)
        await set_rules(
            http,
            company.admin,
            holding_cap=5,
            department_caps=[{"department_id": east, "holding_cap": 1}],
        )
        await create_customer(http, rep, "One")
        response = await http.post("/v1/customers", json={"name": "Two"}, headers=rep)
        assert (
            response.json()["code"] == "holding_cap_reached" and response.json()["holding_cap"] == 1
        )


async def test_reclaim_cooldown_then_allowed_after_it():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/release", json={"reason": "no budget"}, headers=rep
        )
        refused = await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=rep)
        assert refused.status_code == 409 and refused.json()["code"] == "reclaim_cooldown"
        assert "available_at" in refused.json()
        clock.advance(timedelta(days=7, minutes=1))
        rep = await company.relogin(rep_id)
        allowed = await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=rep)
        assert allowed.status_code == 200


async def test_daily_claim_limit_is_429_with_retry_after():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        pool = await default_pool(http, company.admin)
        updated = await http.patch(
            f"/v1/pools/{pool['id']}",
            json={"daily_claim_limit": 2},
            headers=company.admin | {"If-Match": f'"{pool["version"]}"'},
        )
        assert updated.status_code == 200
        ids = [
            (await create_customer(http, company.admin, f"P{i}", in_pool=True))["id"]
            for i in range(3)
        ]
        for customer_id in ids[:2]:
            assert (
                await http.post(f"/v1/pool/customers/{customer_id}/claim", headers=rep)
            ).status_code == 200
        third = await http.post(f"/v1/pool/customers/{ids[2]}/claim", headers=rep)
        assert third.status_code == 429 and third.json()["code"] == "daily_claim_limit"
        assert int(third.headers["retry-after"]) > 0


async def test_pool_claim_restricted_to_departments():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        west = await company.department("West")
        _, east_rep = await company.user("rep", east)
        _, west_rep = await company.user("rep", west)
        created = await http.post(
            "/v1/pools",
            json={
                "name": "金融行业公海",
                "industries": ["finance"],
                "claim_department_ids": [east],
            },
            headers=company.admin,
        )
        assert created.status_code == 201
        customer = await create_customer(
            http, company.admin, "Bank", industry="finance", in_pool=True
        )
        assert customer["pool_id"] == created.json()["id"]
        refused = await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=west_rep)
        assert refused.status_code == 403 and refused.json()["code"] == "pool_claim_not_allowed"
        assert (
            await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=east_rep)
        ).status_code == 200


async def test_scoped_pool_rules_govern_matching_customers_and_rule_changes_recompute():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        shanghai = await create_customer(http, rep, "SH Co", region="上海")
        beijing = await create_customer(http, rep, "BJ Co", region="北京")
        pool = await http.post(
            "/v1/pools",
            json={"name": "上海区公海", "regions": ["上海"], "no_followup_days": 5},
            headers=company.admin,
        )
        assert pool.status_code == 201
        sh = (await http.get(f"/v1/customers/{shanghai['id']}", headers=rep)).json()
        bj = (await http.get(f"/v1/customers/{beijing['id']}", headers=rep)).json()
        assert sh["pool_id"] == pool.json()["id"]
        assert sh["recycle_at"] < bj["recycle_at"]
        preview = await http.post(
            f"/v1/pools/{pool.json()['id']}/preview",
            json={"no_followup_days": 1, "no_deal_days": 30},
            headers=company.admin,
        )
        assert preview.status_code == 200
        assert preview.json()["affected_customers"] == 1 and preview.json()["changed"] == 1
        assert preview.json()["due_within_7_days"] == 1
        unchanged = (await http.get(f"/v1/customers/{shanghai['id']}", headers=rep)).json()
        assert unchanged["recycle_at"] == sh["recycle_at"]  # preview changed nothing
        missing = await http.patch(
            f"/v1/pools/{pool.json()['id']}", json={"no_followup_days": 1}, headers=company.admin
        )
        assert missing.status_code == 428
        edited = await http.patch(
            f"/v1/pools/{pool.json()['id']}",
            json={"no_followup_days": 1},
            headers=company.admin | {"If-Match": pool.headers["etag"]},
        )
        assert edited.status_code == 200, edited.text
        after = (await http.get(f"/v1/customers/{shanghai['id']}", headers=rep)).json()
        assert after["recycle_at"] < sh["recycle_at"]
        released = await http.post(
            f"/v1/customers/{beijing['id']}/release",
            json={"reason": "x", "pool_id": pool.json()["id"]},
            headers=rep,
        )
        assert released.json()["pool_id"] == pool.json()["id"]
        in_pool = (
            await http.get("/v1/pool/customers", params={"pool_id": pool.json()["id"]}, headers=rep)
        ).json()
        assert [c["id"] for c in in_pool["items"]] == [beijing["id"]]


async def test_n_concurrent_claims_exactly_one_wins():
    async with client() as http:
        company = await signup(http)
        reps = [await company.user("rep") for _ in range(6)]
        customer = await create_customer(http, company.admin, "Hot lead", in_pool=True)
        responses = await asyncio.gather(
            *[
                http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=headers)
                for _, headers in reps
            ]
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * 5
        history = (
            await http.get(f"/v1/customers/{customer['id']}/ownership", headers=company.admin)
        ).json()
        assert [e["kind"] for e in history["items"]].count("claimed") == 1


async def test_rep_at_cap_minus_one_firing_concurrent_claims_and_creates_gets_exactly_one():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        await set_rules(http, company.admin, holding_cap=3)
        await create_customer(http, rep, "Held 1")
        await create_customer(http, rep, "Held 2")
        pooled = [
            await create_customer(http, company.admin, f"Pool {i}", in_pool=True) for i in range(4)
        ]
        attempts = [http.post(f"/v1/pool/customers/{c['id']}/claim", headers=rep) for c in pooled]
        attempts += [
            http.post("/v1/customers", json={"name": f"New {i}"}, headers=rep) for i in range(4)
        ]
        responses = await asyncio.gather(*attempts)
        successes = [r for r in responses if r.status_code in (200, 201)]
        assert len(successes) == 1
        assert all(
            r.json()["code"] == "holding_cap_reached" for r in responses if r.status_code == 409
        )
        owned = (
            await http.get(
                "/v1/customers", params={"owner": rep_id, "limit": 100}, headers=company.admin
            )
        ).json()
        assert len(owned["items"]) == 3


async def test_release_and_claim_racing_never_leave_two_owners_or_a_lost_customer():
    async with client() as http:
        company = await signup(http)
        owner_id, owner = await company.user("rep")
        claimers = [await company.user("rep") for _ in range(3)]
        for round_number in range(5):
            customer = await create_customer(http, owner, f"Race {round_number}")
            release = http.post(
                f"/v1/customers/{customer['id']}/release", json={"reason": "race"}, headers=owner
            )
            claims = [
                http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=h)
                for _, h in claimers
            ]
            await asyncio.gather(release, *claims)
            final = (
                await http.get(f"/v1/customers/{customer['id']}", headers=company.admin)
            ).json()
            history = (
                await http.get(f"/v1/customers/{customer['id']}/ownership", headers=company.admin)
            ).json()
            kinds = [e["kind"] for e in history["items"]]
            assert kinds.count("released") == 1 and kinds.count("claimed") <= 1
            if kinds.count("claimed"):
                assert final["owner_id"] == history["items"][0]["to_user_id"]
            else:
                assert final["in_pool"]


async def test_deactivating_a_user_releases_or_hands_over_their_customers():
    async with client() as http:
        company = await signup(http)
        leaver_id, leaver = await company.user("rep")
        successor_id, _ = await company.user("rep")
        kept = await create_customer(http, leaver, "Kept")
        response = await http.post(
            f"/v1/users/{leaver_id}/deactivate",
            json={"successor_id": successor_id},
            headers=company.admin,
        )
        assert response.status_code == 200
        handed = (await http.get(f"/v1/customers/{kept['id']}", headers=company.admin)).json()
        assert handed["owner_id"] == successor_id and handed["recycle_at"] is not None
        # The successor hears of it once, for the whole book.
        successor = await company.relogin(successor_id)
        inbox = (await http.get("/v1/notifications", headers=successor)).json()["items"]
        [handover] = [n for n in inbox if n["kind"] == "customers_handed_over"]
        assert handover["data"]["count"] == 1
        assert handover["data"]["from_user"] in handover["body"]
        other_id, other = await company.user("rep")
        released = await create_customer(http, other, "Released")
        await http.post(f"/v1/users/{other_id}/deactivate", headers=company.admin)
        pooled = (await http.get(f"/v1/customers/{released['id']}", headers=company.admin)).json()
        assert pooled["in_pool"] and pooled["pool_reason"] == "owner deactivated"
        history = (
            await http.get(f"/v1/customers/{released['id']}/ownership", headers=company.admin)
        ).json()
        assert history["items"][0]["kind"] == "released"


async def test_creating_a_pool_again_with_its_client_id_answers_it_or_409():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, name="Other")
        pool_id = str(uuid.uuid4())
        body = {"id": pool_id, "name": "East", "regions": ["上海"], "no_followup_days": 20}
        created = await http.post("/v1/pools", json=body, headers=company.admin)
        assert created.status_code == 201, created.text
        again = await http.post("/v1/pools", json=body, headers=company.admin)
        assert again.status_code == 200, again.text
        assert again.json() == created.json()
        pools = (await http.get("/v1/pools", headers=company.admin)).json()
        assert [p["id"] for p in pools].count(pool_id) == 1
        changed = await http.post("/v1/pools", json=body | {"name": "West"}, headers=company.admin)
        assert changed.status_code == 409 and changed.json()["code"] == "id_conflict"
        # Another company's id: the same 409, nothing about that pool in it.
        theirs = await http.post("/v1/pools", json=body, headers=other.admin)
        assert theirs.status_code == 409 and theirs.json()["code"] == "id_conflict"
        assert theirs.json()["detail"] == changed.json()["detail"]
        assert "East" not in theirs.text
