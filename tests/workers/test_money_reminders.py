"""The money reminders: contract expiring, instalment due, overdue weekly until paid — each once
(the job run twice, the clock moved across days), in company time, to the owner and the
managers above them; the days are company settings."""

from datetime import UTC, date, datetime, timedelta

from app.core import clock
from app.money.reminders import overdue_week, setting_days
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.reports.money_rows import contract, execute, payment, plan, rows
from workers.jobs.money import money

# 2027-03-01 01:30 UTC = 09:30 in Shanghai (past the 09:00 reminder hour).
MORNING = datetime(2027, 3, 1, 1, 30, tzinfo=UTC)
TODAY = date(2027, 3, 1)


async def run(batch: int | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    if batch is None:
        await money(counts)
    else:
        await money(counts, batch=batch)
    return counts


async def told(user_id: str, kind: str | None = None) -> list[str]:
    found = await rows(
        "SELECT dedupe_key FROM notifications WHERE user_id = :u"
        " AND (CAST(:k AS text) IS NULL OR kind = :k) ORDER BY dedupe_key",
        u=user_id,
        k=kind,
    )
    return [r.dedupe_key for r in found]


async def team(http):
    """A company: region → team; the rep in the team, a manager of each, a manager elsewhere."""
    company = await signup(http)
    region = await company.department("华东大区")
    squad = await company.department("上海一组", region)
    other = await company.department("华北大区")
    rep_id, rep = await company.user("rep", squad)
    team_manager, _ = await company.user("manager", squad)
    region_manager, _ = await company.user("manager", region)
    elsewhere, _ = await company.user("manager", other)
    customer = await create_customer(http, rep, "上海鼎辉电子有限公司")
    return company, rep_id, customer["id"], (team_manager, region_manager), elsewhere


def test_pure_rules():
    assert setting_days({}, "payment_due_days") == 3
    assert setting_days({"contract_expiring_days": 10}, "contract_expiring_days") == 10
    assert setting_days({"payment_due_days": "5"}, "payment_due_days") == 3
    assert setting_days({"payment_due_days": True}, "payment_due_days") == 3
    assert overdue_week(TODAY, TODAY) is None
    assert [overdue_week(TODAY - timedelta(days=d), TODAY) for d in (1, 7, 8, 14, 15)] == [
        0,
        0,
        1,
        1,
        2,
    ]


async def test_each_reminder_once_to_the_owner_and_the_managers_above():
    clock.freeze(MORNING)
    async with client() as http:
        company, rep, customer, managers, elsewhere = await team(http)
        cid = company.id
        expiring = await contract(cid, customer, rep, "1000.00", end_date=TODAY + timedelta(30))
        later = await contract(cid, customer, rep, "1000.00", end_date=TODAY + timedelta(31))
        await contract(
            cid, customer, rep, "1000.00", status="draft", end_date=TODAY + timedelta(30)
        )
        paying = await contract(cid, customer, rep, "9000.00", end_date=date(2028, 1, 1))
        due = await plan(cid, paying, TODAY + timedelta(3), "1000.00")
        paid = await plan(cid, paying, TODAY + timedelta(3), "1000.00")
        await payment(cid, paying, rep, "1000.00", TODAY, allocations=[(paid, "1000.00")])
        next_day = await plan(cid, paying, TODAY + timedelta(4), "1000.00")
        overdue = await plan(cid, paying, TODAY - timedelta(1), "2000.00")
        # Only recorded (not confirmed): it does not count as paid.
        await payment(
            cid, paying, rep, "500.00", TODAY, confirmed=False, allocations=[(overdue, "500.00")]
        )
        partly = await plan(cid, paying, TODAY - timedelta(1), "1000.00")
        await payment(cid, paying, rep, "400.00", TODAY, allocations=[(partly, "400.00")])

        counts = await run(batch=1)  # one row a batch: the keyset walks them all
        assert counts["contract_expiring"] == 3  # the rep and the two managers above
        assert counts["payment_due"] == 3 and counts["payment_overdue"] == 6
        expected_rep = sorted(
            [
                f"contract_expiring:{expiring}:{TODAY + timedelta(30)}",
                f"payment_due:{due}:{TODAY + timedelta(3)}",
                f"payment_overdue:{overdue}:{TODAY - timedelta(1)}:0",
                f"payment_overdue:{partly}:{TODAY - timedelta(1)}:0",
            ]
        )
        assert await told(rep) == expected_rep
        for manager in managers:
            assert await told(manager) == expected_rep
        assert await told(elsewhere) == [] and await told(company.admin_id) == []
        amounts = await rows(
            "SELECT data->>'amount' AS amount, body FROM notifications"
            " WHERE user_id = :u AND kind = 'payment_overdue' ORDER BY 1",
            u=rep,
        )
        # What is still unpaid: a recorded (unconfirmed) payment does not count.
        assert [a.amount for a in amounts] == ["2000.00", "600.00"]
        assert "上海鼎辉电子有限公司" in amounts[0].body

        # Run again the same day: nobody is told twice, nothing even picked.
        again = await run()
        assert again["notified"] == 0 and again["examined"] == 0

        # The next day: the second contract is 30 days out, the next instalment 3 days.
        clock.freeze(MORNING + timedelta(days=1))
        counts = await run()
        assert counts["contract_expiring"] == 3 and counts["payment_due"] == 3
        assert counts["payment_overdue"] == 0  # still the first overdue week
        assert f"contract_expiring:{later}:{TODAY + timedelta(31)}" in await told(rep)
        assert f"payment_due:{next_day}:{TODAY + timedelta(4)}" in await told(rep)
        assert (await run())["notified"] == 0


async def test_overdue_repeats_weekly_until_paid():
    clock.freeze(MORNING)
    async with client() as http:
        company, rep, customer, _, _ = await team(http)
        cid = company.id
        paying = await contract(cid, customer, rep, "3000.00", end_date=date(2028, 1, 1))
        inst = await plan(cid, paying, TODAY, "3000.00")
        assert (await run())["payment_overdue"] == 0  # due today: not overdue yet
        weeks = []
        for day in range(1, 16):
            clock.freeze(MORNING + timedelta(days=day))
            counts = await run()
            weeks.append(counts["payment_overdue"])
        # Days 1, 8 and 15 after the due date start weeks 0, 1, 2: rep + 2 managers each.
        assert weeks == [3, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 3]
        assert await told(rep, "payment_overdue") == [
            f"payment_overdue:{inst}:{TODAY}:{w}" for w in range(3)
        ]
        # Paid on day 16: no reminder on day 22 or later.
        await payment(cid, paying, rep, "3000.00", TODAY, allocations=[(inst, "3000.00")])
        for day in (22, 29):
            clock.freeze(MORNING + timedelta(days=day))
            assert (await run())["payment_overdue"] == 0


async def test_a_missed_day_is_made_up_within_the_week():
    clock.freeze(MORNING)
    async with client() as http:
        company, rep, customer, _, _ = await team(http)
        paying = await contract(company.id, customer, rep, "100.00", end_date=date(2028, 1, 1))
        inst = await plan(company.id, paying, TODAY - timedelta(days=10), "100.00")
        # 10 days overdue: week 1 (days 8–14) is current, told once; week 0 is never sent late.
        assert (await run())["payment_overdue"] == 3
        assert await told(rep) == [f"payment_overdue:{inst}:{TODAY - timedelta(days=10)}:1"]


async def test_company_time_settings_and_the_reminder_hour():
    # 00:30 UTC = 08:30 in Shanghai: before the reminder hour, nothing is sent.
    clock.freeze(datetime(2027, 3, 1, 0, 30, tzinfo=UTC))
    async with client() as http:
        company, rep, customer, _, _ = await team(http)
        cid = company.id
        await execute(
            "UPDATE companies SET settings = settings || CAST(:s AS jsonb) WHERE id = :c",
            s='{"payment_due_days": 5, "contract_expiring_days": 7}',
            c=cid,
        )
        paying = await contract(cid, customer, rep, "900.00", end_date=TODAY + timedelta(7))
        inst = await plan(cid, paying, TODAY + timedelta(5), "900.00")
        soon = await plan(cid, paying, TODAY + timedelta(2), "0.01")
        counts = await run()
        assert counts["companies"] == 0 and counts["notified"] == 0
        clock.freeze(MORNING)
        counts = await run()
        assert counts["contract_expiring"] == 3 and counts["payment_due"] == 6
        assert await told(rep) == sorted(
            [
                f"contract_expiring:{paying}:{TODAY + timedelta(7)}",
                f"payment_due:{inst}:{TODAY + timedelta(5)}",
                # Made inside the window: told on the next run (once), not skipped.
                f"payment_due:{soon}:{TODAY + timedelta(2)}",
            ]
        )
        # 16:30 UTC is already 00:30 on 2 March in Shanghai: before its reminder hour again.
        clock.freeze(datetime(2027, 3, 1, 16, 30, tzinfo=UTC))
        assert (await run())["companies"] == 0


async def test_an_end_date_moved_is_told_again_and_closed_contracts_never():
    clock.freeze(MORNING)
    async with client() as http:
        company, rep, customer, _, _ = await team(http)
        cid = company.id
        moved = await contract(cid, customer, rep, "10.00", end_date=TODAY + timedelta(10))
        ended = await contract(
            cid, customer, rep, "10.00", status="terminated", end_date=TODAY + timedelta(10)
        )
        inst = await plan(cid, ended, TODAY - timedelta(1), "10.00")
        assert (await run())["notified"] == 3 and inst
        await execute(
            "UPDATE contracts SET end_date = :e WHERE id = :k", e=TODAY + timedelta(20), k=moved
        )
        assert (await run())["contract_expiring"] == 3
        assert len(await told(rep, "contract_expiring")) == 2
