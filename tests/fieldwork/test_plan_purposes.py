"""Visit purposes on plans, the visit summary at check-out, the plan reminder."""

from datetime import UTC, datetime

from sqlalchemy import select

from app.core import clock
from app.db import session_factory
from app.notifications.models import Notification
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from workers.jobs.reminders import reminders

# Monday 2026-11-23 09:00 in Shanghai.
MORNING = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
AT = {"lat": 31.2, "lng": 121.4}


async def test_purposes_are_validated_kept_changed_and_filtered():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        base = {"customer_id": customer["id"], "plan_date": "2026-12-01"}
        unknown = await http.post(
            "/v1/visit-plans", json=base | {"purposes": ["order", "gossip"]}, headers=rep
        )
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["loc"] == ["body", "purposes", 1]
        made = await http.post(
            "/v1/visit-plans",
            json=base | {"purposes": ["collection", "order", "collection"]},
            headers=rep,
        )
        assert made.status_code == 201 and made.json()["purposes"] == ["collection", "order"]
        other = await http.post("/v1/visit-plans", json=base, headers=rep)
        assert other.json()["purposes"] == []
        url = f"/v1/visit-plans/{made.json()['id']}"
        changed = await http.patch(
            url, json={"purposes": ["service"]}, headers=rep | {"If-Match": '"1"'}
        )
        assert changed.status_code == 200 and changed.json()["purposes"] == ["service"]
        day = {"date": "2026-12-01"}
        only = await http.get("/v1/visit-plans", params=day | {"purpose": "service"}, headers=rep)
        assert [p["id"] for p in only.json()["items"]] == [made.json()["id"]]
        everything = await http.get("/v1/visit-plans", params=day, headers=rep)
        assert len(everything.json()["items"]) == 2
        assert only.headers["etag"] == everything.headers["etag"]  # the whole day's
        bad = await http.get("/v1/visit-plans", params=day | {"purpose": "gossip"}, headers=rep)
        assert bad.status_code == 422
        cleared = await http.patch(url, json={"purposes": None}, headers=rep | {"If-Match": '"2"'})
        assert cleared.json()["purposes"] == []


async def test_check_out_keeps_a_validated_visit_summary_once():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=AT)

        async def check_in() -> str:
            made = await http.post(
                "/v1/checkins",
                json={
                    "customer_id": customer["id"],
                    "location": AT | {"accuracy_m": 10},
                    "client_recorded_at": clock.now().isoformat(),
                },
                headers=rep,
            )
            assert made.status_code == 201, made.text
            assert made.json()["summary"] is None
            return made.json()["id"]

        first = await check_in()
        out = f"/v1/checkins/{first}/checkout"
        for bad in (
            {"outcome": "great"},
            {"outcome": "ordered", "order_amount": 12.5},
            {"outcome": "ordered", "payment_collected": "1.234"},
            {"next_step": "call"},
            {"outcome": "ordered", "mood": "good"},
        ):
            refused = await http.post(out, json={"summary": bad}, headers=rep)
            assert refused.status_code == 422, bad
        summary = {
            "outcome": "ordered",
            "next_step": "Deliver samples",
            "competitor_info": "Rival quoted 10% less",
            "order_amount": "12000.5",
            "payment_collected": "3000",
        }
        closed = await http.post(out, json={"summary": summary}, headers=rep)
        assert closed.status_code == 200, closed.text
        kept = summary | {"order_amount": "12000.50", "payment_collected": "3000.00"}
        assert closed.json()["summary"] == kept
        again = await http.post(out, json={"summary": {"outcome": "setback"}}, headers=rep)
        assert again.json()["summary"] == kept
        assert (await http.get(f"/v1/checkins/{first}", headers=rep)).json()["summary"] == kept
        # A visit closed without one gets it later, once.
        second = await check_in()
        out = f"/v1/checkins/{second}/checkout"
        assert (await http.post(out, headers=rep)).json()["summary"] is None
        late = await http.post(out, json={"summary": {"outcome": "not_met"}}, headers=rep)
        assert late.json()["summary"] == {
            "outcome": "not_met",
            "next_step": None,
            "competitor_info": None,
            "order_amount": None,
            "payment_collected": None,
        }
        once = await http.post(out, json={"summary": {"outcome": "progressed"}}, headers=rep)
        assert once.json()["summary"]["outcome"] == "not_met"


async def reminded(user_id: str) -> list[Notification]:
    async with session_factory()() as session:
        rows = await session.execute(
            select(Notification).where(
                Notification.user_id == user_id, Notification.kind == "plan_reminder"
            )
        )
        return list(rows.scalars())


async def test_a_timed_plan_is_reminded_once_minutes_before_in_company_time():
    clock.freeze(MORNING)
    async with client() as http:
        shanghai = await signup(http, "SH Co", "Asia/Shanghai")
        rep_id, rep = await shanghai.user("rep")
        acme = await create_customer(http, rep, "Acme")
        untimed = await create_customer(http, rep, "Untimed")
        plan = await http.post(
            "/v1/visit-plans",
            json={"customer_id": acme["id"], "plan_date": "2026-11-23", "planned_time": "10:00"},
            headers=rep,
        )
        assert plan.status_code == 201
        await http.post(
            "/v1/visit-plans",
            json={"customer_id": untimed["id"], "plan_date": "2026-11-23"},
            headers=rep,
        )
        counts: dict = {}
        clock.freeze(datetime(2026, 11, 23, 1, 29, tzinfo=UTC))  # 09:29: 31 minutes before
        await reminders(counts)
        assert counts["plan_reminders"] == 0 and await reminded(rep_id) == []
        clock.freeze(datetime(2026, 11, 23, 1, 31, tzinfo=UTC))  # 09:31: 29 minutes before
        await reminders(counts)
        assert counts["plan_reminders"] == 1
        (notice,) = await reminded(rep_id)
        assert notice.subject_id is not None and str(notice.subject_id) == plan.json()["id"]
        assert "10:00" in notice.body and "Acme" in notice.body
        clock.freeze(datetime(2026, 11, 23, 1, 45, tzinfo=UTC))
        await reminders(counts)
        assert counts["plan_reminders"] == 0 and len(await reminded(rep_id)) == 1  # once
        # Moved to 11:00: reminded again before the new time, not after it has passed.
        rep = await shanghai.relogin(rep_id)
        moved = await http.patch(
            f"/v1/visit-plans/{plan.json()['id']}",
            json={"planned_time": "11:00"},
            headers=rep | {"If-Match": '"1"'},
        )
        assert moved.status_code == 200
        clock.freeze(datetime(2026, 11, 23, 2, 40, tzinfo=UTC))  # 10:40
        await reminders(counts)
        assert counts["plan_reminders"] == 1 and len(await reminded(rep_id)) == 2
        late = await http.post(
            "/v1/visit-plans",
            json={"customer_id": untimed["id"], "plan_date": "2026-11-23", "planned_time": "10:30"},
            headers=await shanghai.relogin(rep_id),
        )
        assert late.status_code == 201
        await reminders(counts)
        assert counts["plan_reminders"] == 0  # 10:30 has passed: no reminder
