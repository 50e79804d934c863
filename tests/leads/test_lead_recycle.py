"""Lead recycling: back to the pool after recycle_after_days without a follow-up."""

from datetime import timedelta

from app.core import clock
from tests.helpers import client, signup
from tests.leads.pool_helpers import make_lead, make_pool
from workers.jobs.recycle import recycle


async def run() -> dict:
    counts: dict = {}
    await recycle(counts)
    return counts


async def test_unfollowed_leads_go_back_once_with_an_event_and_a_notification():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        pool = await make_pool(http, company.admin, recycle_after_days=7)
        no_rule = await make_pool(http, company.admin, "无回收")
        idle = await make_lead(http, rep, "闲置", pool_id=pool["id"])
        followed = await make_lead(http, rep, "跟进中", pool_id=pool["id"])
        lost = await make_lead(http, rep, "不合格", pool_id=pool["id"])
        kept = await make_lead(http, rep, "不回收", pool_id=no_rule["id"])
        etag = '"1"'
        assert (
            await http.patch(
                f"/v1/leads/{lost['id']}",
                json={"status": "disqualified"},
                headers=rep | {"If-Match": etag},
            )
        ).status_code == 200
        clock.advance(timedelta(days=5))
        rep = await company.relogin(rep_id)
        body = {"lead_id": followed["id"], "kind": "call", "text": "还在谈"}
        assert (await http.post("/v1/followups", json=body, headers=rep)).status_code == 201
        clock.advance(timedelta(days=2, minutes=1))
        assert (await run())["leads_recycled"] == 1
        rep = await company.relogin(rep_id)
        admin = await company.relogin_admin()
        back = (await http.get(f"/v1/leads/{idle['id']}", headers=admin)).json()
        assert back["owner_id"] is None and back["in_pool"] is True
        for other in (followed, lost, kept):
            assert (await http.get(f"/v1/leads/{other['id']}", headers=rep)).json()[
                "owner_id"
            ] == rep_id
        events = (await http.get(f"/v1/leads/{idle['id']}/events", headers=admin)).json()
        assert events["items"][0]["kind"] == "recycled"
        assert events["items"][0]["actor_id"] is None
        inbox = (await http.get("/v1/notifications", headers=rep)).json()["items"]
        assert [n["kind"] for n in inbox] == ["lead_recycled"]
        assert "闲置" in inbox[0]["body"]
        # Idempotent: nothing more to do.
        assert (await run())["leads_recycled"] == 0
        # The followed-up lead goes 7 days after its follow-up.
        clock.advance(timedelta(days=5))
        assert (await run())["leads_recycled"] == 1
        admin = await company.relogin_admin()
        again = (await http.get(f"/v1/leads/{followed['id']}", headers=admin)).json()
        assert again["owner_id"] is None
        # The rep is no member of the pool: the lead is out of their sight now.
        rep = await company.relogin(rep_id)
        assert (await http.get(f"/v1/leads/{followed['id']}", headers=rep)).status_code == 404


async def test_many_leads_recycle_in_batches():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        pool = await make_pool(http, company.admin, recycle_after_days=1)
        for n in range(5):
            await make_lead(http, rep, f"L{n}", pool_id=pool["id"])
        clock.advance(timedelta(days=2))
        counts: dict = {}
        from app.leads.recycling import recycle_leads

        await recycle_leads(counts, batch=2)
        assert counts == {"leads_recycled": 5, "lead_batches": 3}
