"""The work-done report: figures per rep, rolled up the department tree, scope and CSV."""

from datetime import UTC, datetime, timedelta

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.pipeline.pipeline_sql import default_pipeline, insert_move, insert_opportunity

NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
AT = {"lat": 39.9087, "lng": 116.3975}
RANGE = {"from": "2027-03-01", "to": "2027-03-31"}
ZERO_KINDS = {"call": 0, "visit": 0, "message": 0, "meeting": 0, "other": 0}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def check_in(http, headers, customer_id, when):
    body = {
        "customer_id": customer_id,
        "location": AT | {"accuracy_m": 10},
        "client_recorded_at": iso(when),
        "offline": True,
    }
    response = await http.post("/v1/checkins", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def world(http):
    company = await signup(http)
    team = await company.department("华东组")
    sub = await company.department("上海小组", team)
    other = await company.department("华南组")
    a_id, a = await company.user("rep", team, name="张三")
    b_id, b = await company.user("rep", sub, name="李四")
    c_id, c = await company.user("rep", other, name="王五")
    m_id, manager = await company.user("manager", team, name="赵经理")
    acme = await create_customer(http, a, "甲公司", location=AT)
    beta = await create_customer(http, a, "乙公司", location=AT)
    gamma = await create_customer(http, b, "丙公司", location=AT)
    made = await http.post(f"/v1/customers/{acme['id']}/contacts", json={"name": "小明"}, headers=a)
    assert made.status_code == 201, made.text
    for kind in ("call", "call", "visit"):
        made = await http.post(
            "/v1/followups",
            json={"customer_id": acme["id"], "kind": kind, "text": "跟进"},
            headers=a,
        )
        assert made.status_code == 201, made.text
    await check_in(http, a, acme["id"], NOW - timedelta(hours=3))
    await check_in(http, a, acme["id"], NOW - timedelta(hours=2))
    await check_in(http, a, beta["id"], NOW - timedelta(hours=1))
    await check_in(http, b, gamma["id"], NOW - timedelta(minutes=30))
    # February: outside the range.
    await check_in(http, b, gamma["id"], datetime(2027, 2, 28, 10, 0, tzinfo=UTC))
    pipeline = await default_pipeline(http, company.admin)
    first, second = pipeline["stages"][0], pipeline["stages"][1]
    opened = await insert_opportunity(
        company.id,
        acme["id"],
        pipeline["id"],
        first["id"],
        a_id,
        amount="100.00",
        created_at=NOW - timedelta(hours=1),
    )
    await insert_move(company.id, opened, first, second, NOW - timedelta(minutes=10))
    await insert_move(company.id, opened, second, first, NOW - timedelta(minutes=5))  # back
    await insert_opportunity(
        company.id,
        beta["id"],
        pipeline["id"],
        first["id"],
        a_id,
        amount="50.00",
        status="won",
        closed_at=NOW - timedelta(minutes=1),
    )
    logged = await http.post("/v1/logs", json={"period": "daily", "text": "今天"}, headers=a)
    assert logged.status_code == 201, logged.text
    return company, team, sub, other, (a_id, a), (b_id, b), (c_id, c), (m_id, manager)


def figures(row):
    return {k: v for k, v in row.items() if k not in ("kind", "id", "name", "parent_id", "level")}


A_FIGURES = {
    "new_customers": 2,
    "new_contacts": 1,
    "followups": 3,
    "followups_by_kind": ZERO_KINDS | {"call": 2, "visit": 1},
    "visits": 3,
    "customers_visited": 2,
    "leads_created": 0,
    "leads_converted": 0,
    "opportunities_created": 2,
    "opportunities_advanced": 1,
    "opportunities_won": 1,
    "logs_written": 1,
}
B_FIGURES = A_FIGURES | {
    "new_customers": 1,
    "new_contacts": 0,
    "followups": 0,
    "followups_by_kind": ZERO_KINDS,
    "visits": 1,
    "customers_visited": 1,
    "opportunities_created": 0,
    "opportunities_advanced": 0,
    "opportunities_won": 0,
    "logs_written": 0,
}


async def test_work_figures_per_rep_and_rolled_up_the_tree_for_a_manager():
    clock.freeze(NOW)
    async with client() as http:
        company, team, sub, _, (a_id, a), (b_id, _), _, (m_id, manager) = await world(http)
        response = await http.get("/v1/reports/work", params=RANGE, headers=manager)
        assert response.status_code == 200, response.text
        rows = response.json()["rows"]
        assert [(r["kind"], r["id"], r["parent_id"], r["level"]) for r in rows] == [
            ("department", team, None, 0),
            ("user", a_id, team, 1),
            ("user", m_id, team, 1),
            ("department", sub, team, 1),
            ("user", b_id, sub, 2),
        ]
        by_id = {r["id"]: r for r in rows}
        assert figures(by_id[a_id]) == A_FIGURES
        assert figures(by_id[b_id]) == B_FIGURES
        assert figures(by_id[sub]) == B_FIGURES
        assert figures(by_id[team]) == A_FIGURES | {
            "new_customers": 3,
            "visits": 4,
            "customers_visited": 3,
        }

        # The rep: their own row only; a peer or a department is 404.
        mine = (await http.get("/v1/reports/work", params=RANGE, headers=a)).json()["rows"]
        assert [(r["kind"], r["id"], r["level"], r["parent_id"]) for r in mine] == [
            ("user", a_id, 0, None)
        ]
        assert figures(mine[0]) == A_FIGURES
        peer = await http.get("/v1/reports/work", params=RANGE | {"user": b_id}, headers=a)
        assert peer.status_code == 404
        department = await http.get(
            "/v1/reports/work", params=RANGE | {"department": team}, headers=a
        )
        assert department.status_code == 404


async def test_the_admin_gets_the_company_row_and_drills_down():
    clock.freeze(NOW)
    async with client() as http:
        company, team, sub, other, (a_id, _), _, (c_id, _), _ = await world(http)
        rows = (await http.get("/v1/reports/work", params=RANGE, headers=company.admin)).json()[
            "rows"
        ]
        assert rows[0]["kind"] == "company" and rows[0]["level"] == 0
        assert figures(rows[0]) == A_FIGURES | {
            "new_customers": 3,
            "visits": 4,
            "customers_visited": 3,
        }
        root = rows[1]
        assert (root["kind"], root["id"], root["parent_id"], root["level"]) == (
            "department",
            company.root_department_id,
            company.id,
            1,
        )
        levels = {r["id"]: r["level"] for r in rows}
        assert levels[team] == 2 and levels[sub] == 3 and levels[other] == 2 and levels[c_id] == 3
        assert figures(next(r for r in rows if r["id"] == other))["visits"] == 0
        # Drill down to the sub-team.
        drilled = await http.get(
            "/v1/reports/work", params=RANGE | {"department": sub}, headers=company.admin
        )
        assert [r["id"] for r in drilled.json()["rows"]][0] == sub
        # Another company's department, a reversed or too long range.
        stranger = await signup(http, name="Other")
        assert (
            await http.get(
                "/v1/reports/work", params=RANGE | {"department": team}, headers=stranger.admin
            )
        ).status_code == 404
        assert (
            await http.get(
                "/v1/reports/work", params=RANGE | {"user": a_id}, headers=stranger.admin
            )
        ).status_code == 404
        reversed_range = await http.get(
            "/v1/reports/work",
            params={"from": "2027-03-31", "to": "2027-03-01"},
            headers=company.admin,
        )
        assert reversed_range.status_code == 422
        assert reversed_range.json()["code"] == "invalid_range"
        too_long = await http.get(
            "/v1/reports/work",
            params={"from": "2026-01-01", "to": "2027-03-01"},
            headers=company.admin,
        )
        assert too_long.status_code == 422


async def test_work_report_as_csv():
    clock.freeze(NOW)
    async with client() as http:
        company, team, *_, (m_id, manager) = await world(http)
        response = await http.get(
            "/v1/reports/work", params=RANGE | {"format": "csv"}, headers=manager
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        lines = response.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("kind,id,name,parent_id,level,new_customers,new_contacts,")
        assert "followups_call" in lines[0]
        assert lines[1].startswith(f"department,{team},华东组,,0,3,1,3,2,1,0,0,0,4,3,")
        assert any(line.startswith("user,") and ",张三," in line for line in lines)
        assert m_id
