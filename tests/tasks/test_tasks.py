"""Tasks: assignment limits, shared tasks, done/undone, due lists with planned follow-ups,
the reminder (once, never for done tasks), visibility."""

from datetime import UTC, datetime

from sqlalchemy import select

from app.core import clock
from app.db import session_factory
from app.notifications.models import Notification
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from workers.jobs.reminders import reminders

# Monday 2026-11-23 09:00 in Shanghai.
MORNING = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


async def notices(user_id: str, kind: str) -> list[Notification]:
    async with session_factory()() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        )
        return list(rows)


async def team(http):  # noqa: ANN001, ANN201
    company = await signup(http, "Tasks Co", "Asia/Shanghai")
    east = await company.department("East")
    west = await company.department("West")
    manager = await company.user("manager", east, name="Manager")
    rep1 = await company.user("rep", east, name="Rep One")
    rep2 = await company.user("rep", east, name="Rep Two")
    outsider = await company.user("rep", west, name="West Rep")
    return company, manager, rep1, rep2, outsider


async def test_assignment_limits_shared_tasks_and_done():
    async with client() as http:
        company, (manager_id, manager), (rep1_id, rep1), (rep2_id, rep2), (west_id, _) = await team(
            http
        )
        base = {"title": "Quarterly review", "due_at": "2026-12-01T02:00:00Z"}
        shared = await http.post(
            "/v1/tasks", json=base | {"assignee_ids": [rep1_id, rep2_id]}, headers=manager
        )
        assert shared.status_code == 201, shared.text
        body = shared.json()
        assert sorted(body["assignee_ids"]) == sorted([rep1_id, rep2_id])
        assert body["kind"] == "task" and body["done"] is False and shared.headers["etag"] == '"1"'
        for rep_id in (rep1_id, rep2_id):
            (notice,) = await notices(rep_id, "task_assigned")
            assert "Quarterly review" in notice.body and "Manager" in notice.body
        assert await notices(manager_id, "task_assigned") == []
        # A manager outside their subtree, a rep for anyone else, an unknown id.
        outside = await http.post(
            "/v1/tasks", json=base | {"assignee_ids": [west_id]}, headers=manager
        )
        assert outside.status_code == 403 and outside.json()["code"] == "assignee_not_allowed"
        peer = await http.post("/v1/tasks", json=base | {"assignee_ids": [rep2_id]}, headers=rep1)
        assert peer.status_code == 403 and peer.json()["code"] == "assignee_not_allowed"
        unknown = await http.post(
            "/v1/tasks",
            json=base | {"assignee_ids": [rep1_id, "00000000-0000-4000-8000-000000000000"]},
            headers=rep1,
        )
        assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_assignee"
        assert unknown.json()["errors"][0]["loc"] == ["body", "assignee_ids", 1]
        own = await http.post("/v1/tasks", json=base, headers=rep1)
        assert own.status_code == 201 and own.json()["assignee_ids"] == [rep1_id]
        admin_any = await http.post(
            "/v1/tasks", json=base | {"assignee_ids": [west_id]}, headers=company.admin
        )
        assert admin_any.status_code == 201
        # Done by one assignee, seen by the other; If-Match required.
        url = f"/v1/tasks/{body['id']}"
        assert (await http.patch(url, json={"done": True}, headers=rep2)).status_code == 428
        done = await http.patch(url, json={"done": True}, headers=rep2 | {"If-Match": '"1"'})
        assert done.status_code == 200 and done.json()["done"] is True
        assert done.json()["done_by"] == rep2_id
        seen = (await http.get(url, headers=rep1)).json()
        assert seen["done"] is True and seen["version"] == 2
        stale = await http.patch(url, json={"done": False}, headers=rep1 | {"If-Match": '"1"'})
        assert stale.status_code == 412
        undone = await http.patch(url, json={"done": False}, headers=rep1 | {"If-Match": '"2"'})
        assert undone.json()["done"] is False and undone.json()["done_at"] is None
        # Visibility: the west rep and another company do not see it; a rep's own task is not
        # their peer's.
        _, west = await company.user("rep", (await company.department("South")), name="S")
        assert (await http.get(url, headers=west)).status_code == 404
        other = await signup(http, "Other Co")
        assert (await http.get(url, headers=other.admin)).status_code == 404
        mine = f"/v1/tasks/{own.json()['id']}"
        assert (await http.get(mine, headers=rep2)).status_code == 404
        assert (await http.get(mine, headers=manager)).status_code == 200


