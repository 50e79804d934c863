"""The lead report's figures on a small known data set, per source, campaign and owner, and
its visibility."""

import uuid
from datetime import timedelta

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.leads.h4_helpers import execute, make_followup, make_lead, make_pool, scalar


async def _won(
    company_id: str, customer_id: str, owner_id: str, lead_id: str, amount: str, status="won"
):
    pipeline_id = await scalar(
        "SELECT id FROM pipelines WHERE company_id = :c AND is_default", c=company_id
    )
    stage_id = await scalar(
        "SELECT id FROM pipeline_stages WHERE pipeline_id = :p AND kind = :k "
        "ORDER BY position LIMIT 1",
        p=pipeline_id,
        k=status,
    )
    await execute(
        "INSERT INTO opportunities (id, company_id, customer_id, pipeline_id, stage_id, name, "
        "amount, lead_id, owner_id, status, stage_entered_at, version, created_at, updated_at) "
        "VALUES (:id, :c, :cu, :p, :s, 'deal', :amount, :lead, :owner, :status, now(), 1, now(), "
        "now())",
        id=str(uuid.uuid4()),
        c=company_id,
        cu=customer_id,
        p=pipeline_id,
        s=stage_id,
        amount=amount,
        lead=lead_id,
        owner=owner_id,
        status=status,
    )


async def _dataset(http):
    company = await signup(http)
    department = await company.department("华北")
    sibling = await company.department("华南")
    _, manager = await company.user("manager", department)
    rep_a, a = await company.user("rep", department, name="Alice")
    rep_b, _ = await company.user("rep", department, name="Bob")
    rep_c, _ = await company.user("rep", sibling, name="Carol")
    pool_id = await make_pool(company.id, member_department_ids=(department, sibling))
    for name, cost in (("春季展", "3000.00"), ("线上推广", "1000.00"), ("无人问津", "500.00")):
        created = await http.post(
            "/v1/lead-campaigns", json={"name": name, "cost": cost}, headers=company.admin
        )
        assert created.status_code == 201
    t0 = clock.now() - timedelta(days=2)
    customer = await create_customer(http, a, "成交客户")

    async def lead(owner, source, campaign, status, followup_hours=(), won=None, lost=None):
        lead_id = await make_lead(
            company.id,
            pool_id,
            name=f"lead-{uuid.uuid4().hex[:6]}",
            owner_id=owner,
            source=source,
            campaign=campaign,
            status=status,
            created_at=t0,
        )
        for hours in followup_hours:
            await make_followup(company.id, owner or rep_a, lead_id, t0 + timedelta(hours=hours))
        if won:
            await _won(company.id, customer["id"], rep_a, lead_id, won)
        if lost:
            await _won(company.id, customer["id"], rep_a, lead_id, lost, status="lost")
        return lead_id

    await lead(rep_a, "exhibition", "春季展", "converted", (2, 5), won="10000.00")
    await lead(rep_a, "exhibition", "春季展", "contacted", (4,))
    await lead(rep_b, "exhibition", "春季展", "new")
    await lead(rep_b, "website", "线上推广", "converted", (1,), won="5000.50", lost="9999.00")
    await lead(rep_c, "website", "线上推广", "new", (10,))
    await lead(None, "referral", None, "new")
    old = await make_lead(
        company.id,
        pool_id,
        name="old",
        owner_id=rep_a,
        source="exhibition",
        created_at=clock.now() - timedelta(days=30),
    )
    assert old
    today = clock.now().date()
    window = {"from": str(today - timedelta(days=7)), "to": str(today)}
    return company, manager, a, window


def _by_key(report):
    return {item["key"]: item for item in report["items"]}


