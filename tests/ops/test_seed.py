from scripts.seed_demo import DEMO_PASSWORD, seed
from tests.helpers import bearer, client


async def test_demo_seed_is_idempotent_and_its_logins_work():
    logins = await seed()
    again = await seed()
    assert logins == again
    assert {
        "admin@demo.outfield.test",
        "manager01@demo.outfield.test",
        "rep10@demo.outfield.test",
    } <= set(logins)
    async with client() as http:
        token = await http.post(
            "/v1/auth/token",
            data={"username": "rep01@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        assert token.status_code == 200
        rep = bearer(token.json()["access_token"])
        mine = (
            await http.get("/v1/customers", params={"owner": "me", "limit": 100}, headers=rep)
        ).json()
        # 15 demo customers each, and the customers of the leads the rep converted.
        converted = (
            await http.get("/v1/leads", params={"status": "converted", "limit": 100}, headers=rep)
        ).json()["items"]
        assert len(mine["items"]) == 15 + len(converted)
        assert sum(bool(c["location"]) for c in mine["items"]) == 15  # leads carry no location
        pool = (await http.get("/v1/pool/customers", params={"limit": 100}, headers=rep)).json()
        assert len(pool["items"]) == 100 and pool["next_cursor"]
        admin_token = await http.post(
            "/v1/auth/token",
            data={"username": "admin@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        admin = bearer(admin_token.json()["access_token"])
        users = (await http.get("/v1/users", params={"limit": 100}, headers=admin)).json()["items"]
        assert len(users) == 13
        flagged = (await http.get("/v1/checkins", params={"flagged": "true"}, headers=admin)).json()
        assert flagged["items"], "the demo has a few flagged check-ins for managers to review"
        logs = (await http.get("/v1/logs", headers=rep)).json()["items"]
        assert logs and logs[0]["figures"]["checkins"] == 2
        route = (await http.get("/v1/visit-plans", headers=rep)).json()
        assert len(route["items"]) == 3
        feed = (await http.get("/v1/feed", headers=admin)).json()["items"]
        assert len(feed) == 20 and any(item["like_count"] for item in feed)
        assert any(item["first_comments"] for item in feed)
        rep_inboxes = 0
        for number in range(1, 11):
            token = await http.post(
                "/v1/auth/token",
                data={"username": f"rep{number:02d}@demo.outfield.test", "password": DEMO_PASSWORD},
            )
            inbox = await http.get(
                "/v1/notifications/unread-count", headers=bearer(token.json()["access_token"])
            )
            rep_inboxes += inbox.json()["unread"] > 0
        assert rep_inboxes >= 5
        # Deals were recorded through the deal door: on the timeline, and the managers heard.
        manager = await http.post(
            "/v1/auth/token",
            data={"username": "manager01@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        inbox = (
            await http.get(
                "/v1/notifications",
                params={"limit": 100},
                headers=bearer(manager.json()["access_token"]),
            )
        ).json()["items"]
        assert any(n["kind"] == "deal_won" for n in inbox)


async def test_demo_seed_has_a_pipeline_with_gates_and_leads():
    await seed()
    async with client() as http:
        token = await http.post(
            "/v1/auth/token",
            data={"username": "admin@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        admin = bearer(token.json()["access_token"])
        [pipeline] = (await http.get("/v1/pipelines", headers=admin)).json()
        stages = (await http.get(f"/v1/pipelines/{pipeline['id']}", headers=admin)).json()
        first, second, third = stages["stages"][:3]
        assert first["required_evidence"] == ["followup"]
        assert [q["key"] for q in second["required_feedback"]] == ["need", "budget"]
        assert third["required_fields"] == ["amount", "expected_close_date"]

        async def opportunities(**params: str) -> list[dict]:
            page = await http.get(
                "/v1/opportunities", params={"limit": 100, **params}, headers=admin
            )
            assert page.status_code == 200, page.text
            return page.json()["items"]

        everything = await opportunities()
        assert len(everything) == 42  # 40 seeded, 2 from converted leads
        assert len(await opportunities(status="won")) == 6
        lost = await opportunities(status="lost")
        assert len(lost) == 5 and all(o["lost_reason"] for o in lost)
        assert len(await opportunities(stale="true")) == 4
        assert {o["stage_name"] for o in everything} >= {s["name"] for s in stages["stages"]}
        funnel = (await http.get("/v1/reports/funnel", headers=admin)).json()
        assert funnel["won"] == 6 and funnel["lost"] == 5
        pools = (await http.get("/v1/lead-pools", headers=admin)).json()["items"]
        assert len(pools) == 2
        leads = (await http.get("/v1/leads", params={"limit": 100}, headers=admin)).json()
        assert len(leads["items"]) == 16
        assert {lead["source"] for lead in leads["items"]} >= {"exhibition", "campaign", "referral"}
        assert sum(lead["status"] == "converted" for lead in leads["items"]) == 4
        assert any(lead["owner_id"] for lead in leads["items"] if lead["status"] != "converted")
        report = (
            await http.get("/v1/reports/leads", params={"group": "campaign"}, headers=admin)
        ).json()
        assert any(row.get("cost") for row in report["items"])


async def test_demo_seed_has_contracts_payments_and_an_approval_waiting():
    await seed()
    async with client() as http:

        def login_form(who: str) -> dict[str, str]:
            return {"username": f"{who}@demo.outfield.test", "password": DEMO_PASSWORD}

        admin = bearer(
            (await http.post("/v1/auth/token", data=login_form("admin"))).json()["access_token"]
        )
        lines = {
            p["product_line"]
            for p in (await http.get("/v1/products", headers=admin)).json()["items"]
        }
        assert lines == {"巡店系统", "数据服务"}
        contracts = (await http.get("/v1/contracts", params={"limit": 100}, headers=admin)).json()[
            "items"
        ]
        assert sum(c["status"] == "active" for c in contracts) == 4
        assert sum(c["status"] == "pending_approval" for c in contracts) == 1
        assert all(c["number"].startswith("HT-") for c in contracts)
        overdue = 0
        for contract in contracts:
            if contract["status"] != "active":
                continue
            assert contract["received"] != "0.00"
            instalments = (
                await http.get(f"/v1/contracts/{contract['id']}/payment-plans", headers=admin)
            ).json()["items"]
            overdue += sum(i["status"] == "overdue" for i in instalments)
        assert overdue == 1
        manager = bearer(
            (await http.post("/v1/auth/token", data=login_form("manager01"))).json()["access_token"]
        )
        mine = (
            await http.get(
                "/v1/approvals", params={"role": "approver", "status": "pending"}, headers=manager
            )
        ).json()["items"]
        assert len(mine) == 1
        ageing = (await http.get("/v1/reports/receivables", headers=admin)).json()
        assert ageing


async def test_demo_seed_has_this_years_targets_split_down_the_tree():
    from app.core.clock import now
    from app.fieldwork.periods import local_date

    await seed()
    await seed()  # idempotent: the second run makes none
    today = local_date(now(), "Asia/Shanghai")
    async with client() as http:
        token = await http.post(
            "/v1/auth/token",
            data={"username": "admin@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        admin = bearer(token.json()["access_token"])
        year = (
            await http.get("/v1/targets", params={"period": str(today.year)}, headers=admin)
        ).json()["items"]
        assert {(t["subject"], t["measure"]) for t in year} == {
            ("company", "contract_amount"),
            ("company", "visits"),
        }
        assert all(t["split_by"] == "period" and t["unallocated"] in ("0.00", "0") for t in year)
        money = next(t for t in year if t["measure"] == "contract_amount")
        assert money["value"] == "6000000.00" and money["unallocated"] == "0.00"
        month = f"{today.year}-{today.month:02d}"
        this_month = (
            await http.get("/v1/targets", params={"period": month, "limit": 100}, headers=admin)
        ).json()["items"]
        # The company, 6 departments and 13 people, for both measures.
        assert len(this_month) == 2 * (1 + 6 + 13)
        rep = bearer(
            (
                await http.post(
                    "/v1/auth/token",
                    data={"username": "rep01@demo.outfield.test", "password": DEMO_PASSWORD},
                )
            ).json()["access_token"]
        )
        mine = (await http.get("/v1/targets", params={"period": month}, headers=rep)).json()
        assert {t["subject"] for t in mine["items"]} == {"user", "department"}


async def test_demo_seed_has_four_weeks_of_attendance():
    from datetime import timedelta

    from app.core.clock import now
    from app.fieldwork.periods import local_date
    from scripts.seed_attendance import DAYS
    from scripts.seed_demo import demo_id

    await seed()
    await seed()  # idempotent: the second run makes none
    today = local_date(now(), "Asia/Shanghai")
    months = sorted({f"{d:%Y-%m}" for d in (today - timedelta(days=DAYS), today)})
    async with client() as http:
        token = await http.post(
            "/v1/auth/token",
            data={"username": "admin@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        admin = bearer(token.json()["access_token"])
        totals: dict[str, dict[str, int]] = {}
        for key in ("rep01", "rep02", "rep03", "rep04"):
            for month in months:
                sheet = await http.get(
                    "/v1/reports/attendance",
                    params={"month": month, "user": str(demo_id(f"user:{key}"))},
                    headers=admin,
                )
                assert sheet.status_code == 200, sheet.text
                [row] = sheet.json()["rows"]
                mine = totals.setdefault(key, {"late": 0, "absent": 0, "flagged": 0})
                for figure in mine:
                    mine[figure] += row[figure]
        assert totals == {
            "rep01": {"late": 3, "absent": 0, "flagged": 3},
            "rep02": {"late": 0, "absent": 1, "flagged": 0},
            "rep03": {"late": 0, "absent": 0, "flagged": 1},
            "rep04": {"late": 0, "absent": 0, "flagged": 0},
        }
        mocked = await http.get(
            "/v1/attendance",
            params={"user": str(demo_id("user:rep03")), "flagged": "true"},
            headers=admin,
        )
        [record] = mocked.json()["items"]
        assert [flag["code"] for flag in record["flags"]] == ["mock_location"]


async def test_demo_seed_has_todays_tasks_and_two_tickets():
    await seed()
    await seed()  # idempotent: the second run makes none
    async with client() as http:

        async def token(who: str) -> dict[str, str]:
            form = {"username": f"{who}@demo.outfield.test", "password": DEMO_PASSWORD}
            return bearer((await http.post("/v1/auth/token", data=form)).json()["access_token"])

        rep = await token("rep01")
        today = (await http.get("/v1/tasks", params={"due": "today"}, headers=rep)).json()
        titles = [item["title"] for item in today["items"] if item["kind"] == "task"]
        assert len(titles) == 4 and "团队例会 Team meeting" in titles
        listed = (await http.get("/v1/tickets", headers=rep)).json()["items"]
        assert sorted((t["status"], t["overdue"]) for t in listed) == [
            ("open", True),
            ("resolved", False),
        ]
        resolved = next(t for t in listed if t["status"] == "resolved")
        assert resolved["satisfaction"]["score"] == 5


async def test_demo_seed_masks_phones_and_lets_the_manager_reveal_one():
    await seed()
    async with client() as http:

        async def token(who: str) -> dict[str, str]:
            form = {"username": f"{who}@demo.outfield.test", "password": DEMO_PASSWORD}
            return bearer((await http.post("/v1/auth/token", data=form)).json()["access_token"])

        rep, manager = await token("rep01"), await token("manager01")
        admin = await token("admin")
        settings = (await http.get("/v1/company/settings", headers=admin)).json()
        assert settings["mask_phones"] is True
        # rep02's customer: masked for rep01, revealed in full to their manager (audited).
        rep02 = await token("rep02")
        theirs = next(
            c
            for c in (
                await http.get("/v1/customers", params={"owner": "me"}, headers=rep02)
            ).json()["items"]
            if c.get("phone")
        )
        pooled = (await http.get("/v1/pool/customers", headers=rep)).json()["items"]
        phones = [c["phone"] for c in pooled if c.get("phone")]
        assert phones and all("****" in p for p in phones)  # pool numbers: masked until claimed
        own = (await http.get("/v1/customers", params={"owner": "me"}, headers=rep)).json()
        assert any(c.get("phone") and "****" not in c["phone"] for c in own["items"])
        revealed = await http.post(f"/v1/customers/{theirs['id']}/phone-reveal", headers=manager)
        assert revealed.status_code == 200, revealed.text
        assert revealed.json()["phones"] and "****" not in revealed.json()["phones"][0]
