"""The company's settings: read by everyone, changed by admins under If-Match, validated as a
whole — and taking effect where they are read (check-in flags, reminders, reports)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.core import clock
from app.db import session_factory
from app.fieldwork.checkins import rules
from app.notifications.models import Notification
from app.org.settings import CompanySettings, initial_settings
from app.pipeline.opportunities.quadrant import size_line
from tests.coverage.coverage_rows import checkin, customer
from tests.helpers import client, signup
from tests.reports.money_rows import execute, scalar
from workers.jobs.reminders import reminders

URL = "/v1/company/settings"


async def patch(http, headers, body, etag):
    return await http.patch(URL, json=body, headers=headers | {"If-Match": etag})


async def kinds(user_id: str) -> list[str]:
    async with session_factory()() as session:
        rows = await session.execute(
            select(Notification.kind).where(Notification.user_id == user_id)
        )
        return sorted(rows.scalars())


async def test_everyone_reads_admins_change_under_if_match():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        # Signup wrote every setting into the JSON (the environment's defaults fixed now).
        stored = await scalar("SELECT settings FROM companies WHERE id = :c", c=company.id)
        assert stored == initial_settings()
        assert stored["forgotten_after_days"] == 150 and stored["reminder_hour"] == 9
        got = await http.get(URL, headers=rep)
        assert got.status_code == 200 and got.headers["etag"] == '"1"'
        body = got.json()
        assert body["time_zone"] == "Asia/Shanghai" and body["working_days"] == [1, 2, 3, 4, 5]
        assert body["working_hours_per_day"] == "8.00" and body["quadrant_amount_line"] is None
        assert body["checkins"]["far_from_customer_m"] == 300 and body["version"] == 1

        refused = await patch(http, rep, {"reminder_hour": 8}, '"1"')
        assert refused.status_code == 403
        missing = await http.patch(URL, json={"reminder_hour": 8}, headers=company.admin)
        assert missing.status_code == 428
        assert missing.json()["code"] == "if_match_required"

        done = await patch(
            http,
            company.admin,
            {"reminder_hour": 8, "checkins": {"far_from_customer_m": 50}, "currency": "EUR"},
            '"1"',
        )
        assert done.status_code == 200, done.text
        assert done.headers["etag"] == '"2"'
        changed = done.json()
        assert changed["reminder_hour"] == 8 and changed["currency"] == "EUR"
        # The thresholds merge key by key.
        assert changed["checkins"]["far_from_customer_m"] == 50
        assert changed["checkins"]["low_accuracy_m"] == 100
        stale = await patch(http, company.admin, {"reminder_hour": 7}, '"1"')
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
        again = await http.get(URL, headers=company.admin)
        assert again.json()["reminder_hour"] == 8 and again.headers["etag"] == '"2"'


async def test_validation_problems():
    async with client() as http:
        company = await signup(http)
        etag = '"1"'
        cases = [
            ({"time_zone": "Mars/Olympus"}, "invalid_time_zone"),
            ({"time_zone": "../etc/passwd"}, "invalid_time_zone"),
            ({"bogus": 1}, "validation_failed"),
            ({"checkins": {"bogus": 1}}, "validation_failed"),
            ({"reminder_hour": 24}, "validation_failed"),
            ({"reminder_hour": "9"}, "validation_failed"),
            ({"reminder_hour": None}, "validation_failed"),
            ({"working_days": [1, 1]}, "validation_failed"),
            ({"working_days": [0, 1]}, "validation_failed"),
            ({"working_days": []}, "validation_failed"),
            ({"workday_start": "19:00"}, "validation_failed"),  # after the end (18:00)
            ({"currency": "eur"}, "validation_failed"),
            ({"quadrant_amount_line": 1000}, "validation_failed"),  # money is a string
        ]
        for body, code in cases:
            response = await patch(http, company.admin, body, etag)
            assert response.status_code == 422, (body, response.text)
            assert response.json()["code"] == code, (body, response.json())
        zone = await patch(http, company.admin, {"time_zone": "Mars/Olympus"}, etag)
        assert zone.json()["errors"][0]["loc"] == ["body", "time_zone"]
        # Nothing changed.
        assert (await http.get(URL, headers=company.admin)).headers["etag"] == etag
        ok = await patch(
            http,
            company.admin,
            {"working_days": [6, 1], "workday_start": "08:30", "quadrant_amount_line": "5000.00"},
            etag,
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["working_days"] == [1, 6] and ok.json()["workday_start"] == "08:30:00"
        cleared = await patch(http, company.admin, {"quadrant_amount_line": None}, '"2"')
        assert cleared.status_code == 200 and cleared.json()["quadrant_amount_line"] is None


async def test_a_stored_value_that_no_longer_validates_reads_as_its_default():
    settings = CompanySettings.of(
        "UTC",
        {
            "reminder_hour": "5",
            "payment_due_days": True,
            "workday_start": "19:00:00",
            "checkins": {"far_from_customer_m": -1, "low_accuracy_m": 20},
        },
    )
    assert settings.reminder_hour == 9 and settings.payment_due_days == 3
    assert str(settings.workday_start) == "09:00:00"
    assert settings.checkins == rules.CheckinThresholds(low_accuracy_m=20)


async def test_thresholds_change_the_flags_of_the_next_checkin():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        made = await http.post(
            "/v1/customers",
            json={"name": "Far Co", "location": {"lat": 39.9, "lng": 116.4}},
            headers=rep,
        )
        assert made.status_code == 201, made.text

        async def visit() -> list[str]:
            response = await http.post(
                "/v1/checkins",
                json={
                    "customer_id": made.json()["id"],
                    "client_recorded_at": clock.now().isoformat(),
                    "location": {"lat": 39.9006, "lng": 116.4},  # ~67 m away
                },
                headers=rep,
            )
            assert response.status_code == 201, response.text
            return [flag["code"] for flag in response.json()["flags"]]

        assert "far_from_customer" not in await visit()
        done = await patch(http, company.admin, {"checkins": {"far_from_customer_m": 50}}, '"1"')
        assert done.status_code == 200
        clock.freeze(clock.now() + timedelta(hours=2))
        rep = await company.relogin(rep_id)
        assert "far_from_customer" in await visit()


async def test_forgotten_days_and_reminder_hour_are_the_companys():
    # 2027-03-01 23:30 UTC = 07:30 on 2 March in Shanghai.
    clock.freeze(datetime(2027, 3, 1, 23, 30, tzinfo=UTC))
    async with client() as http:
        company = await signup(http)
        rep_id, _ = await company.user("rep")
        # A held prospect (not won) quiet since 20 days; and one contacted 5 days ago.
        quiet = await customer(company.id, rep_id, "B", "Quiet Co")
        recent = await customer(company.id, rep_id, "B", "Recent Co")
        await execute(
            "UPDATE customers SET claimed_at = :q, created_at = :q WHERE id = :id",
            q=clock.now() - timedelta(days=20),
            id=quiet,
        )
        await execute(
            "UPDATE customers SET claimed_at = :q, created_at = :q, last_followup_at = :r"
            " WHERE id = :id",
            q=clock.now() - timedelta(days=20),
            r=clock.now() - timedelta(days=5),
            id=recent,
        )
        await reminders({})
        assert await kinds(rep_id) == []  # 07:30: before the hour; 20 < 150 days anyway
        done = await patch(
            http, company.admin, {"forgotten_after_days": 10, "reminder_hour": 7}, '"1"'
        )
        assert done.status_code == 200
        counts: dict = {}
        await reminders(counts)
        assert counts["companies"] == 1
        assert await kinds(rep_id) == ["customer_forgotten"]
        async with session_factory()() as session:
            told = await session.scalar(
                select(Notification).where(Notification.kind == "customer_forgotten")
            )
        assert told.subject_id is not None and str(told.subject_id) == quiet
        assert told.data["days"] == 20
        # The next day: the same quiet spell is not told again.
        clock.freeze(datetime(2027, 3, 2, 23, 30, tzinfo=UTC))
        await reminders({})
        assert await kinds(rep_id) == ["customer_forgotten"]


async def test_the_time_zone_moves_a_reports_day_boundary():
    async with client() as http:
        company = await signup(http)
        rep_id, _ = await company.user("rep")
        shop = await customer(company.id, rep_id, "A", "Shop")
        # 17:30 UTC on 1 March is already 01:30 on 2 March in Shanghai.
        await checkin(company.id, rep_id, shop, datetime(2027, 3, 1, 17, 30, tzinfo=UTC))

        async def visits_on_first() -> int:
            response = await http.get(
                "/v1/reports/coverage?period=2027-03-01", headers=company.admin
            )
            assert response.status_code == 200, response.text
            return response.json()["visits"]

        assert await visits_on_first() == 0
        done = await patch(http, company.admin, {"time_zone": "UTC"}, '"1"')
        assert done.status_code == 200 and done.json()["time_zone"] == "UTC"
        assert await scalar("SELECT time_zone FROM companies WHERE id = :c", c=company.id) == "UTC"
        assert await visits_on_first() == 1


async def test_a_set_quadrant_line_replaces_the_median():
    async with client() as http:
        company = await signup(http)
        async with session_factory()() as session:
            assert await size_line(session, company.id) is None  # no open opportunity
        done = await patch(http, company.admin, {"quadrant_amount_line": "2500.50"}, '"1"')
        assert done.status_code == 200 and done.json()["quadrant_amount_line"] == "2500.50"
        async with session_factory()() as session:
            assert await size_line(session, company.id) == Decimal("2500.50")
