"""Each measure counted exactly once, in the right period, across the day / ISO week / month /
fiscal quarter / fiscal year boundary at local midnight — in Shanghai and in New York (where
that midnight is another UTC date)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import clock
from app.targets.models import MEASURES
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.leads.pool_helpers import make_lead, make_pool
from tests.pipeline.opportunity_helpers import open_opportunity
from tests.reports.money_rows import contract, payment
from tests.targets.helpers import create_target, execute, listed

BEFORE = ("2027-03", "2027-03-31", "2026", "2026-Q4")  # fiscal year from April
AFTER = ("2027-04", "2027-04-01", "2027", "2027-Q1")
BOTH = ("2027-W13",)  # Monday 29 March – Sunday 4 April
ONE = {"contract_amount": "100.00", "payment_amount": "40.00"}


async def one_of_each(http, company, rep_id, moment: datetime, day: date) -> None:
    clock.freeze(moment)
    rep = await company.relogin(rep_id)
    customer = (await create_customer(http, rep, f"客户 {moment.isoformat()}"))["id"]
    checkin = await http.post(
        "/v1/checkins",
        json={
            "customer_id": customer,
            "location": {"lat": 39.9, "lng": 116.4, "accuracy_m": 10},
            "client_recorded_at": moment.isoformat(),
        },
        headers=rep,
    )
    assert checkin.status_code == 201, checkin.text
    followup = await http.post(
        "/v1/followups",
        json={"customer_id": customer, "kind": "call", "text": "电话沟通"},
        headers=rep,
    )
    assert followup.status_code == 201, followup.text
    lead = await make_lead(http, rep, f"线索 {moment.isoformat()}")
    opportunity = await open_opportunity(http, rep, customer)
    await execute(
        "UPDATE opportunities SET status = 'won', closed_at = :t WHERE id = :o",
        t=moment,
        o=opportunity["id"],
    )
    await execute(
        "UPDATE leads SET status = 'converted', converted_by = :u, converted_at = :t WHERE id = :l",
        u=rep_id,
        t=moment,
        l=lead["id"],
    )
    signed = await contract(company.id, customer, rep_id, "100.00", signed_on=day)
    await payment(company.id, signed, rep_id, "40.00", day)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
async def test_each_measure_once_in_the_right_period(zone: str):
    local = ZoneInfo(zone)
    before = datetime(2027, 3, 31, 23, 30, tzinfo=local)
    after = datetime(2027, 4, 1, 0, 30, tzinfo=local)
    clock.freeze(before - timedelta(hours=1))
    async with client() as http:
        company = await signup(http, time_zone=zone)
        await execute(
            "UPDATE companies SET settings = settings || '{\"fiscal_year_start_month\": 4}'"
            " WHERE id = :c",
            c=company.id,
        )
        await make_pool(http, company.admin, "全部")
        rep_id, _ = await company.user("rep")
        for measure in MEASURES:
            for period in (*BEFORE, *AFTER, *BOTH):
                await create_target(
                    http,
                    company.admin,
                    subject="user",
                    subject_id=rep_id,
                    measure=measure,
                    period=period,
                    value="1000",
                )
        await one_of_each(http, company, rep_id, before, date(2027, 3, 31))
        await one_of_each(http, company, rep_id, after, date(2027, 4, 1))
        clock.freeze(after.astimezone(UTC) + timedelta(minutes=5))
        admin = await company.relogin_admin()
        found = {}
        for page_period in (*BEFORE, *AFTER, *BOTH):
            for target in await listed(http, admin, period=page_period):
                found[(target["measure"], target["period"])] = target["actual"]
        for measure in MEASURES:
            unit = ONE.get(measure, "1")
            twice = {"contract_amount": "200.00", "payment_amount": "80.00"}.get(measure, "2")
            for period in (*BEFORE, *AFTER):
                assert found[(measure, period)] == unit, (measure, period, zone)
            assert found[(measure, "2027-W13")] == twice, (measure, zone)
