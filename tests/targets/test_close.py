"""The period close: a target whose period ended in company time gets its snapshot once; a
later record changes the live actual, never the snapshot; a second run writes nothing."""

from datetime import UTC, date, datetime

from app.core import clock
from app.ops.service import record_run
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.reports.money_rows import contract
from tests.targets.helpers import create_target, get
from workers.jobs.targets import targets as close_job


async def test_snapshot_once_at_the_end_of_the_period_in_company_time():
    clock.freeze(datetime(2027, 3, 20, 4, 0, tzinfo=UTC))
    async with client() as http:
        shanghai = await signup(http)
        new_york = await signup(http, name="NY", time_zone="America/New_York")
        rep_id, rep = await shanghai.user("rep")
        customer = (await create_customer(http, rep, "甲公司"))["id"]
        await contract(shanghai.id, customer, rep_id, "100000.00", signed_on=date(2027, 3, 31))
        month = await create_target(
            http,
            shanghai.admin,
            subject="user",
            subject_id=rep_id,
            measure="contract_amount",
            period="2027-03",
            value="200000",
        )
        team = await create_target(
            http,
            shanghai.admin,
            subject="department",
            subject_id=shanghai.root_department_id,
            measure="contract_amount",
            period="2027-03",
            value="400000",
        )
        april = await create_target(
            http,
            shanghai.admin,
            subject="company",
            measure="contract_amount",
            period="2027-04",
            value="1",
        )
        ny = await create_target(
            http,
            new_york.admin,
            subject="company",
            measure="visits",
            period="2027-03",
            value="10",
        )
        # 31 March, 23:30 in Shanghai: not ended yet.
        clock.freeze(datetime(2027, 3, 31, 15, 30, tzinfo=UTC))
        counts: dict[str, int] = {}
        await close_job(counts)
        assert counts["closed"] == 0
        # 1 April, 00:30 in Shanghai (still 31 March, 12:30 in New York).
        clock.freeze(datetime(2027, 3, 31, 16, 30, tzinfo=UTC))
        run = await record_run("targets", close_job, trigger="cli")
        assert run.outcome == "succeeded"
        assert run.counts == {"closed": 2, "periods": 1, "companies": 1}
        admin = await shanghai.relogin_admin()
        closed = await get(http, admin, month["id"])
        assert (closed["snapshot_actual"], closed["snapshot_rate"]) == ("100000.00", "0.5000")
        assert closed["snapshot_at"] is not None
        assert (await get(http, admin, team["id"]))["snapshot_rate"] == "0.2500"
        assert (await get(http, admin, april["id"]))["snapshot_at"] is None
        ny_admin = await new_york.relogin_admin()
        assert (await get(http, ny_admin, ny["id"]))["snapshot_at"] is None
        # A contract entered late for March: the live actual moves, the snapshot does not.
        await contract(shanghai.id, customer, rep_id, "50000.00", signed_on=date(2027, 3, 30))
        again: dict[str, int] = {}
        await close_job(again)
        assert again["closed"] == 0
        later = await get(http, admin, month["id"])
        assert (later["actual"], later["rate"]) == ("150000.00", "0.7500")
        assert (later["snapshot_actual"], later["snapshot_at"]) == (
            "100000.00",
            closed["snapshot_at"],
        )
        # New York's March ends at its midnight.
        clock.freeze(datetime(2027, 4, 1, 4, 30, tzinfo=UTC))
        ny_run: dict[str, int] = {}
        await close_job(ny_run)
        assert ny_run["closed"] == 1
        ny_admin = await new_york.relogin_admin()
        closed_ny = await get(http, ny_admin, ny["id"])
        assert (closed_ny["snapshot_actual"], closed_ny["snapshot_rate"]) == ("0", "0.0000")
        admin = await shanghai.relogin_admin()
        listed = (
            await http.get("/v1/targets", params={"period": "2027-03"}, headers=admin)
        ).json()["items"]
        assert {t["snapshot_actual"] for t in listed} == {"100000.00"}
