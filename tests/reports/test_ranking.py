"""The ranking report on known data: by rate and by actual, shared ranks and their stable
order, users without a target after those with one, `me` outside the page, departments,
visibility (rep: their department; manager: their subtree; admin: the company), CSV."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.core import clock
from app.targets.progress import rank
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.reports.achievement_rows import target
from tests.reports.money_rows import contract

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/v1/reports/ranking"
MARCH = {"period": "2027-03", "measure": "contract_amount"}


async def world(http):
    """10 March 2027. 一组: Alice (target 100,000, actual 50,000), Bob (200,000 / 100,000),
    Carol (100,000 / 50,000 — tied with Alice), Dave (no target, 300,000), Mia the manager (no
    target, nothing); 一组/小组 holds Dave's colleague Sam (no target, 1,000). 二组: Eve (10,000 /
    20,000). 一组 target 400,000 (actual 501,000), 二组 none."""
    clock.freeze(datetime(2027, 3, 10, 10, 0, tzinfo=SHANGHAI))
    company = await signup(http, "排行公司")
    team1 = await company.department("一组")
    small = await company.department("小组", team1)
    team2 = await company.department("二组")
    ids, heads = {}, {}
    for key, role, department, name in (
        ("alice", "rep", team1, "Alice"),
        ("bob", "rep", team1, "Bob"),
        ("carol", "rep", team1, "Carol"),
        ("dave", "rep", team1, "Dave"),
        ("mia", "manager", team1, "Mia"),
        ("sam", "rep", small, "Sam"),
        ("eve", "rep", team2, "Eve"),
    ):
        ids[key], heads[key] = await company.user(role, department, name=name)
    cid = company.id
    for key, amount in (
        ("alice", "50000.00"),
        ("bob", "100000.00"),
        ("carol", "50000.00"),
        ("dave", "300000.00"),
        ("sam", "1000.00"),
        ("eve", "20000.00"),
    ):
        customer = (await create_customer(http, heads[key], f"{key}的客户"))["id"]
        await contract(cid, customer, ids[key], amount, signed_on=date(2027, 3, 3))
    for key, value in (("alice", "100000"), ("bob", "200000"), ("carol", "100000")):
        await target(cid, "user", ids[key], "contract_amount", "2027-03", value)
    await target(cid, "user", ids["eve"], "contract_amount", "2027-03", "10000")
    await target(cid, "department", team1, "contract_amount", "2027-03", "400000")
    ids.update(team1=team1, team2=team2, small=small)
    return company, ids, heads


async def get(http, headers, status=200, **params):
    response = await http.get(URL, params={**MARCH, **params}, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def table(body):
    return [(e["name"], e["rank"], e["rate"], e["actual"]) for e in body["items"]]


def test_rank_shares_equal_figures_in_a_stable_order():
    a, b, c = "a", "b", "c"
    entries = [(c, "Carol", None, 5), (b, "Bob", 1, 5), (a, "Alice", 1, 5)]
    assert [(r.name, r.rank) for r in rank(entries)] == [("Alice", 1), ("Bob", 1), ("Carol", 3)]


async def test_company_ranking_by_rate_and_by_actual():
    async with client() as http:
        company, ids, _ = await world(http)
        body = await get(http, company.admin)
        assert (body["by"], body["level"], body["unit"], body["department_id"]) == (
            "rate",
            "user",
            "money",
            None,
        )
        assert body["total"] == 7 and body["next_offset"] is None
        assert table(body) == [
            ("Eve", 1, "2.0000", "20000.00"),
            ("Bob", 2, "0.5000", "100000.00"),
            ("Alice", 3, "0.5000", "50000.00"),  # tied with Carol: one rank, by name
            ("Carol", 3, "0.5000", "50000.00"),
            ("Dave", 5, None, "300000.00"),  # no target: after the rates, by actual
            ("Sam", 6, None, "1000.00"),
            ("Mia", 7, None, "0.00"),
        ]
        assert body["items"][0]["target"] == "10000.00"
        assert body["items"][0]["parent_id"] == ids["team2"]
        assert body["items"][4]["target"] is None
        assert body["me"] is None  # an admin without a target of their own is not ranked

        body = await get(http, company.admin, by="actual")
        assert table(body) == [
            ("Dave", 1, None, "300000.00"),
            ("Bob", 2, "0.5000", "100000.00"),
            ("Alice", 3, "0.5000", "50000.00"),
            ("Carol", 3, "0.5000", "50000.00"),
            ("Eve", 5, "2.0000", "20000.00"),
            ("Sam", 6, None, "1000.00"),
            ("Mia", 7, None, "0.00"),
        ]
        # Pages: the same order; ranks are kept across them.
        page = await get(http, company.admin, limit=2, offset=2)
        assert [(e["name"], e["rank"]) for e in page["items"]] == [("Alice", 3), ("Carol", 3)]
        assert page["next_offset"] == 4
        # An admin with a target of their own is ranked, and is `me`.
        await target(company.id, "user", company.admin_id, "contract_amount", "2027-03", "1")
        body = await get(http, company.admin, limit=1)
        assert body["me"]["name"] == "Admin" and body["me"]["rank"] == 5  # rate 0.0000
        assert body["total"] == 8


async def test_what_reps_and_managers_see():
    async with client() as http:
        company, ids, heads = await world(http)
        # A rep: their own department (not the one below it), peers' figures included.
        body = await get(http, heads["alice"], limit=1)
        assert body["department_id"] == ids["team1"] and body["total"] == 5
        assert table(body) == [("Bob", 1, "0.5000", "100000.00")]
        assert (body["me"]["name"], body["me"]["rank"], body["me"]["rate"]) == (
            "Alice",
            2,
            "0.5000",
        )
        assert body["next_offset"] == 1
        full = await get(http, heads["alice"])
        assert [e["name"] for e in full["items"]] == ["Bob", "Alice", "Carol", "Dave", "Mia"]
        await get(http, heads["alice"], 404, department=ids["team2"])
        await get(http, heads["alice"], 404, department=ids["small"])
        assert (await get(http, heads["alice"], department=ids["team1"]))["total"] == 5
        # Sam's department has only Sam.
        body = await get(http, heads["sam"])
        assert table(body) == [("Sam", 1, None, "1000.00")] and body["me"]["rank"] == 1
        # A manager: their subtree, themselves ranked among it.
        body = await get(http, heads["mia"], by="actual")
        assert [e["name"] for e in body["items"]] == [
            "Dave",
            "Bob",
            "Alice",
            "Carol",
            "Sam",
            "Mia",
        ]
        assert (body["me"]["name"], body["me"]["rank"]) == ("Mia", 6)
        assert (await get(http, heads["mia"], department=ids["small"]))["total"] == 1
        await get(http, heads["mia"], 404, department=ids["team2"])
        # An admin narrows to a department.
        body = await get(http, company.admin, department=ids["team2"])
        assert table(body) == [("Eve", 1, "2.0000", "20000.00")]
        # Another company's department is not found; its own ranking is empty.
        other = await signup(http, "Other")
        await get(http, other.admin, 404, department=ids["team1"])
        body = await get(http, other.admin)
        assert (body["total"], body["items"], body["me"]) == (0, [], None)
        bad = await http.get(URL, params={"period": "2027-W60"}, headers=company.admin)
        assert bad.status_code == 422
        bad = await http.get(URL, params={"period": "2027-W53"}, headers=company.admin)
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"
        bad = await http.get(URL, params={"by": "name"}, headers=company.admin)
        assert bad.status_code == 422
        assert (await http.get(URL)).status_code == 401


async def test_department_ranking():
    async with client() as http:
        company, ids, heads = await world(http)
        body = await get(http, company.admin, level="department")
        assert body["department_id"] is None
        assert [
            (e["name"], e["rank"], e["target"], e["actual"], e["rate"]) for e in body["items"]
        ] == [
            ("一组", 1, "400000.00", "501000.00", "1.2525"),  # rolls up 小组
            ("二组", 2, None, "20000.00", None),
        ]
        assert body["items"][0]["subject"] == "department"
        assert body["items"][0]["parent_id"] == company.root_department_id
        assert body["me"] is None  # the admin sits above both
        body = await get(
            http, company.admin, level="department", by="actual", department=ids["team1"]
        )
        assert [(e["name"], e["actual"]) for e in body["items"]] == [("小组", "1000.00")]
        # A manager: the departments under theirs; `me` the one holding them (none here).
        body = await get(http, heads["mia"], level="department")
        assert [e["name"] for e in body["items"]] == ["小组"] and body["me"] is None
        # A rep sees no department below their own.
        body = await get(http, heads["alice"], level="department")
        assert (body["items"], body["me"]) == ([], None)
        # `me` for departments: the ranked one the caller is in (an admin placed in 小组).
        _, boss = await company.user("admin", ids["small"], name="Boss")
        body = await get(http, boss, level="department")
        assert (body["me"]["name"], body["me"]["rank"]) == ("一组", 1)
        body = await get(http, boss, level="department", department=ids["team1"])
        assert body["me"]["name"] == "小组"
        body = await get(http, boss, level="department", department=ids["team2"])
        assert body["items"] == [] and body["me"] is None


async def test_csv():
    async with client() as http:
        company, ids, _ = await world(http)
        response = await http.get(
            URL, params={**MARCH, "format": "csv", "limit": 1}, headers=company.admin
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        text = response.content.decode("utf-8")
        assert text.startswith(
            "\ufeffrank,subject,subject_id,name,parent_id,target,actual,rate\r\n"
        )
        lines = text.strip().split("\r\n")
        assert len(lines) == 8  # every entry, not the page
        assert lines[1] == f"1,user,{ids['eve']},Eve,{ids['team2']},10000.00,20000.00,2.0000"
        assert lines[5] == f"5,user,{ids['dave']},Dave,{ids['team1']},,300000.00,"
        response = await http.get(
            URL, params={**MARCH, "format": "csv", "level": "department"}, headers=company.admin
        )
        lines = response.content.decode("utf-8").strip().split("\r\n")
        assert lines[1].startswith(f"1,department,{ids['team1']},一组,")
