"""The visited-customers report: per customer visited, ordering, visibility, tier, CSV."""

from datetime import UTC, datetime, timedelta

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.pipeline.pipeline_sql import execute

NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)
AT = {"lat": 39.9087, "lng": 116.3975}
FAR = {"lat": 39.9987, "lng": 116.3975}  # 10 km north: flagged far from the customer
RANGE = {"from": "2027-03-01", "to": "2027-03-31"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def check_in(http, headers, customer_id, when, where=AT):
    body = {
        "customer_id": customer_id,
        "location": where | {"accuracy_m": 10},
        "client_recorded_at": iso(when),
        "offline": True,
    }
    response = await http.post("/v1/checkins", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def test_visited_customers_by_visits_then_last_visit_within_visibility():
    clock.freeze(NOW)
    async with client() as http:
        company = await signup(http)
        team = await company.department("华东组")
        other = await company.department("华南组")
        a_id, a = await company.user("rep", team, name="张三")
        b_id, b = await company.user("rep", team, name="李四")
        _, outsider = await company.user("rep", other, name="王五")
        _, manager = await company.user("manager", team, name="赵经理")
        acme = await create_customer(http, a, "甲公司", location=AT)
        beta = await create_customer(http, a, "乙公司", location=AT)
        gamma = await create_customer(http, b, "丙公司", location=AT)
        south = await create_customer(http, outsider, "南方公司", location=AT)
        await execute("UPDATE customers SET tier = 'A' WHERE id = :id", id=acme["id"])
        # Acme: 2 visits by A; Beta: 1 (latest of all); Gamma: 1 by B, earlier; A's far check-in
        # at Gamma does not count. The outsider's visit is outside the manager's subtree.
        await check_in(http, a, acme["id"], NOW - timedelta(hours=5))
        await check_in(http, a, acme["id"], NOW - timedelta(hours=4))
        await check_in(http, a, beta["id"], NOW - timedelta(hours=1))
        await check_in(http, b, gamma["id"], NOW - timedelta(hours=2))
        await check_in(http, outsider, south["id"], NOW - timedelta(minutes=150))
        await check_in(http, a, beta["id"], NOW - timedelta(minutes=30), where=FAR)

        response = await http.get("/v1/reports/visited-customers", params=RANGE, headers=manager)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["total"] == 3 and report["truncated"] is False
        assert [
            (i["name"], i["visits"], i["visitors"], i["tier"], i["owner_id"])
            for i in report["items"]
        ] == [
            ("甲公司", 2, ["张三"], "A", a_id),
            ("乙公司", 1, ["张三"], None, a_id),
            ("丙公司", 1, ["李四"], None, b_id),
        ]
        assert report["items"][0]["last_visit_at"].startswith("2027-03-09T22:00:00")

        # A rep: their own visits only; another user is 404 to them.
        mine = (await http.get("/v1/reports/visited-customers", params=RANGE, headers=a)).json()
        assert [i["name"] for i in mine["items"]] == ["甲公司", "乙公司"]
        peer = await http.get(
            "/v1/reports/visited-customers", params=RANGE | {"user": b_id}, headers=a
        )
        assert peer.status_code == 404
        # Tier filter; another company's department.
        tiered = await http.get(
            "/v1/reports/visited-customers", params=RANGE | {"tier": "A"}, headers=manager
        )
        assert [i["name"] for i in tiered.json()["items"]] == ["甲公司"]
        untiered = await http.get(
            "/v1/reports/visited-customers",
            params=RANGE | {"tier": "untiered"},
            headers=company.admin,
        )
        assert [i["name"] for i in untiered.json()["items"]] == ["乙公司", "丙公司", "南方公司"]
        stranger = await signup(http, name="Other")
        assert (
            await http.get(
                "/v1/reports/visited-customers",
                params=RANGE | {"department": team},
                headers=stranger.admin,
            )
        ).status_code == 404

        # CSV: BOM, Chinese names, the visitors joined.
        csv = await http.get(
            "/v1/reports/visited-customers", params=RANGE | {"format": "csv"}, headers=manager
        )
        assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "customer_id,name,tier,owner_id,owner_name,visits,last_visit_at,visitors"
        assert lines[1].startswith(f"{acme['id']},甲公司,A,{a_id},张三,2,2027-03-09T22:00:00")
        assert lines[1].endswith(",张三")
