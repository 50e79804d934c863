"""The caller's dashboard on a known data set: exact figures for a rep and for a manager."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.core import clock
from app.dashboard.service import birthday_days
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.pipeline.pipeline_sql import default_pipeline, execute, insert_opportunity
from tests.reports.money_rows import contract, payment, plan

# Wednesday 10 March 2027, 10:00 in Shanghai (02:00 UTC): day 10 of 31.
NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)
AT = {"lat": 39.9087, "lng": 116.3975}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def target(company_id, subject, subject_id, measure, value, period="2027-03"):
    starts, ends = {
        "2027-03": (date(2027, 3, 1), date(2027, 4, 1)),
        "2027-02": (date(2027, 2, 1), date(2027, 3, 1)),
    }[period]
    target_id = str(uuid.uuid4())
    await execute(
        "INSERT INTO targets (id, company_id, subject, subject_id, measure, period, period_kind,"
        " starts_on, ends_on, value, created_at, updated_at)"
        " VALUES (:id, :c, :s, :sid, :m, :p, 'month', :a, :b, :v, now(), now())",
        id=target_id,
        c=company_id,
        s=subject,
        sid=subject_id,
        m=measure,
        p=period,
        a=starts,
        b=ends,
        v=Decimal(value),
    )
    return target_id


async def check_in(http, headers, customer_id, when):
    body = {
        "customer_id": customer_id,
        "location": AT | {"accuracy_m": 10},
        "client_recorded_at": iso(when),
        "offline": True,
    }
    response = await http.post("/v1/checkins", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_birthdays_on_28_february_of_a_common_year_include_29_february():
    assert birthday_days(date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert birthday_days(date(2028, 2, 28)) == [(2, 28)]
    assert birthday_days(date(2028, 2, 29)) == [(2, 29)]
    assert birthday_days(date(2027, 3, 1)) == [(3, 1)]


async def test_the_dashboard_of_a_rep_and_of_their_manager_with_exact_figures():  # noqa: PLR0915
    clock.freeze(NOW)
    async with client() as http:
        company = await signup(http)
        team = await company.department("华东组")
        other_team = await company.department("华南组")
        rep_id, rep = await company.user("rep", team, name="张三")
        peer_id, peer = await company.user("rep", team, name="李四")
        outsider_id, outsider = await company.user("rep", other_team, name="王五")
        manager_id, manager = await company.user("manager", team, name="赵经理")

        # Rep: three new customers (new_customers 3), peer two, outsider one.
        acme = await create_customer(http, rep, "甲公司", location=AT)
        beta = await create_customer(http, rep, "乙公司", location=AT)
        gamma = await create_customer(http, rep, "丙公司", location=AT)
        await create_customer(http, peer, "丁公司", location=AT)
        await create_customer(http, peer, "戊公司", location=AT)
        await create_customer(http, outsider, "己公司", location=AT)

        # Today's plans: Acme (visited: done), Beta (planned).
        for sequence, customer in enumerate((acme, beta)):
            made = await http.post(
                "/v1/visit-plans",
                json={
                    "customer_id": customer["id"],
                    "plan_date": "2027-03-10",
                    "sequence": sequence,
                },
                headers=rep,
            )
            assert made.status_code == 201, made.text
        await check_in(http, rep, acme["id"], NOW - timedelta(hours=1))

        # Overdue follow-up (Acme), recycling soon (Beta: in 2 days, pool warns 3 days ahead),
        # Gamma recycles in 10 days: not soon.
        await execute(
            "UPDATE customers SET next_followup_at = :due WHERE id = :id",
            due=NOW - timedelta(days=1),
            id=acme["id"],
        )
        await execute(
            "UPDATE customers SET recycle_at = CASE id WHEN :beta THEN CAST(:soon AS timestamptz)"
            " ELSE CAST(:later AS timestamptz) END WHERE id IN (:beta, :gamma)",
            beta=beta["id"],
            gamma=gamma["id"],
            soon=NOW + timedelta(days=2),
            later=NOW + timedelta(days=10),
        )

        # Contacts: one born today, one on 29 February (not today), one tomorrow.
        for name, born in (("小明", "1990-03-10"), ("小红", "1992-02-29"), ("小刚", "1991-03-11")):
            made = await http.post(
                f"/v1/customers/{acme['id']}/contacts",
                json={"name": name, "birthday": born},
                headers=rep,
            )
            assert made.status_code == 201, made.text

        # Opportunities closing this month: 1000.00 at 30 %, 333.33 at 60 %; one next month and
        # one won do not count.
        pipeline = await default_pipeline(http, company.admin)
        first, second = pipeline["stages"][0], pipeline["stages"][1]
        await execute("UPDATE pipeline_stages SET probability = 30 WHERE id = :id", id=first["id"])
        await execute("UPDATE pipeline_stages SET probability = 60 WHERE id = :id", id=second["id"])
        for stage, amount, close in (
            (first, "1000.00", date(2027, 3, 31)),
            (second, "333.33", date(2027, 3, 15)),
            (first, "5000.00", date(2027, 4, 1)),
        ):
            await insert_opportunity(
                company.id,
                acme["id"],
                pipeline["id"],
                stage["id"],
                rep_id,
                amount=amount,
                expected_close_date=close,
            )
        await insert_opportunity(
            company.id,
            acme["id"],
            pipeline["id"],
            first["id"],
            rep_id,
            amount="700.00",
            expected_close_date=date(2027, 3, 20),
            status="won",
            closed_at=NOW - timedelta(days=2),
        )

        # Instalments: overdue 500.00 with 200.00 paid (300.00 open), due in 3 days 400.00
        # (the window's edge), due in 4 days (outside), one fully paid; a draft contract's
        # instalment does not count.
        signed = await contract(
            company.id, acme["id"], rep_id, "5000.00", signed_on=date(2027, 3, 2)
        )
        overdue = await plan(company.id, signed, date(2027, 3, 1), "500.00")
        await plan(company.id, signed, date(2027, 3, 13), "400.00")
        await plan(company.id, signed, date(2027, 3, 14), "450.00")
        paid = await plan(company.id, signed, date(2027, 3, 5), "100.00")
        await payment(
            company.id,
            signed,
            rep_id,
            "300.00",
            date(2027, 3, 6),
            allocations=[(overdue, "200.00"), (paid, "100.00")],
        )
        draft = await contract(company.id, acme["id"], rep_id, "900.00", status="draft")
        await plan(company.id, draft, date(2027, 3, 1), "900.00")
        # A contract received in full (paid before it had instalments, so unallocated) takes
        # no further payment: its instalment added since is nothing to chase.
        settled = await contract(
            company.id, acme["id"], rep_id, "800.00", status="completed", signed_on=date(2027, 2, 3)
        )
        await payment(company.id, settled, rep_id, "800.00", date(2027, 2, 3))
        await plan(company.id, settled, date(2027, 3, 4), "800.00")

        # Unread notifications: two unread, one read.
        for read in (None, None, NOW):
            await execute(
                "INSERT INTO notifications (id, company_id, user_id, kind, title, body,"
                " dedupe_key, read_at, push_state, created_at, updated_at)"
                " VALUES (gen_random_uuid(), :c, :u, 'test', 't', 'b', :k, :r, 'sent', now(),"
                " now())",
                c=company.id,
                u=rep_id,
                k=str(uuid.uuid4()),
                r=read,
            )

        # Targets of March: rep new_customers 10 (3 done), peer 4 (2 done), the outsider 1
        # (other department: not in the rep's rank), the team 20 (5 done), the other team 2;
        # rep's contract_amount 20000.00 (5000.00 signed); a February target is not shown.
        await target(company.id, "user", rep_id, "new_customers", "10")
        await target(company.id, "user", peer_id, "new_customers", "4")
        await target(company.id, "user", outsider_id, "new_customers", "1")
        await target(company.id, "user", rep_id, "contract_amount", "20000.00")
        await target(company.id, "department", team, "new_customers", "20")
        await target(company.id, "department", other_team, "new_customers", "2")
        await target(company.id, "user", rep_id, "visits", "5", period="2027-02")

        response = await http.get("/v1/me/dashboard", headers=rep)
        assert response.status_code == 200, response.text
        board = response.json()
        assert board["today"] == "2027-03-10" and board["month"] == "2027-03"
        mine = {t["measure"]: t for t in board["targets"]}
        assert set(mine) == {"contract_amount", "new_customers"}
        assert {k: mine["new_customers"][k] for k in mine["new_customers"] if k != "target_id"} == {
            "measure": "new_customers",
            "value": "10",
            "actual": "3",
            "rate": "0.3000",
            "expected": "3.23",  # 10 × 10 ÷ 31
            "pace": "0.9288",  # 3 ÷ 3.23
            "days_left": 21,
            "rank": 2,  # the peer: 2 of 4 = 0.5000
            "ranked": 2,
        }
        assert mine["contract_amount"]["actual"] == "5000.00"
        assert mine["contract_amount"]["rate"] == "0.2500"
        assert mine["contract_amount"]["expected"] == "6451.61"
        assert mine["contract_amount"]["pace"] == "0.7750"
        assert mine["contract_amount"]["rank"] == 1 and mine["contract_amount"]["ranked"] == 1
        assert [
            (t["department_id"], t["name"], t["value"], t["actual"], t["rate"], t["pace"])
            for t in board["department_targets"]
        ] == [(team, "华东组", "20", "5", "0.2500", "0.7752")]
        assert board["customers_held"] == 3
        assert board["holding_cap"] == 20
        assert board["recycling_soon"]["count"] == 1
        assert [c["name"] for c in board["recycling_soon"]["items"]] == ["乙公司"]
        assert [(p["customer_name"], p["status"]) for p in board["today_plans"]] == [
            ("甲公司", "done"),
            ("乙公司", "planned"),
        ]
        assert board["overdue_followups"]["count"] == 1
        assert board["overdue_followups"]["items"][0]["customer_id"] == acme["id"]
        assert board["closing_this_month"] == {
            "count": 2,
            "amount": "1333.33",
            "weighted_amount": "500.00",  # 1000 × 0.3 + 333.33 × 0.6 = 499.998
        }
        due = board["payments_due"]
        assert due["count"] == 2 and due["outstanding"] == "700.00"
        assert [
            (i["due_date"], i["amount"], i["paid"], i["outstanding"], i["status"])
            for i in due["items"]
        ] == [
            ("2027-03-01", "500.00", "200.00", "300.00", "overdue"),
            ("2027-03-13", "400.00", "0.00", "400.00", "pending"),
        ]
        assert board["birthdays"]["count"] == 1
        assert [(b["name"], b["customer_name"]) for b in board["birthdays"]["items"]] == [
            ("小明", "甲公司")
        ]
        assert board["unread_notifications"] == 2
        assert board["team"] is None

        # The peer: rank 1 of 2 (0.5000 beats 0.3000); nothing of the rep's own lists.
        peer_board = (await http.get("/v1/me/dashboard", headers=peer)).json()
        assert [(t["measure"], t["actual"], t["rank"]) for t in peer_board["targets"]] == [
            ("new_customers", "2", 1)
        ]
        assert peer_board["customers_held"] == 2
        assert peer_board["payments_due"]["count"] == 0
        assert peer_board["closing_this_month"]["amount"] == "0.00"
        assert peer_board["unread_notifications"] == 0

        # The manager: no own targets; the team's department target and the team behind pace.
        board = (await http.get("/v1/me/dashboard", headers=manager)).json()
        assert board["targets"] == []
        assert [(t["name"], t["actual"], t["pace"]) for t in board["department_targets"]] == [
            ("华东组", "5", "0.7752")
        ]
        assert [(t["name"], t["measure"], t["actual"]) for t in board["team"]["targets"]] == [
            ("华东组", "new_customers", "5")
        ]
        assert [
            (b["user_id"], b["measure"], b["value"], b["actual"], b["pace"])
            for b in board["team"]["behind_pace"]
        ] == [
            (rep_id, "contract_amount", "20000.00", "5000.00", "0.7750"),
            (rep_id, "new_customers", "10", "3", "0.9288"),
            (peer_id, "new_customers", "4", "2", "1.5504"),
        ]
        assert board["customers_held"] == 0 and board["today_plans"] == []

        # The admin: the company's view (both teams; the outsider among those behind).
        board = (await http.get("/v1/me/dashboard", headers=company.admin)).json()
        assert [(t["name"], t["actual"]) for t in board["team"]["targets"]] == [
            ("华东组", "5"),
            ("华南组", "1"),
        ] or [(t["name"], t["actual"]) for t in board["team"]["targets"]] == [
            ("华南组", "1"),
            ("华东组", "5"),
        ]
        assert outsider_id in {b["user_id"] for b in board["team"]["behind_pace"]}
        assert manager_id


async def test_another_companys_caller_sees_only_their_own_dashboard():
    clock.freeze(NOW)
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        await create_customer(http, rep, "甲公司")
        await target(company.id, "user", rep_id, "new_customers", "2")
        other = await signup(http, name="Other")
        _, stranger = await other.user("rep")
        board = (await http.get("/v1/me/dashboard", headers=stranger)).json()
        assert board["targets"] == [] and board["customers_held"] == 0
        mine = (await http.get("/v1/me/dashboard", headers=rep)).json()
        assert [(t["actual"], t["rate"]) for t in mine["targets"]] == [("1", "0.5000")]
        assert (await http.get("/v1/me/dashboard")).status_code == 401


async def test_the_dashboard_shows_todays_and_overdue_tasks_not_done_ones_nor_others():
    clock.freeze(NOW)  # 10:00 on 10 March 2027 in Shanghai
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        _, peer = await company.user("rep")

        async def task(title: str, due: datetime, headers: dict) -> dict:
            made = await http.post(
                "/v1/tasks", json={"title": title, "due_at": due.isoformat()}, headers=headers
            )
            assert made.status_code == 201, made.text
            return made.json()

        yesterday = await task("Yesterday", NOW - timedelta(days=1), rep)
        this_morning = await task("This morning", NOW - timedelta(hours=1), rep)
        tonight = await task("Tonight", NOW + timedelta(hours=13), rep)  # 23:00 local
        await task("Tomorrow", NOW + timedelta(hours=15), rep)  # 01:00 local on the 11th
        done = await task("Done already", NOW + timedelta(hours=2), rep)
        url = f"/v1/tasks/{done['id']}"
        marked = await http.patch(url, json={"done": True}, headers={**rep, "If-Match": '"1"'})
        assert marked.status_code == 200, marked.text
        await task("The peer's", NOW + timedelta(hours=1), peer)
        board = (await http.get("/v1/me/dashboard", headers=rep)).json()
        assert board["tasks_overdue"]["count"] == 2
        assert [t["task_id"] for t in board["tasks_overdue"]["items"]] == [
            yesterday["id"],
            this_morning["id"],
        ]
        assert board["tasks_today"] == {
            "count": 1,
            "items": [
                {
                    "task_id": tonight["id"],
                    "title": "Tonight",
                    "due_at": tonight["due_at"],
                    "customer_id": None,
                }
            ],
        }
