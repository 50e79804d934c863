"""Leads: create (pool choice, owner, client ids), duplicates against leads and customers,
list filters, edit rules, delete, visibility."""

import uuid

from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.leads.pool_helpers import make_lead, make_pool


async def test_no_pool_is_422_and_the_pool_is_chosen_by_region_and_industry():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        refused = await http.post("/v1/leads", json={"name": "张三"}, headers=rep)
        assert refused.status_code == 422 and refused.json()["code"] == "no_lead_pool"
        anywhere = await make_pool(http, company.admin, "全部")
        beijing = await make_pool(http, company.admin, "北京", region="北京")
        factory = await make_pool(http, company.admin, "制造业", industry="制造业")
        both = await make_pool(http, company.admin, "北京制造", region="北京", industry="制造业")
        assert (await make_lead(http, rep, "a", region="上海"))["pool_id"] == anywhere["id"]
        assert (await make_lead(http, rep, "b", region="北京"))["pool_id"] == beijing["id"]
        assert (await make_lead(http, rep, "c", industry="制造业"))["pool_id"] == factory["id"]
        lead = await make_lead(http, rep, "d", region="北京", industry="制造业")
        assert lead["pool_id"] == both["id"]
        unknown = await http.post(
            "/v1/leads", json={"name": "e", "pool_id": str(uuid.uuid4())}, headers=rep
        )
        assert unknown.status_code == 422 and unknown.json()["code"] == "no_lead_pool"


async def test_create_owner_rules_client_id_and_events():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        rep_id, rep = await company.user("rep", team)
        _, manager = await company.user("manager", team)
        west_id, _ = await company.user("rep", await company.department("West"))
        pool = await make_pool(http, company.admin, members=[{"department_id": team}])
        lead_id = str(uuid.uuid4())
        body = {
            "id": lead_id,
            "name": "张三",
            "company_name": "北京测试科技有限公司",
            "phone": "138-0000-0001",
            "email": "Zhang@Example.com",
            "source": "exhibition",
            "campaign": "2027 展会",
            "custom_fields": {"booth": "A1"},
        }
        created = await http.post("/v1/leads", json=body, headers=rep)
        assert created.status_code == 201, created.text
        lead = created.json()
        assert lead["owner_id"] == rep_id and lead["status"] == "new"
        assert lead["email"] == "zhang@example.com" and lead["pool_id"] == pool["id"]
        assert created.headers["etag"] == '"1"'
        again = await http.post("/v1/leads", json=body, headers=rep)
        assert again.status_code == 200 and again.json()["id"] == lead_id
        clash = await http.post("/v1/leads", json=body | {"name": "李四"}, headers=rep)
        assert clash.status_code == 409 and clash.json()["code"] == "id_conflict"
        # A rep may not give it to someone else; a manager pushes within the subtree.
        for_other = await http.post(
            "/v1/leads", json={"name": "x", "owner_id": west_id}, headers=rep
        )
        assert for_other.status_code == 403
        pushed = await http.post(
            "/v1/leads", json={"name": "y", "owner_id": rep_id}, headers=manager
        )
        assert pushed.status_code == 201 and pushed.json()["owner_id"] == rep_id
        far = await http.post("/v1/leads", json={"name": "z", "owner_id": west_id}, headers=manager)
        assert far.status_code == 403
        pooled = await make_lead(http, rep, "w", in_pool=True)
        assert pooled["owner_id"] is None and pooled["in_pool"] is True
        events = (await http.get(f"/v1/leads/{pushed.json()['id']}/events", headers=rep)).json()
        assert sorted(e["kind"] for e in events["items"]) == ["assigned", "created"]
        # The list: newest first, filters.
        mine = (await http.get("/v1/leads?owner=me", headers=rep)).json()["items"]
        assert [i["name"] for i in mine] == ["y", "张三"]
        found = (await http.get("/v1/leads?q=北京测试", headers=rep)).json()["items"]
        assert [i["id"] for i in found] == [lead_id]
        by_source = (await http.get("/v1/leads?source=exhibition", headers=manager)).json()
        assert [i["id"] for i in by_source["items"]] == [lead_id]
        in_pool = (await http.get("/v1/leads?owner=none", headers=rep)).json()["items"]
        assert [i["name"] for i in in_pool] == ["w"]
        page = (await http.get("/v1/leads?limit=1", headers=rep)).json()
        assert page["next_cursor"] is not None
        rest = await http.get(f"/v1/leads?limit=5&cursor={page['next_cursor']}", headers=rep)
        assert len(rest.json()["items"]) == 2


