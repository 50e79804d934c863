from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.core import clock
from app.customers.models import Customer
from app.db import session_factory
from app.notifications.models import Notification
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from workers.jobs.reminders import reminders


async def run() -> dict:
    counts: dict = {}
    await reminders(counts)
    return counts


async def kinds_for(user_id: str) -> list[str]:
    async with session_factory()() as session:
        rows = await session.execute(
            select(Notification.kind)
            .where(Notification.user_id == user_id)
            .order_by(Notification.kind)
        )
        return list(rows.scalars())


async def test_reminders_go_out_at_nine_in_each_companys_own_time_zone():
    # 2026-11-23 00:30 UTC = 08:30 in Shanghai, 2026-11-22 19:30 in New York.
    clock.freeze(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    async with client() as http:
        shanghai = await signup(http, "SH Co", "Asia/Shanghai")
        new_york = await signup(http, "NY Co", "America/New_York")
        plans = {}
        for company in (shanghai, new_york):
            rep_id, rep = await company.user("rep")
            customer = await create_customer(http, rep, f"Customer of {company.id[:6]}")
            next_at = (clock.now() - timedelta(hours=1)).isoformat()
            response = await http.post(
                "/v1/followups",
                json={
                    "customer_id": customer["id"],
                    "kind": "call",
                    "text": "x",
                    "next_followup_at": next_at,
                },
                headers=rep,
            )
            assert response.status_code == 201
            plans[company.id] = rep_id
        # New York is at 19:30 on the 22nd, past its reminder hour: its 22 November run is due.
        assert (await run())["companies"] == 1
        assert await kinds_for(plans[new_york.id]) == ["followup_overdue"]
        assert await kinds_for(plans[shanghai.id]) == []
        clock.freeze(
            datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
        )  # 09:05 Shanghai, 20:05 NY (still the 22nd)
        assert (await run())["companies"] == 1
        assert await kinds_for(plans[shanghai.id]) == ["followup_overdue"]
        assert await kinds_for(plans[new_york.id]) == ["followup_overdue"]
        assert (await run())["companies"] == 0  # once a day
        clock.freeze(datetime(2026, 11, 23, 13, 55, tzinfo=UTC))  # 08:55 on the 23rd in New York
        assert (await run())["companies"] == 0
        clock.freeze(datetime(2026, 11, 23, 14, 5, tzinfo=UTC))  # 09:05 on the 23rd in New York
        assert (await run())["companies"] == 1
        assert await kinds_for(plans[new_york.id]) == ["followup_overdue", "followup_overdue"]
        assert await kinds_for(plans[shanghai.id]) == ["followup_overdue"]


async def test_birthdays_forgotten_won_customers_and_the_manager_digest():
    clock.freeze(datetime(2026, 6, 1, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        manager_id, _ = await company.user("manager", team)
        rep_id, rep = await company.user("rep", team)
        loyal = await create_customer(http, rep, "Loyal Co", location={"lat": 39.9, "lng": 116.4})
        # Won long ago (a deal now would tell the manager too): set in the database.
        async with session_factory()() as session:
            await session.execute(
                update(Customer).where(Customer.id == loyal["id"]).values(status="won")
            )
            await session.commit()
        await http.post(
            f"/v1/customers/{loyal['id']}/contacts",
            json={"name": "王总", "birthday": "1975-06-02"},
            headers=rep,
        )
        # A visit and a follow-up "yesterday" for the digest of 2 June.
        clock.freeze(datetime(2026, 6, 1, 3, 0, tzinfo=UTC))
        rep = await company.relogin(rep_id)
        visit = await http.post(
            "/v1/checkins",
            json={
                "customer_id": loyal["id"],
                "client_recorded_at": "2026-06-01T03:00:00Z",
                "location": {"lat": 39.9, "lng": 116.4},
            },
            headers=rep,
        )
        assert visit.status_code == 201, visit.text
        clock.freeze(datetime(2026, 6, 2, 1, 30, tzinfo=UTC))  # 09:30 on 2 June
        counts = await run()
        assert counts["companies"] == 1
        assert await kinds_for(rep_id) == ["contact_birthday"]
        assert await kinds_for(manager_id) == ["manager_digest"]
        async with session_factory()() as session:
            digest = await session.scalar(
                select(Notification).where(Notification.kind == "manager_digest")
            )
        assert digest.data == {"visits": 1, "followups": 0, "flagged": 0}
        # 150 days later without a follow-up: forgotten.
        clock.freeze(datetime(2026, 11, 1, 1, 30, tzinfo=UTC))
        await run()
        assert "customer_forgotten" in await kinds_for(rep_id)
