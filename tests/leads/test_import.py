"""Lead imports over HTTP, run by the job body: GBK and UTF-8 files, bad rows, duplicates,
progress, re-runs and assignment."""

from datetime import timedelta

import pytest

from app.core import clock
from app.leads.imports import job
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.leads.h4_helpers import (
    deliveries,
    execute,
    make_lead,
    make_pool,
    rows,
    scalar,
    subscribe,
)

GBK_FILE = (
    "姓名,公司,电话,邮箱,来源,活动,地区,行业\r\n"
    "张三,北京星河科技有限公司,13800138000,zhang@example.com,展会,2027春季展,北京,制造业\r\n"
    ",无名公司,13800138001,,展会,,北京,\r\n"  # line 3: no name
    "李四,上海云帆贸易有限公司,13800138002,bad-email,会议,,上海,贸易\r\n"  # line 4
    "王五,深圳海川电子有限公司,13800138003,wang@example.com,路边,,深圳,电子\r\n"  # line 5
    "赵六,广州明珠物流有限公司,13800138004,zhao@example.com,广告,,广州,物流\r\n"
    "钱七,杭州西湖茶业有限公司,138-0013-8000,qian@example.com,官网,,杭州,茶业\r\n"  # line 7: dup
).encode("gbk")


async def _post(http, headers, content: bytes, pool_id: str | None = None, name="leads.csv"):
    data = {"pool_id": pool_id} if pool_id else {}
    return await http.post(
        "/v1/leads/import",
        files={"file": (name, content, "text/csv")},
        data=data,
        headers=headers,
    )


async def _run() -> dict[str, int]:
    counts: dict[str, int] = {}
    await job.run_pending(counts)
    return counts


async def test_a_gbk_file_with_chinese_headers_imports_good_rows_and_reports_bad_ones():
    async with client() as http:
        company = await signup(http)
        pool_id = await make_pool(company.id)
        await subscribe(company.id, "lead.created")
        posted = await _post(http, company.admin, GBK_FILE, pool_id)
        assert posted.status_code == 202, posted.text
        body = posted.json()
        assert body["status"] == "queued" and body["encoding"] == "gb18030"
        assert body["total_rows"] == 6 and body["done_rows"] == 0
        assert posted.headers["location"] == f"/v1/imports/{body['id']}"

        assert await _run() == {"imports": 1, "rows": 6}
        done = (await http.get(f"/v1/imports/{body['id']}", headers=company.admin)).json()
        assert done["status"] == "done" and done["done_rows"] == 6
        assert (done["imported"], done["failed"]) == (2, 4)
        assert [(e["line"], e["field"], e["code"]) for e in done["errors"]] == [
            (3, "name", "required"),
            (4, "email", "invalid_email"),
            (5, "source", "invalid_source"),
            (7, "phone", "duplicate"),
        ]
        assert done["started_at"] and done["finished_at"] and not done["errors_truncated"]
        leads = await rows(
            "SELECT name, company_name, source, campaign, region, industry, phone_normalized, "
            "pool_id, owner_id, import_id, status FROM leads WHERE company_id = :c ORDER BY name",
            c=company.id,
        )
        assert [(r.name, r.source, r.region) for r in leads] == [
            ("张三", "exhibition", "北京"),
            ("赵六", "advertising", "广州"),
        ]
        assert leads[0].campaign == "2027春季展" and leads[0].industry == "制造业"
        assert all(str(r.import_id) == body["id"] and r.status == "new" for r in leads)
        assert all(str(r.pool_id) == pool_id and r.owner_id is None for r in leads)
        events = await scalar(
            "SELECT count(*) FROM lead_events WHERE company_id = :c AND kind = 'created'",
            c=company.id,
        )
        assert events == 2
        hooks = await deliveries(company.id, "lead.created")
        assert sorted(h["data"]["name"] for h in hooks) == ["张三", "赵六"]
        # The file is dropped once the import is done.
        assert await scalar("SELECT content FROM imports WHERE id = :i", i=body["id"]) is None


