"""Targets CRUD: one per (subject, measure, period), exact values, periods in the company's
fiscal calendar, If-Match, soft delete, client ids; who reads and who writes."""

import uuid

from tests.helpers import client, signup
from tests.targets.helpers import create_target, execute, get, listed


async def test_create_get_edit_list_delete():
    async with client() as http:
        company = await signup(http)
        admin = company.admin
        body = {"subject": "company", "measure": "contract_amount", "period": "2027"}
        made = await create_target(http, admin, value="1200000", note="年度目标", **body)
        assert made["value"] == "1200000.00" and made["unallocated"] is None
        assert (made["period_kind"], made["starts_on"], made["ends_on"], made["last_day"]) == (
            "year",
            "2027-01-01",
            "2028-01-01",
            "2027-12-31",
        )
        assert (made["actual"], made["rate"]) == ("0.00", "0.0000")
        assert made["snapshot_actual"] is None and made["snapshot_at"] is None
        again = await http.post("/v1/targets", json={**body, "value": "5.00"}, headers=admin)
        assert again.status_code == 409 and again.json()["code"] == "target_exists"
        assert again.json()["existing_id"] == made["id"]
        read = await http.get(f"/v1/targets/{made['id']}", headers=admin)
        assert read.headers["etag"] == '"1"' and read.json()["note"] == "年度目标"
        url = f"/v1/targets/{made['id']}"
        missing = await http.patch(url, json={"value": "1.00"}, headers=admin)
        assert missing.status_code == 428
        stale = await http.patch(url, json={"value": "1.00"}, headers=admin | {"If-Match": '"9"'})
        assert stale.status_code == 412
        edited = await http.patch(
            url, json={"value": "1500000.50"}, headers=admin | {"If-Match": '"1"'}
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["value"] == "1500000.50" and edited.headers["etag"] == '"2"'
        assert edited.json()["note"] == "年度目标"
        assert [t["id"] for t in await listed(http, admin, period="2027")] == [made["id"]]
        assert await listed(http, admin, period="2027", measure="visits") == []
        assert await listed(http, admin, subject="department") == []
        assert (await http.delete(url, headers=admin)).status_code == 204
        assert (await http.get(url, headers=admin)).status_code == 404
        assert await listed(http, admin) == []
        # The period is free again.
        await create_target(http, admin, value="1.00", **body)


async def test_a_retry_with_the_same_id_answers_the_same_target():
    async with client() as http:
        company = await signup(http)
        body = {
            "id": str(uuid.uuid4()),
            "subject": "user",
            "subject_id": company.admin_id,
            "measure": "visits",
            "period": "2027-03",
            "value": "40",
        }
        first = await http.post("/v1/targets", json=body, headers=company.admin)
        second = await http.post("/v1/targets", json=body, headers=company.admin)
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["id"] == second.json()["id"] == body["id"]
        assert first.json()["value"] == "40"
        other = await http.post("/v1/targets", json={**body, "value": "41"}, headers=company.admin)
        assert other.status_code == 409 and other.json()["code"] == "id_conflict"


async def test_values_periods_and_subjects_are_checked():
    async with client() as http:
        company = await signup(http)
        admin = company.admin
        base = {"subject": "user", "subject_id": company.admin_id, "period": "2027-03"}

        async def refused(**body):
            response = await http.post("/v1/targets", json={**base, **body}, headers=admin)
            assert response.status_code == 422, response.text
            return response.json()["code"]

        assert await refused(measure="visits", value="12.5") == "whole_number_required"
        assert await refused(measure="contract_amount", value="12.345") == "validation_failed"
        assert await refused(measure="contract_amount", value=12) == "validation_failed"
        assert await refused(measure="visits", value="1", period="2027-W53") == "invalid_period"
        assert await refused(measure="visits", value="1", period="2027-02-30") == "invalid_period"
        assert await refused(measure="visits", value="1", period="2027-13") == "validation_failed"
        assert await refused(measure="visits", value="1", subject="company") == (
            "subject_id_required"
        )
        week = await create_target(
            http, admin, **base | {"period": "2026-W53"}, measure="visits", value="5"
        )
        assert (week["starts_on"], week["ends_on"]) == ("2026-12-28", "2027-01-04")
        # A fiscal year starting in April: 2027 is April 2027 – March 2028, its Q1 April–June.
        await execute(
            "UPDATE companies SET settings = settings || '{\"fiscal_year_start_month\": 4}'"
            " WHERE id = :c",
            c=company.id,
        )
        year = await create_target(
            http, admin, subject="company", measure="new_leads", period="2027", value="100"
        )
        assert (year["starts_on"], year["ends_on"]) == ("2027-04-01", "2028-04-01")
        quarter = await create_target(
            http, admin, subject="company", measure="new_leads", period="2027-Q1", value="30"
        )
        assert (quarter["starts_on"], quarter["last_day"]) == ("2027-04-01", "2027-06-30")
        unknown = await http.post(
            "/v1/targets",
            json={**base, "subject_id": str(uuid.uuid4()), "measure": "visits", "value": "1"},
            headers=admin,
        )
        assert unknown.status_code == 404


async def test_who_reads_and_who_writes():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, name="Globex")
        east = await company.department("东区")
        east_1 = await company.department("东区一组", east)
        west = await company.department("西区")
        manager_id, manager = await company.user("manager", east)
        rep_id, rep = await company.user("rep", east_1)
        peer_id, peer = await company.user("rep", east_1)
        west_rep_id, _ = await company.user("rep", west)
        admin = company.admin

        def body(subject, subject_id, measure="visits"):
            return {
                "subject": subject,
                "subject_id": subject_id,
                "measure": measure,
                "period": "2027-03",
                "value": "10",
            }

        # Reps read, never write.
        denied = await http.post("/v1/targets", json=body("user", rep_id), headers=rep)
        assert denied.status_code == 403
        # Managers: their subtree (departments and users in it), not the company, not outside.
        mine = await create_target(http, manager, **body("department", east_1))
        rep_target = await create_target(http, manager, **body("user", rep_id))
        peer_target = await create_target(http, manager, **body("user", peer_id))
        outside = await http.post("/v1/targets", json=body("department", west), headers=manager)
        assert outside.status_code == 404
        outsider = await http.post("/v1/targets", json=body("user", west_rep_id), headers=manager)
        assert outsider.status_code == 404
        whole = {**body("company", None)}
        assert (await http.post("/v1/targets", json=whole, headers=manager)).status_code == 403
        root = await create_target(http, admin, **body("department", company.root_department_id))
        west_target = await create_target(http, admin, **body("department", west))
        company_target = await create_target(http, admin, **whole)
        # Another company's department or user is absent; its targets too.
        foreign = await http.post(
            "/v1/targets", json=body("department", other.root_department_id), headers=admin
        )
        assert foreign.status_code == 404
        theirs = await create_target(http, other.admin, **body("company", None))
        assert (await http.get(f"/v1/targets/{theirs['id']}", headers=admin)).status_code == 404
        patch = await http.patch(
            f"/v1/targets/{theirs['id']}", json={"value": "1"}, headers=admin | {"If-Match": '"1"'}
        )
        assert patch.status_code == 404
        # Reps: their own and their departments' (east-1, east, the root), not a peer's.
        seen = {t["id"] for t in await listed(http, rep)}
        assert seen == {rep_target["id"], mine["id"], root["id"]}
        assert (await http.get(f"/v1/targets/{peer_target['id']}", headers=rep)).status_code == 404
        assert (await get(http, peer, peer_target["id"]))["value"] == "10"
        # Managers: their subtree and the departments above them; writing above them is 403.
        seen = {t["id"] for t in await listed(http, manager)}
        assert seen == {rep_target["id"], peer_target["id"], mine["id"], root["id"]}
        assert west_target["id"] not in seen and company_target["id"] not in seen
        above = await http.patch(
            f"/v1/targets/{root['id']}", json={"value": "1"}, headers=manager | {"If-Match": '"1"'}
        )
        assert above.status_code == 403
        assert (await http.delete(f"/v1/targets/{root['id']}", headers=rep)).status_code == 403
        assert (
            await http.get(f"/v1/targets/{west_target['id']}", headers=manager)
        ).status_code == 404
        # Admins: everything of their company.
        assert len(await listed(http, admin)) == 6
        assert manager_id


async def test_deleting_a_split_parent_needs_cascade():
    async with client() as http:
        company = await signup(http)
        admin = company.admin
        parent = await create_target(
            http, admin, subject="company", measure="visits", period="2027-Q1", value="90"
        )
        response = await http.post(
            f"/v1/targets/{parent['id']}/split", json={"by": "period"}, headers=admin
        )
        assert response.status_code == 201, response.text
        children = response.json()["items"]
        url = f"/v1/targets/{parent['id']}"
        refused = await http.delete(url, headers=admin)
        assert refused.status_code == 409 and refused.json()["code"] == "target_has_children"
        assert (
            await http.delete(url, params={"cascade": "true"}, headers=admin)
        ).status_code == 204
        for child in children:
            assert (await http.get(f"/v1/targets/{child['id']}", headers=admin)).status_code == 404
        assert await listed(http, admin) == []