async def test_due_lists_in_company_time_with_planned_followups():
    clock.freeze(MORNING)
    async with client() as http:
        company, (_, manager), (rep1_id, rep1), (rep2_id, _), (west_id, _) = await team(http)
        acme = await create_customer(http, rep1, "Acme")

        async def task(title: str, due: str) -> str:
            made = await http.post("/v1/tasks", json={"title": title, "due_at": due}, headers=rep1)
            assert made.status_code == 201, made.text
            return made.json()["id"]

        yesterday = await task("Yesterday", "2026-11-22T03:00:00Z")
        late_today = await task("Tonight", "2026-11-23T15:30:00Z")  # 23:30 local: today
        early = await task("Early", "2026-11-23T00:30:00Z")  # 08:30 local: today, overdue
        sunday = await task("Sunday", "2026-11-29T10:00:00Z")  # 18:00 local Sunday: this week
        monday = await task("Next Monday", "2026-11-30T01:00:00Z")  # next week
        followup = await http.post(
            "/v1/followups",
            json={
                "customer_id": acme["id"],
                "kind": "call",
                "text": "Call again at noon",
                "next_followup_at": "2026-11-23T04:00:00Z",
            },
            headers=rep1,
        )
        assert followup.status_code == 201

        async def listed(headers: dict, **params) -> list[tuple[str, str]]:
            response = await http.get("/v1/tasks", params=params, headers=headers)
            assert response.status_code == 200, response.text
            return [(item["kind"], item["id"]) for item in response.json()["items"]]

        assert await listed(rep1, due="today") == [
            ("task", early),
            ("followup", acme["id"]),
            ("task", late_today),
        ]
        assert await listed(rep1, due="overdue") == [("task", yesterday), ("task", early)]
        week = await listed(rep1, due="week")
        assert week == [
            ("task", early),
            ("followup", acme["id"]),
            ("task", late_today),
            ("task", sunday),
        ]
        everything = await listed(rep1, limit=2)
        assert everything == [("task", yesterday), ("task", early)]
        page = await http.get("/v1/tasks", params={"limit": 2}, headers=rep1)
        second = await http.get(
            "/v1/tasks", params={"limit": 10, "cursor": page.json()["next_cursor"]}, headers=rep1
        )
        rest = [(i["kind"], i["id"]) for i in second.json()["items"]]
        assert rest == [
            ("followup", acme["id"]),
            ("task", late_today),
            ("task", sunday),
            ("task", monday),
        ]
        item = next(i for i in second.json()["items"] if i["kind"] == "followup")
        assert item["read_only"] is True and item["title"] == "Acme" and item["version"] is None
        assert item["assignee_ids"] == [rep1_id] and item["due_at"].startswith("2026-11-23T04:00")
        assert await listed(rep1, kind="task", due="today") == [
            ("task", early),
            ("task", late_today),
        ]
        # A follow-up without a next date clears the planned one.
        await http.post(
            "/v1/followups",
            json={"customer_id": acme["id"], "kind": "visit", "text": "Done"},
            headers=rep1,
        )
        assert ("followup", acme["id"]) not in await listed(rep1, due="today")
        # Done tasks leave the overdue list.
        await http.patch(
            f"/v1/tasks/{early}", json={"done": True}, headers=rep1 | {"If-Match": '"1"'}
        )
        assert await listed(rep1, due="overdue") == [("task", yesterday)]
        # Managers may look at their subtree's people; reps only at themselves.
        assert await listed(manager, user=rep1_id, due="overdue") == [("task", yesterday)]
        peer = await http.get("/v1/tasks", params={"user": rep2_id}, headers=rep1)
        assert peer.status_code == 404
        outside = await http.get("/v1/tasks", params={"user": west_id}, headers=manager)
        assert outside.status_code == 404
        assert (
            await http.get("/v1/tasks", params={"due": "later"}, headers=rep1)
        ).status_code == 422
        other = await signup(http, "Other Co")
        assert (await http.get(f"/v1/tasks/{early}", headers=other.admin)).status_code == 404
        assert company.id


async def test_the_reminder_goes_once_to_every_assignee_and_never_for_done_tasks():
    clock.freeze(MORNING)
    async with client() as http:
        company, (manager_id, manager), (rep1_id, rep1), (rep2_id, _), _ = await team(http)
        base = {"due_at": "2026-11-23T02:00:00Z", "remind_before_min": 30}  # 10:00 local
        shared = await http.post(
            "/v1/tasks",
            json=base | {"title": "Demo", "assignee_ids": [rep1_id, rep2_id]},
            headers=manager,
        )
        finished = await http.post("/v1/tasks", json=base | {"title": "Finished"}, headers=rep1)
        silent = await http.post(
            "/v1/tasks", json={"title": "No reminder", "due_at": base["due_at"]}, headers=rep1
        )
        assert shared.status_code == finished.status_code == silent.status_code == 201
        done = await http.patch(
            f"/v1/tasks/{finished.json()['id']}",
            json={"done": True},
            headers=rep1 | {"If-Match": '"1"'},
        )
        assert done.status_code == 200
        counts: dict = {}
        clock.freeze(datetime(2026, 11, 23, 1, 29, tzinfo=UTC))  # 31 minutes before
        await reminders(counts)
        assert counts["task_reminders"] == 0
        clock.freeze(datetime(2026, 11, 23, 1, 31, tzinfo=UTC))  # 29 minutes before
        await reminders(counts)
        assert counts["task_reminders"] == 1
        for rep_id in (rep1_id, rep2_id):
            (notice,) = await notices(rep_id, "task_due")
            assert str(notice.subject_id) == shared.json()["id"]
            assert "Demo" in notice.body and "2026-11-23 10:00" in notice.body
        assert await notices(manager_id, "task_due") == []
        clock.freeze(datetime(2026, 11, 23, 1, 45, tzinfo=UTC))
        await reminders(counts)
        assert counts["task_reminders"] == 0 and len(await notices(rep1_id, "task_due")) == 1
        got = await http.get(
            f"/v1/tasks/{shared.json()['id']}", headers=await company.relogin(manager_id)
        )
        assert got.json()["reminded_at"] is not None