async def test_duplicates_against_leads_and_customers_without_leaking_names():
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        other_team = await company.department("Other")
        a_id, a = await company.user("rep", team)
        _, b = await company.user("rep", other_team)
        await make_pool(http, company.admin, members=[{"department_id": team}])
        await make_lead(http, a, "张三", phone="13800000001", company_name="甲公司")
        await create_customer(http, a, "乙科技有限公司", phone="13900000009")
        # b cannot see a's lead or a's customer: matched, but no name.
        refused = await http.post(
            "/v1/leads",
            json={"name": "王五", "phone": "+86 138 0000 0001", "company_name": "乙科技"},
            headers=b,
        )
        assert refused.status_code == 409 and refused.json()["code"] == "duplicate_lead"
        matches = refused.json()["duplicates"]
        assert {(m["kind"], m["matched_on"]) for m in matches} == {
            ("lead", "phone"),
            ("customer", "company_name"),
        }
        assert all(m["name"] is None and m["visible"] is False for m in matches)
        assert "张三" not in refused.text and "乙科技有限公司" not in refused.text
        # a sees their own records by name.
        check = await http.get(
            "/v1/leads/duplicates",
            params={"company_name": "甲公司", "phone": "13900000009"},
            headers=a,
        )
        assert check.status_code == 200
        seen = {(m["kind"], m["name"], m["visible"]) for m in check.json()["duplicates"]}
        assert seen == {("lead", "张三", True), ("customer", "乙科技有限公司", True)}
        # E-mail, normalised.
        await make_lead(http, a, "赵六", email="zhao@example.com")
        by_mail = await http.get(
            "/v1/leads/duplicates", params={"email": " ZHAO@example.com "}, headers=b
        )
        assert [m["matched_on"] for m in by_mail.json()["duplicates"]] == ["email"]
        # A pool lead the caller may claim.
        pooled = await make_lead(http, a, "钱七", phone="13700000007", in_pool=True)
        claimable = await http.get(
            "/v1/leads/duplicates", params={"phone": "13700000007"}, headers=a
        )
        match = claimable.json()["duplicates"][0]
        assert match["id"] == pooled["id"] and match["in_pool"] and match["claimable"]
        assert match["name"] == "钱七"
        none = await http.get("/v1/leads/duplicates", headers=a)
        assert none.json() == {"duplicates": []}


async def test_patch_status_rules_if_match_and_duplicate_recheck():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        _, other = await company.user("rep")
        await make_pool(http, company.admin)
        lead = await make_lead(http, rep, "张三", phone="13800000001")
        await make_lead(http, rep, "李四", phone="13800000002")
        url = f"/v1/leads/{lead['id']}"
        assert (await http.patch(url, json={"status": "qualified"}, headers=rep)).status_code == 428
        converted = await http.patch(
            url, json={"status": "converted"}, headers=rep | {"If-Match": '"1"'}
        )
        assert converted.status_code == 422
        assert converted.json()["code"] == "lead_status_not_settable"
        done = await http.patch(
            url, json={"status": "qualified", "title": "经理"}, headers=rep | {"If-Match": '"1"'}
        )
        assert done.status_code == 200 and done.json()["status"] == "qualified"
        assert done.json()["version"] == 2 and done.headers["etag"] == '"2"'
        dup = await http.patch(
            url, json={"phone": "13800000002"}, headers=rep | {"If-Match": '"2"'}
        )
        assert dup.status_code == 409 and dup.json()["code"] == "duplicate_lead"
        same = await http.patch(
            url, json={"phone": "138 0000 0001"}, headers=rep | {"If-Match": '"2"'}
        )
        assert same.status_code == 200
        assert (
            await http.patch(url, json={}, headers=other | {"If-Match": "*"})
        ).status_code == 404
        assert (await http.delete(url, headers=other)).status_code == 404
        assert (await http.delete(url, headers=rep)).status_code == 204
        assert (await http.get(url, headers=rep)).status_code == 404


async def test_visibility_rep_member_manager_sibling_manager_other_company():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        west = await company.department("West")
        owner_id, owner = await company.user("rep", east)
        _, colleague = await company.user("rep", east)
        _, east_manager = await company.user("manager", east)
        _, west_manager = await company.user("manager", west)
        await make_pool(http, company.admin, members=[{"department_id": east}])
        lead = await make_lead(http, owner, "张三")
        url = f"/v1/leads/{lead['id']}"
        assert (await http.get(url, headers=owner)).status_code == 200
        assert (await http.get(url, headers=east_manager)).status_code == 200
        assert (await http.get(url, headers=company.admin)).status_code == 200
        assert (await http.get(url, headers=colleague)).status_code == 404  # a pool member
        assert (await http.get(url, headers=west_manager)).status_code == 404
        stranger = await signup(http, "Other")
        assert (await http.get(url, headers=stranger.admin)).status_code == 404
        listed = (await http.get("/v1/leads", headers=west_manager)).json()["items"]
        assert listed == []
        # The manager above the owner edits it; the sibling manager cannot.
        patched = await http.patch(
            url, json={"note": "跟进中"}, headers=east_manager | {"If-Match": '"1"'}
        )
        assert patched.status_code == 200
        assert owner_id