async def test_utf8_with_bom_imports():
    async with client() as http:
        company = await signup(http)
        await make_pool(company.id)  # the default: the company's first pool
        content = "\ufeff姓名,公司,手机\r\nAnn,Acme,13900000001\r\nBob,Beta,13900000002\r\n"
        posted = await _post(http, company.admin, content.encode("utf-8"))
        assert posted.status_code == 202 and posted.json()["encoding"] == "utf-8-sig"
        await _run()
        done = (await http.get(f"/v1/imports/{posted.json()['id']}", headers=company.admin)).json()
        assert (done["imported"], done["failed"], done["errors"]) == (2, 0, [])
        names = await rows(
            "SELECT name FROM leads WHERE company_id = :c ORDER BY name", c=company.id
        )
        assert [r.name for r in names] == ["Ann", "Bob"]


async def test_duplicates_against_existing_leads_customers_and_earlier_rows():
    async with client() as http:
        company = await signup(http)
        pool_id = await make_pool(company.id)
        await make_lead(company.id, pool_id, name="老线索", phone="13700000001")
        await make_lead(company.id, pool_id, name="老线索2", email="old@example.com")
        await create_customer(http, company.admin, "东方红机械有限公司", phone="010-66668888")
        content = (
            "name,company,phone,email\r\n"
            "A,新公司甲,13700000001,a@example.com\r\n"  # 2: an existing lead's phone
            "B,新公司乙,13700000002,OLD@example.com\r\n"  # 3: an existing lead's e-mail
            "C,东方红机械,13700000003,c@example.com\r\n"  # 4: a customer's name
            "D,新公司丁,01066668888,d@example.com\r\n"  # 5: a customer's phone
            "E,新公司戊,13700000005,e@example.com\r\n"  # 6: new
            "F,新公司己,13700000005,f@example.com\r\n"  # 7: line 6's phone
        ).encode()
        posted = await _post(http, company.admin, content, pool_id)
        await _run()
        done = (await http.get(f"/v1/imports/{posted.json()['id']}", headers=company.admin)).json()
        assert [(e["line"], e["field"], e["code"]) for e in done["errors"]] == [
            (2, "phone", "duplicate"),
            (3, "email", "duplicate"),
            (4, "company_name", "duplicate"),
            (5, "phone", "duplicate"),
            (7, "phone", "duplicate"),
        ]
        assert "lead" in done["errors"][0]["detail"] and "customer" in done["errors"][2]["detail"]
        assert "line 6" in done["errors"][4]["detail"]
        assert (done["imported"], done["failed"]) == (1, 5)


async def test_too_many_rows_too_large_and_unreadable_files_are_refused():
    async with client() as http:
        company = await signup(http)
        await make_pool(company.id)
        many = ("name\n" + "".join(f"n{i}\n" for i in range(50_001))).encode()
        refused = await _post(http, company.admin, many)
        assert refused.status_code == 413 and refused.json()["code"] == "import_too_large"
        assert refused.json()["limit"] == 50_000
        huge = b"name,note\n" + b"a," + b"x" * (10 * 1024 * 1024) + b"\n"
        refused = await _post(http, company.admin, huge)
        assert refused.status_code == 413 and refused.json()["code"] == "import_file_too_large"
        for content in (b"phone\n1\n", b"\x00\x01\x02", b""):
            refused = await _post(http, company.admin, content)
            assert refused.status_code == 422 and refused.json()["code"] == "import_unreadable"
        assert await scalar("SELECT count(*) FROM imports") == 0


async def test_an_import_needs_a_lead_pool():
    async with client() as http:
        company = await signup(http)
        refused = await _post(http, company.admin, b"name\nA\n")
        assert refused.status_code == 422 and refused.json()["code"] == "no_lead_pool"


