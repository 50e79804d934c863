"""Service tickets: the status machine, due time by priority and the overdue notice (once),
satisfaction only on resolve, the customer's timeline, the report, visibility."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.core import clock
from app.db import session_factory
from app.notifications.models import Notification
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from workers.jobs.reminders import reminders

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


async def overdue_notices(user_id: str) -> list[Notification]:
    async with session_factory()() as session:
        rows = await session.scalars(
            select(Notification).where(
                Notification.user_id == user_id, Notification.kind == "ticket_overdue"
            )
        )
        return list(rows)


async def test_status_machine_satisfaction_only_on_resolve_and_the_timeline():
    clock.freeze(START)
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep", name="Rep")
        customer = await create_customer(http, rep, "Acme")
        made = await http.post(
            "/v1/tickets",
            json={"customer_id": customer["id"], "kind": "complaint", "description": "Broken"},
            headers=rep,
        )
        assert made.status_code == 201, made.text
        ticket = made.json()
        assert ticket["status"] == "open" and ticket["priority"] == "normal"
        assert ticket["assignee_id"] == rep_id and ticket["overdue"] is False
        assert ticket["due_at"].startswith("2026-11-26T01:00:00")  # normal: 72 hours
        url = f"/v1/tickets/{ticket['id']}"
        version = 1

        async def patch(body: dict) -> dict:
            nonlocal version
            response = await http.patch(url, json=body, headers=rep | {"If-Match": f'"{version}"'})
            if response.status_code == 200:
                version += 1
            return {**response.json(), "http": response.status_code}

        for refused in ({"status": "resolved"}, {"status": "closed"}, {"status": "open"}):
            moved = await patch(refused)
            assert moved["http"] == 409 and moved["code"] == "invalid_transition", refused
        rated = await patch({"satisfaction": 5})
        assert rated["http"] == 422
        early = await http.post(f"{url}/resolve", json={"resolution": "Fixed"}, headers=rep)
        assert early.status_code == 409 and early.json()["code"] == "invalid_transition"
        clock.advance(timedelta(minutes=1))
        assert (await patch({"status": "in_progress"}))["http"] == 200
        via_patch = await patch({"status": "resolved"})
        assert via_patch["http"] == 409 and "resolve" in via_patch["detail"]
        lonely = await http.post(
            f"{url}/resolve", json={"resolution": "Fixed", "comment": "ok"}, headers=rep
        )
        assert lonely.status_code == 422
        bad = await http.post(
            f"{url}/resolve", json={"resolution": "x", "satisfaction": 6}, headers=rep
        )
        assert bad.status_code == 422
        clock.advance(timedelta(hours=2) - timedelta(minutes=1))
        rep = await company.relogin(rep_id)
        resolved = await http.post(
            f"{url}/resolve",
            json={"resolution": "Replaced the part", "satisfaction": 4, "comment": "Quick"},
            headers=rep,
        )
        assert resolved.status_code == 200, resolved.text
        version += 1
        body = resolved.json()
        assert body["status"] == "resolved" and body["resolution"] == "Replaced the part"
        assert body["satisfaction"]["score"] == 4 and body["satisfaction"]["user_id"] == rep_id
        assert (await patch({"status": "in_progress"}))["http"] == 409
        clock.advance(timedelta(minutes=1))
        closed = await patch({"status": "closed"})
        assert closed["http"] == 200 and closed["closed_at"] is not None
        clock.advance(timedelta(minutes=1))
        reopened = await patch({"status": "open"})
        assert reopened["http"] == 200 and reopened["resolved_at"] is None
        assert reopened["due_at"].startswith("2026-11-26T03:02:00")  # 72 h from reopening
        timeline = await http.get(f"/v1/customers/{customer['id']}/timeline", headers=rep)
        kinds = [
            row["kind"] for row in timeline.json()["items"] if row["kind"].startswith("ticket.")
        ]
        assert kinds == [
            "ticket.reopened",
            "ticket.closed",
            "ticket.resolved",
            "ticket.in_progress",
            "ticket.created",
        ]


async def test_overdue_flag_and_its_single_notice():
    clock.freeze(START)
    async with client() as http:
        company = await signup(http)
        manager_id, manager = await company.user("manager", name="Boss")
        rep_id, rep = await company.user("rep", name="Rep")
        customer = await create_customer(http, rep, "Acme")
        urgent = await http.post(
            "/v1/tickets",
            json={
                "customer_id": customer["id"],
                "kind": "service",
                "priority": "urgent",
                "description": "Machine down",
                "assignee_id": rep_id,
            },
            headers=manager,
        )
        assert urgent.status_code == 201, urgent.text
        assert urgent.json()["due_at"].startswith("2026-11-23T05:00:00")  # 4 hours
        low = await http.post(
            "/v1/tickets",
            json={
                "customer_id": customer["id"],
                "kind": "suggestion",
                "priority": "low",
                "description": "Blue",
            },
            headers=rep,
        )
        url = f"/v1/tickets/{urgent.json()['id']}"
        counts: dict = {}
        clock.freeze(START + timedelta(hours=3, minutes=59))
        await reminders(counts)
        assert counts["tickets_overdue"] == 0
        clock.freeze(START + timedelta(hours=4, minutes=1))
        rep = await company.relogin(rep_id)
        assert (await http.get(url, headers=rep)).json()["overdue"] is True
        late = await http.get("/v1/tickets", params={"overdue": "true"}, headers=rep)
        assert [t["id"] for t in late.json()["items"]] == [urgent.json()["id"]]
        on_time = await http.get("/v1/tickets", params={"overdue": "false"}, headers=rep)
        assert [t["id"] for t in on_time.json()["items"]] == [low.json()["id"]]
        await reminders(counts)
        assert counts["tickets_overdue"] == 1
        (notice,) = await overdue_notices(rep_id)
        assert "Acme" in notice.body and "2026-11-23 13:00" in notice.body
        assert await overdue_notices(manager_id) == []
        clock.advance(timedelta(minutes=30))
        await reminders(counts)
        assert counts["tickets_overdue"] == 0 and len(await overdue_notices(rep_id)) == 1
        # The company's hours: a normal ticket due in 10 hours.
        settings = await http.get("/v1/company/settings", headers=await company.relogin_admin())
        changed = await http.patch(
            "/v1/company/settings",
            json={"ticket_hours_normal": 10},
            headers=company.admin | {"If-Match": settings.headers["etag"]},
        )
        assert changed.status_code == 200 and changed.json()["ticket_hours_normal"] == 10
        ten = await http.post(
            "/v1/tickets",
            json={"customer_id": customer["id"], "kind": "service", "description": "Noise"},
            headers=await company.relogin(rep_id),
        )
        due = datetime.fromisoformat(ten.json()["due_at"])
        assert due == clock.now() + timedelta(hours=10)


async def test_visibility_and_assignment_limits():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        west = await company.department("West")
        manager_id, manager = await company.user("manager", east)
        rep_id, rep = await company.user("rep", east)
        peer_id, peer = await company.user("rep", east)
        west_id, west_rep = await company.user("rep", west)
        customer = await create_customer(http, rep, "Acme")
        body = {"customer_id": customer["id"], "kind": "complaint", "description": "Late"}
        made = await http.post("/v1/tickets", json=body, headers=rep)
        url = f"/v1/tickets/{made.json()['id']}"
        assert (await http.get(url, headers=peer)).status_code == 404  # not their customer
        assert (await http.get(url, headers=manager)).status_code == 200
        assert (await http.get(url, headers=west_rep)).status_code == 404
        other = await signup(http, "Other Co")
        assert (await http.get(url, headers=other.admin)).status_code == 404
        on_hidden = await http.post("/v1/tickets", json=body, headers=peer)
        assert on_hidden.status_code == 404
        to_peer = await http.post("/v1/tickets", json=body | {"assignee_id": peer_id}, headers=rep)
        assert to_peer.status_code == 403 and to_peer.json()["code"] == "assignee_not_allowed"
        to_west = await http.post(
            "/v1/tickets", json=body | {"assignee_id": west_id}, headers=manager
        )
        assert to_west.status_code == 403
        # Assigned by the manager to the peer: the peer now sees that ticket (and only it).
        moved = await http.patch(
            url, json={"assignee_id": peer_id}, headers=manager | {"If-Match": '"1"'}
        )
        assert moved.status_code == 200 and moved.json()["assignee_id"] == peer_id
        assert (await http.get(url, headers=peer)).status_code == 200
        listed = await http.get("/v1/tickets", headers=peer)
        assert [t["id"] for t in listed.json()["items"]] == [made.json()["id"]]
        assert (await http.get("/v1/tickets", headers=west_rep)).json()["items"] == []
        assert manager_id and rep_id


async def test_report_by_rep_and_department_with_csv():
    clock.freeze(START)
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        manager_id, manager = await company.user("manager", east, name="Boss")
        one_id, one = await company.user("rep", east, name="A One")
        two_id, two = await company.user("rep", east, name="B Two")
        acme = await create_customer(http, one, "Acme")
        beta = await create_customer(http, two, "Beta")

        async def ticket(headers: dict, customer: dict, priority: str = "normal") -> str:
            made = await http.post(
                "/v1/tickets",
                json={
                    "customer_id": customer["id"],
                    "kind": "service",
                    "priority": priority,
                    "description": "x",
                },
                headers=headers,
            )
            assert made.status_code == 201, made.text
            return made.json()["id"]

        async def resolve(headers: dict, ticket_id: str, score: int) -> None:
            url = f"/v1/tickets/{ticket_id}"
            started = await http.patch(
                url, json={"status": "in_progress"}, headers=headers | {"If-Match": '"1"'}
            )
            assert started.status_code == 200
            done = await http.post(
                f"{url}/resolve", json={"resolution": "ok", "satisfaction": score}, headers=headers
            )
            assert done.status_code == 200

        fast = await ticket(one, acme)
        slow = await ticket(one, acme)
        await ticket(two, beta, "urgent")  # overdue by the time of the report
        await ticket(two, beta, "low")  # open, not overdue
        clock.advance(timedelta(hours=2))
        one = await company.relogin(one_id)
        await resolve(one, fast, 4)
        clock.advance(timedelta(hours=4))
        one = await company.relogin(one_id)
        await resolve(one, slow, 1)
        clock.advance(timedelta(hours=1))  # 7 hours after opening: the urgent one is late
        manager = await company.relogin(manager_id)
        params = {"from": "2026-11-23", "to": "2026-11-23"}
        report = await http.get("/v1/reports/tickets", params=params, headers=manager)
        assert report.status_code == 200, report.text
        body = report.json()
        users = {row["name"]: row for row in body["users"]}
        assert users["A One"] | {"id": None} == {
            "id": None,
            "name": "A One",
            "created": 2,
            "open": 0,
            "overdue": 0,
            "resolved": 2,
            "median_hours_to_resolve": "4.00",
            "ratings": 2,
            "average_satisfaction": "2.50",
        }
        assert users["B Two"]["created"] == 2 and users["B Two"]["open"] == 2
        assert users["B Two"]["overdue"] == 1 and users["B Two"]["resolved"] == 0
        assert users["B Two"]["median_hours_to_resolve"] is None
        assert body["total"]["created"] == 4 and body["total"]["overdue"] == 1
        assert body["total"]["average_satisfaction"] == "2.50"
        (department,) = [d for d in body["departments"] if d["id"] == east]
        assert department["created"] == 4 and department["resolved"] == 2
        assert department["median_hours_to_resolve"] == "4.00"
        csv = await http.get(
            "/v1/reports/tickets", params=params | {"format": "csv"}, headers=manager
        )
        assert csv.headers["content-type"].startswith("text/csv")
        text = csv.content.decode("utf-8")
        assert text.startswith("\ufeffscope,id,name,created,open,overdue,resolved,")
        assert f"user,{one_id},A One,2,0,0,2,4.00,2,2.50" in text
        # A rep: their own figures only; a peer is 404.
        two = await company.relogin(two_id)
        own = await http.get("/v1/reports/tickets", params=params, headers=two)
        assert [row["name"] for row in own.json()["users"]] == ["B Two"]
        assert own.json()["departments"] == []
        peer = await http.get("/v1/reports/tickets", params=params | {"user": one_id}, headers=two)
        assert peer.status_code == 404
        reversed_range = {"from": "2026-11-24", "to": "2026-11-23"}
        bad = await http.get("/v1/reports/tickets", params=reversed_range, headers=manager)
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_range"
