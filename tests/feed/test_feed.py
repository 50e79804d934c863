import uuid
from datetime import timedelta

from sqlalchemy import event, func, select, update

from app.db import get_engine, session_factory
from app.feed.models import FeedItem
from app.notifications.models import Notification
from tests.customers.helpers import create_customer
from tests.helpers import client, signup


async def followup(http, headers, customer_id, text="拜访了客户"):
    response = await http.post(
        "/v1/followups",
        json={"customer_id": customer_id, "kind": "visit", "text": text},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def world(http):
    company = await signup(http)
    east = await company.department("East")
    team = await company.department("East Team", east)
    west = await company.department("West")
    people = {}
    for name, role, department in [
        ("author", "rep", team),
        ("colleague", "rep", team),
        ("manager", "manager", east),
        ("sibling", "rep", west),
        ("collaborator", "rep", west),
        ("west_manager", "manager", west),
    ]:
        people[name] = await company.user(role, department, name=name)
    return company, people


async def test_feed_item_visibility_author_managers_colleagues_owner_collaborators():
    async with client() as http:
        company, people = await world(http)
        author_id, author = people["author"]
        customer = await create_customer(http, author, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": people["collaborator"][0], "role": "technical"},
            headers=author,
        )
        made = await followup(http, author, customer["id"])
        expected = {
            "author": True,
            "colleague": True,
            "manager": True,
            "collaborator": True,
            "sibling": False,
            "west_manager": False,
        }
        for who, visible in expected.items():
            items = (await http.get("/v1/feed", headers=people[who][1])).json()["items"]
            subjects = {i["subject_id"] for i in items}
            assert (made["id"] in subjects) == visible, who
        other = await signup(http, "Other")
        assert (await http.get("/v1/feed", headers=other.admin)).json()["items"] == []
        item = next(
            i
            for i in (await http.get("/v1/feed", headers=author)).json()["items"]
            if i["subject_id"] == made["id"]
        )
        assert item["kind"] == "followup" and item["author"]["id"] == author_id
        assert item["customer"]["name"] == "Acme" and item["summary"]["followup_kind"] == "visit"


async def test_a_feed_page_costs_the_same_number_of_queries_whatever_its_size():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        for i in range(25):
            made = await followup(http, rep, customer["id"], f"note {i}")
        items = (await http.get("/v1/feed", params={"limit": 30}, headers=rep)).json()["items"]
        for item in items[:5]:
            await http.put(f"/v1/feed/{item['id']}/like", headers=company.admin)
            await http.post(
                f"/v1/feed/{item['id']}/comments", json={"body": "好"}, headers=company.admin
            )
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        engine = get_engine().sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            small = len(statements)
            await http.get("/v1/feed", params={"limit": 2}, headers=rep)
            small = len(statements) - small
            large = len(statements)
            page = await http.get("/v1/feed", params={"limit": 25}, headers=rep)
            large = len(statements) - large
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert small == large <= 5, (small, large)
        assert sum(1 for i in page.json()["items"] if i["first_comments"]) == 5
        assert made


async def test_likes_are_idempotent_and_batched_into_one_notification():
    async with client() as http:
        company = await signup(http)
        author_id, author = await company.user("rep", name="Author")
        customer = await create_customer(http, author, "Acme")
        await followup(http, author, customer["id"])
        item = (await http.get("/v1/feed", headers=author)).json()["items"][0]
        likers = [await company.user("rep", name=f"Liker {i}") for i in range(3)]
        for _, headers in likers:
            first = await http.put(f"/v1/feed/{item['id']}/like", headers=headers)
            again = await http.put(f"/v1/feed/{item['id']}/like", headers=headers)
            assert (
                first.json()["liked"] and again.json()["like_count"] == first.json()["like_count"]
            )
        assert (await http.get("/v1/feed", headers=author)).json()["items"][0]["like_count"] == 3
        inbox = (await http.get("/v1/notifications", headers=author)).json()["items"]
        likes = [n for n in inbox if n["kind"] == "like"]
        assert len(likes) == 1 and "3" in likes[0]["body"]
        unliked = await http.delete(f"/v1/feed/{item['id']}/like", headers=likers[0][1])
        assert unliked.json() == {"item_id": item["id"], "liked": False, "like_count": 2}
        assert (await http.delete(f"/v1/feed/{item['id']}/like", headers=likers[0][1])).json()[
            "like_count"
        ] == 2
        mine = (await http.get("/v1/feed", headers=likers[1][1])).json()["items"][0]
        assert mine["liked_by_me"] is True
        assert author_id


async def test_comments_replies_mentions_edit_and_delete():
    async with client() as http:
        company, people = await world(http)
        author_id, author = people["author"]
        customer = await create_customer(http, author, "Acme")
        await followup(http, author, customer["id"])
        item = (await http.get("/v1/feed", headers=author)).json()["items"][0]
        url = f"/v1/feed/{item['id']}/comments"
        manager_id, manager = people["manager"]
        top = await http.post(
            url,
            json={"body": "好样的 @colleague", "mentions": [people["colleague"][0]]},
            headers=manager,
        )
        assert top.status_code == 201, top.text
        reply = await http.post(
            url, json={"body": "谢谢", "parent_id": top.json()["id"]}, headers=author
        )
        assert reply.status_code == 201
        nested = await http.post(
            url, json={"body": "no", "parent_id": reply.json()["id"]}, headers=manager
        )
        assert nested.status_code == 422 and nested.json()["code"] == "invalid_parent"
        hidden = await http.post(
            url, json={"body": "hey", "mentions": [people["sibling"][0]]}, headers=manager
        )
        assert hidden.status_code == 422 and hidden.json()["code"] == "mention_not_allowed"
        too_long = await http.post(url, json={"body": "x" * 2001}, headers=manager)
        assert too_long.status_code == 422
        assert (
            await http.patch(f"{url}/{top.json()['id']}", json={"body": "edited"}, headers=author)
        ).status_code == 403
        missing = await http.patch(
            f"{url}/{top.json()['id']}", json={"body": "edited"}, headers=manager
        )
        assert missing.status_code == 428
        edited = await http.patch(
            f"{url}/{top.json()['id']}",
            json={"body": "edited"},
            headers=manager | {"If-Match": top.headers["etag"]},
        )
        assert edited.json()["body"] == "edited" and edited.headers["etag"] == '"2"'
        stale = await http.patch(
            f"{url}/{top.json()['id']}",
            json={"body": "again"},
            headers=manager | {"If-Match": top.headers["etag"]},
        )
        assert stale.status_code == 412
        assert (await http.delete(f"{url}/{top.json()['id']}", headers=manager)).status_code == 204
        listed = (await http.get(url, headers=author)).json()["items"]
        deleted = next(c for c in listed if c["id"] == top.json()["id"])
        assert deleted["deleted"] is True and deleted["body"] is None
        assert any(c["parent_id"] == top.json()["id"] for c in listed)
        kinds = {
            (n["kind"])
            for n in (await http.get("/v1/notifications", headers=author)).json()["items"]
        }
        assert "comment" in kinds
        colleague_kinds = {
            n["kind"]
            for n in (await http.get("/v1/notifications", headers=people["colleague"][1])).json()[
                "items"
            ]
        }
        assert "mention" in colleague_kinds
        manager_kinds = {
            n["kind"]
            for n in (await http.get("/v1/notifications", headers=manager)).json()["items"]
        }
        assert "reply" in manager_kinds
        assert author_id and manager_id


async def test_collaboration_alert_reaches_owner_and_collaborators_but_not_the_actor():
    async with client() as http:
        company = await signup(http)
        owner_id, owner = await company.user("rep", name="Owner")
        collaborator_id, collaborator = await company.user("rep", name="Collab")
        customer = await create_customer(http, owner, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": collaborator_id, "role": "after-sales"},
            headers=owner,
        )
        await followup(http, collaborator, customer["id"], "装好了")
        owner_inbox = (await http.get("/v1/notifications", headers=owner)).json()["items"]
        assert [n["kind"] for n in owner_inbox] == ["record_on_your_customer"]
        assert "Collab" in owner_inbox[0]["body"] and "Acme" in owner_inbox[0]["body"]
        assert (await http.get("/v1/notifications", headers=collaborator)).json()["items"] == []
        assert owner_id


async def test_a_rolled_back_change_leaves_no_feed_item_or_notification():
    async with client() as http:
        company = await signup(http)
        _, owner = await company.user("rep")
        customer = await create_customer(http, owner, "Acme")
        bad = await http.post(
            "/v1/followups",
            json={
                "customer_id": customer["id"],
                "kind": "call",
                "text": "x",
                "attachment_ids": [str(uuid.uuid4())],
            },
            headers=company.admin,
        )
        assert bad.status_code == 422
    async with session_factory()() as session:
        assert await session.scalar(select(func.count()).select_from(FeedItem)) == 0
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0


async def test_concurrent_likes_count_each_person_once():
    import asyncio

    async with client() as http:
        company = await signup(http)
        _, author = await company.user("rep")
        customer = await create_customer(http, author, "Acme")
        await followup(http, author, customer["id"])
        item = (await http.get("/v1/feed", headers=author)).json()["items"][0]
        likers = [await company.user("rep") for _ in range(6)]
        # Each person likes twice at once; six people, so six likes.
        await asyncio.gather(
            *[
                http.put(f"/v1/feed/{item['id']}/like", headers=headers)
                for _, headers in likers
                for _ in range(2)
            ]
        )
        after = (await http.get("/v1/feed", headers=author)).json()["items"][0]
        assert after["like_count"] == 6
        inbox = (await http.get("/v1/notifications", headers=author)).json()["items"]
        assert [n["kind"] for n in inbox].count("like") == 1


async def test_a_like_during_the_push_of_the_like_notification_leaves_the_push_alone():
    async with client() as http:
        company = await signup(http)
        author_id, author = await company.user("rep", name="Author")
        customer = await create_customer(http, author, "Acme")
        await followup(http, author, customer["id"])
        item = (await http.get("/v1/feed", headers=author)).json()["items"][0]
        _, first = await company.user("rep", name="First")
        _, second = await company.user("rep", name="Second")
        await http.put(f"/v1/feed/{item['id']}/like", headers=first)
        # A push worker has leased the notification (as workers/jobs/push.py claims it).
        async with session_factory()() as session:
            lease = (
                await session.execute(
                    update(Notification)
                    .where(Notification.user_id == uuid.UUID(author_id))
                    .where(Notification.kind == "like")
                    .values(push_state="sending", push_after=func.now() + timedelta(minutes=5))
                    .returning(Notification.push_after)
                )
            ).scalar_one()
            await session.commit()
        await http.put(f"/v1/feed/{item['id']}/like", headers=second)
        async with session_factory()() as session:
            row = (
                await session.execute(
                    select(Notification).where(
                        Notification.user_id == uuid.UUID(author_id), Notification.kind == "like"
                    )
                )
            ).scalar_one()
        assert (row.push_state, row.push_after) == ("sending", lease)
        assert "2" in row.body  # the inbox still shows the new count


async def test_editing_a_deleted_comment_without_if_match_is_428_not_409():
    async with client() as http:
        company, people = await world(http)
        _, author = people["author"]
        customer = await create_customer(http, author, "Acme")
        await followup(http, author, customer["id"])
        item = (await http.get("/v1/feed", headers=author)).json()["items"][0]
        url = f"/v1/feed/{item['id']}/comments"
        made = await http.post(url, json={"body": "好"}, headers=author)
        assert made.status_code == 201, made.text
        comment = f"{url}/{made.json()['id']}"
        assert (await http.delete(comment, headers=author)).status_code == 204
        missing = await http.patch(comment, json={"body": "edited"}, headers=author)
        assert missing.status_code == 428, missing.text
        assert missing.json()["code"] == "if_match_required"
        stale = await http.patch(
            comment, json={"body": "edited"}, headers=author | {"If-Match": made.headers["etag"]}
        )
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
        current = await http.patch(
            comment, json={"body": "edited"}, headers=author | {"If-Match": '"2"'}
        )
        assert current.status_code == 409 and current.json()["code"] == "comment_deleted"


async def test_one_comment_notifies_each_person_once_with_the_most_specific_kind():
    async with client() as http:
        company, people = await world(http)
        author_id, author = people["author"]
        collaborator_id, collaborator = people["collaborator"]
        manager_id, manager = people["manager"]
        customer = await create_customer(http, author, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": collaborator_id, "role": "technical"},
            headers=author,
        )
        await followup(http, author, customer["id"])
        item = (await http.get("/v1/feed", headers=author)).json()["items"][0]
        url = f"/v1/feed/{item['id']}/comments"
        # The author is the item's author, the customer's owner and mentioned: one mention.
        top = await http.post(
            url, json={"body": "@author 好", "mentions": [author_id]}, headers=manager
        )
        assert top.status_code == 201, top.text
        # The manager is replied to and mentioned: one reply.
        reply = await http.post(
            url,
            json={"body": "@manager 收到", "parent_id": top.json()["id"], "mentions": [manager_id]},
            headers=collaborator,
        )
        assert reply.status_code == 201, reply.text

        async def kinds(headers: dict) -> list[str]:
            inbox = (await http.get("/v1/notifications", headers=headers)).json()["items"]
            return sorted(
                n["kind"]
                for n in inbox
                if n["kind"] != "record_on_your_customer" or n["data"].get("record") == "comment"
            )

        assert await kinds(author) == ["comment", "mention"]  # top: mention; reply: comment
        assert await kinds(manager) == ["reply"]
        assert await kinds(collaborator) == ["record_on_your_customer"]  # top only