async def test_figures_per_source_with_the_total():
    async with client() as http:
        company, _, _, window = await _dataset(http)
        response = await http.get(
            "/v1/reports/leads", params={"group": "source", **window}, headers=company.admin
        )
        assert response.status_code == 200, response.text
        report = response.json()
        rows = _by_key(report)
        assert list(rows) == ["exhibition", "website", "referral"]
        assert rows["exhibition"] | {"key": None} == {
            "key": None,
            "label": None,
            "campaign_id": None,
            "leads": 3,
            "contacted": 2,
            "converted": 1,
            "conversion": "0.3333",
            "median_hours_to_first_followup": "3.00",  # first follow-ups after 2 h and 4 h
            "followups_per_lead": "1.00",
            "cost": None,
            "cost_per_conversion": None,
            "won_amount": "10000.00",
        }
        website = rows["website"]
        assert (website["leads"], website["contacted"], website["converted"]) == (2, 2, 1)
        assert website["conversion"] == "0.5000"
        assert website["median_hours_to_first_followup"] == "5.50"  # 1 h and 10 h
        assert website["won_amount"] == "5000.50"  # the lost one does not count
        referral = rows["referral"]
        assert (referral["conversion"], referral["median_hours_to_first_followup"]) == (
            "0.0000",
            None,
        )
        assert referral["followups_per_lead"] == "0.00" and referral["won_amount"] == "0.00"
        total = report["total"]
        assert (total["leads"], total["contacted"], total["converted"]) == (6, 4, 2)
        assert total["conversion"] == "0.3333"
        assert total["median_hours_to_first_followup"] == "3.00"  # 1, 2, 4, 10 h
        assert total["followups_per_lead"] == "0.83"  # 5 ÷ 6
        assert total["won_amount"] == "15000.50"

        # Without a range the old lead counts too.
        everything = (await http.get("/v1/reports/leads", headers=company.admin)).json()
        assert everything["total"]["leads"] == 7


async def test_figures_per_campaign_with_cost_per_conversion():
    async with client() as http:
        company, _, _, window = await _dataset(http)
        report = (
            await http.get(
                "/v1/reports/leads", params={"group": "campaign", **window}, headers=company.admin
            )
        ).json()
        rows = _by_key(report)
        assert [item["key"] for item in report["items"]] == ["春季展", "线上推广", None, "无人问津"]
        assert (rows["春季展"]["cost"], rows["春季展"]["cost_per_conversion"]) == (
            "3000.00",
            "3000.00",
        )
        assert rows["春季展"]["campaign_id"] is not None
        assert (rows["线上推广"]["cost"], rows["线上推广"]["cost_per_conversion"]) == (
            "1000.00",
            "1000.00",
        )
        assert rows[None]["cost"] is None and rows[None]["leads"] == 1
        idle = rows["无人问津"]
        assert (idle["leads"], idle["conversion"], idle["cost"], idle["cost_per_conversion"]) == (
            0,
            None,
            "500.00",
            None,
        )
        assert (report["total"]["cost"], report["total"]["cost_per_conversion"]) == (
            "4500.00",
            "2250.00",
        )


async def test_per_user_for_a_manager_and_visibility():
    async with client() as http:
        company, manager, rep, window = await _dataset(http)
        report = (
            await http.get("/v1/reports/leads", params={"group": "user", **window}, headers=manager)
        ).json()
        # The manager's subtree (Alice, Bob) and the pool's unowned lead; not Carol's.
        by_label = {item["label"]: item for item in report["items"]}
        assert {label: item["leads"] for label, item in by_label.items()} == {
            "Alice": 2,
            "Bob": 2,
            None: 1,
        }
        assert by_label["Alice"]["converted"] == 1 and by_label["Alice"]["won_amount"] == "10000.00"
        assert report["total"]["leads"] == 5

        mine = (
            await http.get("/v1/reports/leads", params={"group": "source", **window}, headers=rep)
        ).json()
        assert {item["key"]: item["leads"] for item in mine["items"]} == {
            "exhibition": 2,
            "referral": 1,  # the unowned lead of a pool Alice may pull from
        }
        other = await signup(http, "Other")
        foreign = (await http.get("/v1/reports/leads", params=window, headers=other.admin)).json()
        assert foreign["items"] == [] and foreign["total"]["leads"] == 0
        assert foreign["total"]["conversion"] is None


async def test_csv_and_bad_input():
    async with client() as http:
        company, _, _, window = await _dataset(http)
        response = await http.get(
            "/v1/reports/leads",
            params={"group": "campaign", "format": "csv", **window},
            headers=company.admin,
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        lines = response.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("key,label,leads,contacted,converted,conversion")
        assert lines[1] == "春季展,,3,2,1,0.3333,3.00,1.00,3000.00,3000.00,10000.00"
        assert lines[-1].startswith("total,,6,4,2,0.3333")
        for params in (
            {"group": "region"},
            {"from": "2027-02-01", "to": "2027-01-01"},
            {"format": "xml"},
        ):
            bad = await http.get("/v1/reports/leads", params=params, headers=company.admin)
            assert bad.status_code == 422, params
