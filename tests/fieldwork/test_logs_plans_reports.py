from datetime import UTC, datetime, timedelta

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup

# 2026-11-23 09:00 in Shanghai is 01:00 UTC.
MORNING = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
AT = {"lat": 39.9087, "lng": 116.3975}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def check_in(http, headers, customer_id, when, **extra):
    body = {
        "customer_id": customer_id,
        "location": AT | {"accuracy_m": 10},
        "client_recorded_at": iso(when),
        "offline": True,
    } | extra
    response = await http.post("/v1/checkins", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_daily_log_collects_the_days_figures_in_company_time():
    clock.freeze(MORNING)
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        acme = await create_customer(http, rep, "Acme", location=AT)
        await create_customer(http, rep, "Beta", location=AT)
        await http.post(
            "/v1/followups",
            json={"customer_id": acme["id"], "kind": "call", "text": "a"},
            headers=rep,
        )
        await http.post(
            "/v1/followups",
            json={"customer_id": acme["id"], "kind": "call", "text": "b"},
            headers=rep,
        )
        await check_in(http, rep, acme["id"], MORNING)
        await check_in(http, rep, acme["id"], MORNING + timedelta(hours=2))
        # 23:30 Shanghai time of the previous day: not today's figures.
        await check_in(http, rep, acme["id"], datetime(2026, 11, 22, 15, 30, tzinfo=UTC))
        response = await http.post(
            "/v1/logs",
            json={"period": "daily", "text": "今天拜访了 Acme", "customer_ids": [acme["id"]]},
            headers=rep,
        )
        assert response.status_code == 201, response.text
        log = response.json()
        assert log["period_start"] == "2026-11-23"
        assert log["figures"] == {
            "new_customers": 2,
            "followups": 2,
            "followups_by_kind": {"call": 2},
            "checkins": 2,
            "customers_visited": 1,
            "claims": 0,
            "releases": 0,
            "opportunities": {"new": 0, "advanced": 0, "won": 0},
            "contracted": "0.00",
            "received": "0.00",
            "targets": [],
        }
        again = await http.post("/v1/logs", json={"period": "daily", "text": "second"}, headers=rep)
        assert again.status_code == 409 and again.json()["code"] == "log_exists"
        timeline = (await http.get(f"/v1/customers/{acme['id']}/timeline", headers=rep)).json()[
            "items"
        ]
        assert "log.daily" in {item["kind"] for item in timeline}
        _, other_rep = await company.user("rep")
        assert (await http.get(f"/v1/logs/{log['id']}", headers=other_rep)).status_code == 404
        assert (await http.get(f"/v1/logs/{log['id']}", headers=company.admin)).status_code == 200
        assert rep_id


async def test_plan_is_done_after_a_check_in_that_day_and_missed_after_the_day_ends():
    clock.freeze(MORNING)  # Monday 09:00 in Shanghai
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        acme = await create_customer(http, rep, "Acme", location=AT)
        beta = await create_customer(http, rep, "Beta", location=AT)
        for sequence, customer in enumerate((beta, acme)):
            made = await http.post(
                "/v1/visit-plans",
                json={
                    "customer_id": customer["id"],
                    "plan_date": "2026-11-23",
                    "sequence": sequence,
                    "purpose": "demo",
                },
                headers=rep,
            )
            assert made.status_code == 201, made.text
        route = (
            await http.get("/v1/visit-plans", params={"date": "2026-11-23"}, headers=rep)
        ).json()
        assert [p["customer_name"] for p in route["items"]] == ["Beta", "Acme"]
        assert {p["status"] for p in route["items"]} == {"planned"}
        # 23:59 Shanghai, still the 23rd: done.
        await check_in(http, rep, acme["id"], datetime(2026, 11, 23, 15, 59, tzinfo=UTC))
        clock.freeze(datetime(2026, 11, 23, 16, 1, tzinfo=UTC))  # 00:01 on the 24th in Shanghai
        rep = await company.relogin(rep_id)
        route = (
            await http.get("/v1/visit-plans", params={"date": "2026-11-23"}, headers=rep)
        ).json()
        statuses = {p["customer_name"]: p["status"] for p in route["items"]}
        assert statuses == {"Acme": "done", "Beta": "missed"}


async def test_manager_plans_for_a_rep_of_the_subtree_but_a_rep_cannot_plan_for_others():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        rep_id, rep = await company.user("rep", team)
        other_id, _ = await company.user("rep", team)
        _, manager = await company.user("manager", team)
        customer = await create_customer(http, rep, "Acme")
        body = {"user_id": rep_id, "customer_id": customer["id"], "plan_date": "2026-12-01"}
        assert (await http.post("/v1/visit-plans", json=body, headers=manager)).status_code == 201
        refused = await http.post("/v1/visit-plans", json=body | {"user_id": other_id}, headers=rep)
        assert refused.status_code == 403


async def test_a_plan_the_caller_may_not_see_is_404_and_edits_need_if_match():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        other_team = await company.department("Other")
        rep_id, rep = await company.user("rep", team)
        _, colleague = await company.user("rep", team)
        _, manager = await company.user("manager", team)
        _, other_manager = await company.user("manager", other_team)
        customer = await create_customer(http, rep, "Acme")
        made = await http.post(
            "/v1/visit-plans",
            json={"customer_id": customer["id"], "plan_date": "2026-12-01"},
            headers=rep,
        )
        assert made.status_code == 201 and made.headers["etag"] == '"1"'
        url = f"/v1/visit-plans/{made.json()['id']}"
        for who, status in (
            (colleague, 404),
            (other_manager, 404),
            (manager, 200),
            (company.admin, 200),
            (rep, 200),
        ):
            seen = await http.get(url, headers=who)
            assert seen.status_code == status, (status, seen.text)
            if status == 404:
                assert seen.json()["code"] == "not_found"
                for method in ("PATCH", "DELETE"):
                    body = {"purpose": "x"} if method == "PATCH" else None
                    tried = await http.request(
                        method, url, json=body, headers=who | {"If-Match": '"1"'}
                    )
                    assert tried.status_code == 404, (method, tried.text)
            else:
                assert seen.headers["etag"] == '"1"'
        missing = await http.patch(url, json={"purpose": "demo"}, headers=rep)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        moved = await http.patch(url, json={"purpose": "demo"}, headers=rep | {"If-Match": '"1"'})
        assert moved.status_code == 200 and moved.headers["etag"] == '"2"'
        stale = await http.patch(url, json={"purpose": "x"}, headers=rep | {"If-Match": '"1"'})
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
        assert rep_id


async def test_log_edits_need_if_match_and_answer_etags():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        made = await http.post("/v1/logs", json={"period": "daily", "text": "first"}, headers=rep)
        assert made.status_code == 201 and made.headers["etag"] == '"1"'
        url = f"/v1/logs/{made.json()['id']}"
        assert (await http.get(url, headers=rep)).headers["etag"] == '"1"'
        missing = await http.patch(url, json={"text": "second"}, headers=rep)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        edited = await http.patch(url, json={"text": "second"}, headers=rep | {"If-Match": '"1"'})
        assert edited.status_code == 200 and edited.headers["etag"] == '"2"'
        assert edited.json()["text"] == "second"
        stale = await http.patch(url, json={"text": "third"}, headers=rep | {"If-Match": '"1"'})
        assert stale.status_code == 412


async def test_visit_statistics_on_a_known_small_data_set():
    # Afternoon: the morning's (offline) check-ins are in the past, so no clock skew.
    clock.freeze(MORNING + timedelta(hours=6))
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        team = await company.department("East Team", east)
        west = await company.department("West")
        a_id, rep_a = await company.user("rep", team, name="A")
        b_id, rep_b = await company.user("rep", west, name="B")
        _, east_manager = await company.user("manager", east)
        c1 = await create_customer(http, rep_a, "C1", location=AT)
        c2 = await create_customer(http, rep_a, "C2", location=AT)
        c3 = await create_customer(http, rep_b, "C3", location=AT)
        first = await check_in(http, rep_a, c1["id"], MORNING)
        await http.post(
            f"/v1/checkins/{first['id']}/checkout",
            json={"client_recorded_at": iso(MORNING + timedelta(minutes=30))},
            headers=rep_a,
        )
        second = await check_in(http, rep_a, c1["id"], MORNING + timedelta(hours=3))
        await http.post(
            f"/v1/checkins/{second['id']}/checkout",
            json={"client_recorded_at": iso(MORNING + timedelta(hours=4))},
            headers=rep_a,
        )
        await check_in(http, rep_a, c2["id"], MORNING + timedelta(hours=5), mock_location=True)
        await check_in(http, rep_b, c3["id"], MORNING)
        await http.post(
            "/v1/visit-plans",
            json={"customer_id": c2["id"], "plan_date": "2026-11-23"},
            headers=rep_a,
        )
        await http.post(
            "/v1/visit-plans",
            json={"customer_id": c1["id"], "plan_date": "2026-11-22"},
            headers=rep_a,
        )
        report = await http.get(
            "/v1/reports/visits",
            params={"from": "2026-11-22", "to": "2026-11-23"},
            headers=company.admin,
        )
        assert report.status_code == 200, report.text
        body = report.json()
        users = {u["name"]: u for u in body["users"]}
        assert users["A"]["visits"] == 3 and users["A"]["customers_visited"] == 2
        assert users["A"]["visits_per_customer"] == 1.5
        assert users["A"]["average_duration_s"] == 2700.0  # (1800 + 3600) / 2
        assert users["A"]["flagged_share"] == round(1 / 3, 4)
        assert users["A"]["plans_done"] == 1 and users["A"]["plans_missed"] == 1
        assert users["B"]["visits"] == 1
        departments = {d["name"]: d for d in body["departments"]}
        assert departments["East"]["visits"] == 3 and departments["East Team"]["visits"] == 3
        assert departments["West"]["visits"] == 1
        assert departments["Acme"]["visits"] == 4  # the root rolls everything up
        assert body["total"]["visits"] == 4 and body["total"]["customers_visited"] == 3
        scoped = (
            await http.get(
                "/v1/reports/visits",
                params={"from": "2026-11-22", "to": "2026-11-23"},
                headers=east_manager,
            )
        ).json()
        assert {u["name"] for u in scoped["users"]} >= {"A"} and "B" not in {
            u["name"] for u in scoped["users"]
        }
        assert scoped["total"]["visits"] == 3
        assert {d["name"] for d in scoped["departments"]} == {"East", "East Team"}
        one = (
            await http.get(
                "/v1/reports/visits",
                params={"from": "2026-11-22", "to": "2026-11-23", "department": team},
                headers=company.admin,
            )
        ).json()
        # Only the department asked for and below: no parent showing a partial total.
        assert [d["name"] for d in one["departments"]] == ["East Team"]
        assert one["total"]["visits"] == 3
        sibling = await http.get(
            "/v1/reports/visits",
            params={"from": "2026-11-22", "to": "2026-11-23", "user": b_id},
            headers=east_manager,
        )
        assert sibling.status_code == 404
        # A rep's figures are their own: a peer or a department is 404 to them, in every report.
        for params in ({"user": b_id}, {"department": team}):
            for path in ("/v1/reports/visits", "/v1/reports/sales", "/v1/reports/receivables"):
                peer = await http.get(
                    path,
                    params={"from": "2026-11-22", "to": "2026-11-23", **params}
                    if path == "/v1/reports/visits"
                    else params,
                    headers=rep_a,
                )
                assert peer.status_code == 404, (path, params, peer.text)
        own = await http.get(
            "/v1/reports/visits",
            params={"from": "2026-11-22", "to": "2026-11-23", "user": a_id},
            headers=rep_a,
        )
        assert own.status_code == 200 and own.json()["total"]["visits"] == 3


async def test_a_work_log_on_the_timeline_only_for_those_who_may_read_it():
    clock.freeze(MORNING)
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        _, other_rep = await company.user("rep")
        acme = await create_customer(http, rep, "Acme", location=AT)
        written = await http.post(
            "/v1/logs",
            json={"period": "daily", "text": "私人复盘 Acme", "customer_ids": [acme["id"]]},
            headers=rep,
        )
        assert written.status_code == 201, written.text
        released = await http.post(
            f"/v1/customers/{acme['id']}/release", json={"reason": "not mine"}, headers=rep
        )
        assert released.status_code == 200, released.text

        async def log_texts(headers: dict) -> list[str]:
            response = await http.get(f"/v1/customers/{acme['id']}/timeline", headers=headers)
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            return [i["summary"] for i in items if i["kind"].startswith("log.")]

        # In the pool every rep sees the customer, but the log stays its author's review.
        assert await log_texts(other_rep) == []
        assert await log_texts(rep) == ["私人复盘 Acme"]
        assert await log_texts(company.admin) == ["私人复盘 Acme"]


async def test_a_monthly_log_adds_opportunities_money_and_the_months_targets():
    import uuid
    from datetime import date
    from decimal import Decimal

    from tests.pipeline.pipeline_sql import (
        default_pipeline,
        execute,
        insert_move,
        insert_opportunity,
    )
    from tests.reports.money_rows import contract, payment

    now = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)
    clock.freeze(now)
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        acme = await create_customer(http, rep, "Acme", location=AT)
        pipeline = await default_pipeline(http, company.admin)
        first, second = pipeline["stages"][0], pipeline["stages"][1]
        opened = await insert_opportunity(
            company.id, acme["id"], pipeline["id"], first["id"], rep_id, amount="10.00"
        )
        await insert_move(company.id, opened, first, second, now - timedelta(hours=1))
        # Last month's: neither new nor won this month.
        await insert_opportunity(
            company.id,
            acme["id"],
            pipeline["id"],
            first["id"],
            rep_id,
            status="won",
            created_at=datetime(2027, 2, 1, 2, 0, tzinfo=UTC),
            closed_at=now - timedelta(days=1),
        )
        signed = await contract(
            company.id, acme["id"], rep_id, "1234.50", signed_on=date(2027, 3, 2)
        )
        await payment(company.id, signed, rep_id, "200.25", date(2027, 3, 5))
        await payment(company.id, signed, rep_id, "99.00", date(2027, 3, 6), confirmed=False)
        for measure, value, kind, period, starts, ends in (
            ("contract_amount", "5000.00", "month", "2027-03", date(2027, 3, 1), date(2027, 4, 1)),
            ("new_customers", "4", "month", "2027-03", date(2027, 3, 1), date(2027, 4, 1)),
            ("visits", "2", "day", "2027-03-10", date(2027, 3, 10), date(2027, 3, 11)),
        ):
            await execute(
                "INSERT INTO targets (id, company_id, subject, subject_id, measure, period,"
                " period_kind, starts_on, ends_on, value, created_at, updated_at)"
                " VALUES (:id, :c, 'user', :u, :m, :p, :k, :a, :b, :v, now(), now())",
                id=str(uuid.uuid4()),
                c=company.id,
                u=rep_id,
                m=measure,
                p=period,
                k=kind,
                a=starts,
                b=ends,
                v=Decimal(value),
            )
        response = await http.post(
            "/v1/logs", json={"period": "monthly", "text": "三月月报"}, headers=rep
        )
        assert response.status_code == 201, response.text
        figures = response.json()["figures"]
        assert figures["opportunities"] == {"new": 1, "advanced": 1, "won": 1}
        assert figures["contracted"] == "1234.50"
        assert figures["received"] == "200.25"
        assert [
            (t["measure"], t["period"], t["value"], t["actual"], t["rate"])
            for t in figures["targets"]
        ] == [
            ("contract_amount", "2027-03", "5000.00", "1234.50", "0.2469"),
            ("new_customers", "2027-03", 4, 1, "0.2500"),
        ]
        # The daily log: the day's target only.
        daily = await http.post("/v1/logs", json={"period": "daily", "text": "日报"}, headers=rep)
        assert [(t["measure"], t["actual"]) for t in daily.json()["figures"]["targets"]] == [
            ("visits", 0)
        ]