async def test_exactly_fifty_thousand_rows_are_accepted():
    async with client() as http:
        company = await signup(http)
        await make_pool(company.id)
        content = ("name\n" + "".join(f"n{i}\n" for i in range(50_000))).encode()
        posted = await _post(http, company.admin, content)
        assert posted.status_code == 202 and posted.json()["total_rows"] == 50_000


async def test_who_may_import_and_see_imports():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, "Other")
        department = await company.department("华北")
        manager_id, manager = await company.user("manager", department)
        _, other_manager = await company.user("manager", department)
        _, rep = await company.user("rep", department)
        pool_id = await make_pool(company.id, member_department_ids=(department,))
        hidden_pool = await make_pool(company.id)
        content = b"name\nA\n"
        refused = await _post(http, rep, content, pool_id)
        assert refused.status_code == 403
        # A pool the manager's subtree is not a member of is invisible to them.
        assert (await _post(http, manager, content, hidden_pool)).status_code == 404
        assert (await _post(http, other.admin, content, pool_id)).status_code == 404
        posted = await _post(http, manager, content, pool_id)
        assert posted.status_code == 202
        import_id = posted.json()["id"]
        assert (await http.get(f"/v1/imports/{import_id}", headers=manager)).status_code == 200
        assert (
            await http.get(f"/v1/imports/{import_id}", headers=company.admin)
        ).status_code == 200
        assert (
            await http.get(f"/v1/imports/{import_id}", headers=other_manager)
        ).status_code == 404
        assert (await http.get(f"/v1/imports/{import_id}", headers=other.admin)).status_code == 404
        listed = (await http.get("/v1/imports", headers=manager)).json()
        assert [i["id"] for i in listed["items"]] == [import_id]
        assert listed["items"][0]["created_by"] == manager_id
        assert (await http.get("/v1/imports", headers=other_manager)).json()["items"] == []
        assert len((await http.get("/v1/imports", headers=company.admin)).json()["items"]) == 1


async def test_the_same_file_posted_again_while_queued_is_that_import():
    async with client() as http:
        company = await signup(http)
        await make_pool(company.id)
        content = b"name\nA\nB\n"
        first = await _post(http, company.admin, content)
        again = await _post(http, company.admin, content)
        assert first.status_code == 202 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        await _run()
        # Once it has run, the same file is a new import (its rows are duplicates now).
        later = await _post(http, company.admin, content)
        assert later.status_code == 202 and later.json()["id"] != first.json()["id"]
        await _run()
        done = (await http.get(f"/v1/imports/{later.json()['id']}", headers=company.admin)).json()
        assert (done["imported"], done["failed"]) == (2, 0)  # names alone are no duplicate key


async def test_progress_is_committed_batch_by_batch(monkeypatch: pytest.MonkeyPatch):
    async with client() as http:
        company = await signup(http)
        await make_pool(company.id)
        content = ("name,phone\n" + "".join(f"n{i},1380000{i:04d}\n" for i in range(7))).encode()
        import_id = (await _post(http, company.admin, content)).json()["id"]
        seen: list[tuple[str, int, int]] = []
        original = job._batch

        async def observed(*args, **kwargs):
            result = await original(*args, **kwargs)
            state = (await http.get(f"/v1/imports/{import_id}", headers=company.admin)).json()
            seen.append((state["status"], state["done_rows"], state["imported"]))
            return result

        monkeypatch.setattr(job, "BATCH", 3)
        monkeypatch.setattr(job, "_batch", observed)
        claimed = await job.claim()
        assert str(claimed) == import_id
        await job.run_import(claimed, batch_size=3)
        assert seen == [("running", 3, 3), ("running", 6, 6), ("running", 7, 7)]
        state = (await http.get(f"/v1/imports/{import_id}", headers=company.admin)).json()
        assert (state["status"], state["total_rows"], state["done_rows"]) == ("done", 7, 7)


