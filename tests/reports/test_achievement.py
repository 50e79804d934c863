"""The achievement report on known data: target, actual, rate, pace on a known day; the roll-up
through three department levels with a rep who moved mid-month (counted where they were); the
thirds of a month; the default measures; visibility (rep, manager, admin, another company);
CSV."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.core import clock
from app.reports.achievement_schemas import Measure
from app.targets.models import MEASURES
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.reports.achievement_rows import followup, target
from tests.reports.money_rows import contract

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/v1/reports/achievement"


async def etag_of(http, url: str, headers: dict) -> dict[str, str]:
    return {"If-Match": (await http.get(url, headers=headers)).headers["etag"]}


async def world(http):
    """10 March 2027 (Shanghai). Tree: Acme → 华东 → 上海组 / 杭州组; Acme → 华北.

    王一 (上海组): 90,000.00 signed 5 Mar; target 300,000.00; two follow-ups, target 10.
    李二 (上海组, moved to 杭州组 after his first contract): 20,000.00 before the move (8 Mar),
      30,000.00 after it (9 Mar).
    张三 (华北): 8,000.00 on 2 Mar; February: 10,000.00 (5th), 5,000.00 (15th), 1,000.50 (25th).
    华东 target 200,000.00. A deleted target of 上海组 and a draft contract count for nothing.
    """
    clock.freeze(datetime(2027, 3, 10, 10, 0, tzinfo=SHANGHAI))
    company = await signup(http, "甲乙科技")
    east = await company.department("华东")
    shanghai = await company.department("上海组", east)
    hangzhou = await company.department("杭州组", east)
    north = await company.department("华北")
    wang_id, wang = await company.user("rep", shanghai, name="王一")
    li_id, li = await company.user("rep", shanghai, name="李二")
    zhang_id, zhang = await company.user("rep", north, name="张三")
    east_boss_id, east_boss = await company.user("manager", east, name="华东经理")
    sh_boss_id, sh_boss = await company.user("manager", shanghai, name="上海经理")
    cid = company.id
    c_wang = (await create_customer(http, wang, "王的客户"))["id"]
    c_li = (await create_customer(http, li, "李的客户"))["id"]
    c_zhang = (await create_customer(http, zhang, "张的客户"))["id"]

    await contract(cid, c_wang, wang_id, "90000.00", signed_on=date(2027, 3, 5))
    await contract(cid, c_wang, wang_id, "5000.00", status="draft", signed_on=date(2027, 3, 6))
    await contract(cid, c_li, li_id, "20000.00", signed_on=date(2027, 3, 8))
    moved = await http.patch(
        f"/v1/users/{li_id}",
        json={"department_id": hangzhou},
        headers=company.admin | await etag_of(http, f"/v1/users/{li_id}", company.admin),
    )
    assert moved.status_code == 200, moved.text
    await contract(cid, c_li, li_id, "30000.00", signed_on=date(2027, 3, 9))
    await contract(cid, c_zhang, zhang_id, "8000.00", signed_on=date(2027, 3, 2))
    await contract(cid, c_zhang, zhang_id, "10000.00", signed_on=date(2027, 2, 5))
    await contract(cid, c_zhang, zhang_id, "5000.00", signed_on=date(2027, 2, 15))
    await contract(cid, c_zhang, zhang_id, "1000.50", signed_on=date(2027, 2, 25))
    for day in (3, 9):
        await followup(cid, wang_id, c_wang, datetime(2027, 3, day, 15, 0, tzinfo=SHANGHAI))
    await followup(cid, wang_id, c_wang, datetime(2027, 4, 1, 0, 0, tzinfo=SHANGHAI))  # April

    await target(cid, "user", wang_id, "contract_amount", "2027-03", "300000.00")
    await target(cid, "user", wang_id, "followups", "2027-03", "10")
    await target(cid, "department", east, "contract_amount", "2027-03", "200000.00")
    await target(cid, "department", shanghai, "contract_amount", "2027-03", "1.00", deleted=True)
    await target(cid, "user", zhang_id, "contract_amount", "2027-02", "20000.00")
    await target(cid, "user", wang_id, "contract_amount", "2027-Q1", "900000.00")
    ids = {
        "east": east,
        "shanghai": shanghai,
        "hangzhou": hangzhou,
        "north": north,
        "wang": wang_id,
        "li": li_id,
        "zhang": zhang_id,
        "east_boss": east_boss_id,
        "sh_boss": sh_boss_id,
    }
    people = {"wang": wang, "li": li, "zhang": zhang, "east_boss": east_boss, "sh_boss": sh_boss}
    return company, ids, people


async def get(http, headers, status=200, **params):
    response = await http.get(URL, params=params, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def row(body, subject_id, measure="contract_amount"):
    [found] = [
        i for i in body["items"] if i["subject_id"] == subject_id and i["measure"] == measure
    ]
    return found


def test_the_schema_lists_the_measures():
    assert tuple(Measure.__args__) == MEASURES


async def test_target_actual_rate_and_pace_on_a_known_day():
    async with client() as http:
        company, ids, people = await world(http)
        body = await get(http, people["wang"], period="2027-03")
        assert (body["period"], body["period_kind"], body["since"], body["until"]) == (
            "2027-03",
            "month",
            "2027-03-01",
            "2027-03-31",
        )
        assert (body["today"], body["days"], body["days_elapsed"], body["days_left"]) == (
            "2027-03-10",
            31,
            10,
            21,
        )
        assert body["measures"] == ["contract_amount", "followups"]  # those with a target
        money = row(body, ids["wang"])
        assert money["subject"] == "user" and money["name"] == "王一"
        assert money["parent_id"] == ids["shanghai"] and money["level"] == 4
        assert money["unit"] == "money" and money["target_id"]
        assert (money["target"], money["actual"], money["rate"]) == (
            "300000.00",
            "90000.00",
            "0.3000",
        )
        assert (money["remaining"], money["daily_needed"]) == ("210000.00", "10000.00")
        assert (money["expected"], money["pace"], money["ahead"]) == (
            "96774.19",
            "0.9300",
            "-6774.19",
        )
        assert money["thirds"] == [
            {"third": "early", "since": "2027-03-01", "until": "2027-03-10", "actual": "90000.00"},
            {"third": "middle", "since": "2027-03-11", "until": "2027-03-20", "actual": "0.00"},
            {"third": "late", "since": "2027-03-21", "until": "2027-03-31", "actual": "0.00"},
        ]
        # A count: whole numbers; expected and the run rate two places.
        calls = row(body, ids["wang"], "followups")
        assert (calls["unit"], calls["target"], calls["actual"], calls["remaining"]) == (
            "count",
            "10",
            "2",
            "8",
        )
        assert (calls["rate"], calls["expected"], calls["pace"]) == ("0.2000", "3.23", "0.6192")
        assert (calls["daily_needed"], calls["ahead"]) == ("0.38", "-1.23")
        assert [t["actual"] for t in calls["thirds"]] == ["2", "0", "0"]

        # Default period: this month (company time).
        assert (await get(http, people["wang"]))["period"] == "2027-03"
        # A quarter: no thirds; the quarter's own target.
        quarter = row(await get(http, people["wang"], period="2027-Q1"), ids["wang"])
        assert (quarter["target"], quarter["actual"], quarter["thirds"]) == (
            "900000.00",
            "90000.00",
            None,
        )
        assert quarter["expected"] == "690000.00"  # 900,000 × 69 ÷ 90 days of Q1


async def test_a_finished_month_with_its_thirds():
    async with client() as http:
        company, ids, people = await world(http)
        body = await get(http, people["zhang"], period="2027-02")
        assert (body["days"], body["days_elapsed"], body["days_left"]) == (28, 28, 0)
        feb = row(body, ids["zhang"])
        assert (feb["target"], feb["actual"], feb["rate"]) == ("20000.00", "16000.50", "0.8000")
        assert (feb["remaining"], feb["daily_needed"], feb["expected"]) == (
            "3999.50",
            None,
            "20000.00",
        )
        assert (feb["pace"], feb["ahead"]) == ("0.8000", "-3999.50")
        assert [(t["until"], t["actual"]) for t in feb["thirds"]] == [
            ("2027-02-10", "10000.00"),
            ("2027-02-20", "5000.00"),
            ("2027-02-28", "1000.50"),
        ]


async def test_roll_up_through_three_levels_with_a_mover():
    async with client() as http:
        company, ids, _ = await world(http)
        body = await get(http, company.admin, period="2027-03", measure="contract_amount")
        assert body["measures"] == ["contract_amount"]
        company_row = body["items"][0]
        assert (company_row["subject"], company_row["subject_id"], company_row["name"]) == (
            "company",
            None,
            "甲乙科技",
        )
        assert (company_row["level"], company_row["parent_id"], company_row["actual"]) == (
            0,
            None,
            "148000.00",
        )
        assert company_row["target"] is None and company_row["rate"] is None
        root = company.root_department_id
        # Departments in path order, then users by name.
        departments = [
            (i["subject_id"], i["parent_id"], i["level"], i["actual"])
            for i in body["items"]
            if i["subject"] == "department"
        ]
        assert departments[0] == (root, None, 1, "148000.00")
        assert set(departments[1:]) == {
            (ids["east"], root, 2, "140000.00"),
            (ids["shanghai"], ids["east"], 3, "110000.00"),  # 王一 + 李二 before he moved
            (ids["hangzhou"], ids["east"], 3, "30000.00"),  # 李二 after
            (ids["north"], root, 2, "8000.00"),
        }
        east = row(body, ids["east"])
        assert (east["target"], east["rate"], east["remaining"]) == (
            "200000.00",
            "0.7000",
            "60000.00",
        )
        assert row(body, ids["shanghai"])["target"] is None  # its target is deleted
        li = row(body, ids["li"])
        assert (li["actual"], li["parent_id"], li["level"]) == ("50000.00", ids["hangzhou"], 4)
        users = [i["name"] for i in body["items"] if i["subject"] == "user"]
        assert users == sorted(users) and "Admin" in users

        # Drill-down: 华东's subtree only, no company row.
        body = await get(http, company.admin, period="2027-03", department=ids["east"])
        assert {i["subject"] for i in body["items"]} == {"department", "user"}
        departments = list(
            dict.fromkeys(i["subject_id"] for i in body["items"] if i["subject"] == "department")
        )
        assert departments[0] == ids["east"]
        assert set(departments[1:]) == {ids["shanghai"], ids["hangzhou"]}
        assert row(body, ids["shanghai"])["actual"] == "110000.00"
        assert {i["subject_id"] for i in body["items"] if i["subject"] == "user"} == {
            ids["wang"],
            ids["li"],
            ids["east_boss"],
            ids["sh_boss"],
        }
        body = await get(
            http, company.admin, period="2027-03", measure="contract_amount", user=ids["li"]
        )
        [one] = body["items"]
        assert (one["subject_id"], one["actual"]) == (ids["li"], "50000.00")


async def test_visibility():
    async with client() as http:
        company, ids, people = await world(http)
        march = {"period": "2027-03", "measure": "contract_amount"}
        # A rep: themselves only.
        body = await get(http, people["wang"], **march)
        assert [(i["subject"], i["subject_id"]) for i in body["items"]] == [("user", ids["wang"])]
        await get(http, people["wang"], 404, user=ids["sh_boss"], **march)  # a peer's figures
        await get(http, people["wang"], 404, department=ids["shanghai"], **march)
        assert (await get(http, people["wang"], user=ids["wang"], **march))["items"]
        # A manager: their subtree (上海组 now: 王一 and the manager; 李二 moved away, but his
        # contract made while there still counts for the department).
        body = await get(http, people["sh_boss"], **march)
        assert [i["subject_id"] for i in body["items"] if i["subject"] == "department"] == [
            ids["shanghai"]
        ]
        assert row(body, ids["shanghai"])["actual"] == "110000.00"
        assert {i["subject_id"] for i in body["items"] if i["subject"] == "user"} == {
            ids["wang"],
            ids["sh_boss"],
        }
        await get(http, people["sh_boss"], 404, department=ids["east"], **march)  # above
        await get(http, people["sh_boss"], 404, user=ids["zhang"], **march)
        await get(http, people["sh_boss"], 404, user=ids["li"], **march)  # moved out
        body = await get(http, people["east_boss"], **march)
        assert row(body, ids["east"])["actual"] == "140000.00"
        assert "company" not in {i["subject"] for i in body["items"]}
        await get(http, people["east_boss"], 404, department=ids["north"], **march)
        # Another company's ids are not found.
        other = await signup(http, "Other")
        await get(http, other.admin, 404, department=ids["east"], **march)
        await get(http, other.admin, 404, user=ids["wang"], **march)
        body = await get(http, other.admin, **march)
        assert [i["actual"] for i in body["items"] if i["subject"] == "company"] == ["0.00"]
        assert all(i["actual"] == "0.00" for i in body["items"])
        # No target in scope: no measure by default.
        body = await get(http, people["li"], period="2027-03")
        assert (body["measures"], body["items"]) == ([], [])
        # Bad periods.
        bad = await http.get(URL, params={"period": "2027-02-30"}, headers=company.admin)
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"
        bad = await http.get(URL, params={"period": "2027-13"}, headers=company.admin)
        assert bad.status_code == 422
        bad = await http.get(URL, params={"measure": "calls"}, headers=company.admin)
        assert bad.status_code == 422
        assert (await http.get(URL)).status_code == 401


async def test_csv():
    async with client() as http:
        company, ids, _ = await world(http)
        response = await http.get(
            URL,
            params={"period": "2027-03", "format": "csv", "department": ids["shanghai"]},
            headers=company.admin,
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "achievement-2027-03.csv" in response.headers["content-disposition"]
        text = response.content.decode("utf-8")
        assert text.startswith(
            "\ufeffsubject,subject_id,name,parent_id,level,measure,unit,period,target,actual,"
            "rate,remaining,days_left,daily_needed,expected,pace,ahead,early,middle,late\r\n"
        )
        lines = text.strip().split("\r\n")
        assert (
            f"department,{ids['shanghai']},上海组,{ids['east']},3,contract_amount,money,"
            in (lines[1])
        )
        assert lines[1].endswith(",110000.00,,,21,,,,,110000.00,0.00,0.00")
        wang = [line for line in lines if ids["wang"] in line and "contract_amount" in line]
        assert wang == [
            f"user,{ids['wang']},王一,{ids['shanghai']},4,contract_amount,money,2027-03,"
            "300000.00,90000.00,0.3000,210000.00,21,10000.00,96774.19,0.9300,-6774.19,"
            "90000.00,0.00,0.00"
        ]
        calls = [line for line in lines if ids["wang"] in line and "followups" in line]
        assert calls[0].endswith(",count,2027-03,10,2,0.2000,8,21,0.38,3.23,0.6192,-1.23,2,0,0")