async def test_a_rerun_never_imports_a_row_twice():
    async with client() as http:
        company = await signup(http)
        pool_id = await make_pool(company.id)
        await subscribe(company.id, "lead.created")
        content = "姓名,电话\n甲,13800000001\n乙,13800000002\n丙,13800000001\n".encode("gbk")
        import_id = (await _post(http, company.admin, content, pool_id)).json()["id"]
        await _run()
        assert await _run() == {}  # the job body again: nothing left to do
        before = (await http.get(f"/v1/imports/{import_id}", headers=company.admin)).json()

        # A crash after the rows were written but before the progress was (the worst case):
        # the import is queued again from the start, with its file.
        await execute(
            "UPDATE imports SET status = 'queued', done_rows = 0, imported = 0, failed = 0, "
            "errors = '[]'::jsonb, content = :content, finished_at = NULL WHERE id = :i",
            content=content,
            i=import_id,
        )
        await _run()
        after = (await http.get(f"/v1/imports/{import_id}", headers=company.admin)).json()
        for key in ("status", "total_rows", "done_rows", "imported", "failed", "errors"):
            assert after[key] == before[key], key
        assert (after["imported"], after["failed"]) == (2, 1)
        assert await scalar("SELECT count(*) FROM leads WHERE company_id = :c", c=company.id) == 2
        assert (
            await scalar("SELECT count(*) FROM lead_events WHERE company_id = :c", c=company.id)
            == 2
        )
        assert len(await deliveries(company.id, "lead.created")) == 2


async def test_a_stalled_running_import_is_resumed_from_its_progress():
    async with client() as http:
        company = await signup(http)
        await make_pool(company.id)
        content = b"name\nA\nB\nC\n"
        import_id = (await _post(http, company.admin, content)).json()["id"]
        claimed = await job.claim()
        assert str(claimed) == import_id
        # Its worker died: nobody else takes it until it has made no progress for a while.
        assert await job.claim() is None
        clock.advance(job.STALLED_AFTER + timedelta(seconds=1))
        assert await _run() == {"imports": 1, "rows": 3}
        state = (
            await http.get(f"/v1/imports/{import_id}", headers=await company.relogin_admin())
        ).json()
        assert (state["status"], state["imported"]) == ("done", 3)


async def test_a_second_run_of_the_same_import_stops_at_the_first_batch_it_did_not_claim():
    async with client() as http:
        company = await signup(http)
        await make_pool(company.id)
        import_id = (await _post(http, company.admin, b"name\nA\nB\n")).json()["id"]
        claimed = await job.claim()
        await job.run_import(claimed)
        # A late twin run (its progress view is stale) writes nothing.
        await execute("UPDATE imports SET status = 'running' WHERE id = :i", i=import_id)
        await job.run_import(claimed)
        assert await scalar("SELECT count(*) FROM leads WHERE company_id = :c", c=company.id) == 2
        state = (await http.get(f"/v1/imports/{import_id}", headers=company.admin)).json()
        assert state["imported"] == 2


async def test_imported_leads_are_assigned_evenly_by_the_pool():
    async with client() as http:
        company = await signup(http)
        rep_a, _ = await company.user("rep")
        rep_b, _ = await company.user("rep")
        pool_id = await make_pool(
            company.id, assignment="round_robin", member_user_ids=(rep_a, rep_b)
        )
        content = ("name,phone\n" + "".join(f"n{i},1390000{i:04d}\n" for i in range(5))).encode()
        await _post(http, company.admin, content, pool_id)
        await _run()
        owners = await rows(
            "SELECT owner_id, count(*) AS n FROM leads WHERE company_id = :c GROUP BY owner_id",
            c=company.id,
        )
        assert sorted(r.n for r in owners) == [2, 3]
        assert {str(r.owner_id) for r in owners} == {rep_a, rep_b}
        assigned = await scalar(
            "SELECT count(*) FROM lead_events WHERE company_id = :c AND kind = 'assigned'",
            c=company.id,
        )
        assert assigned == 5
