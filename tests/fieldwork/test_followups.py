import uuid
from datetime import UTC, datetime, timedelta

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup


async def test_follow_up_resets_the_clock_and_sets_next_follow_up():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        clock.advance(timedelta(days=10))
        rep = await company.relogin(rep_id)
        next_at = (clock.now() + timedelta(days=2)).astimezone(UTC).isoformat()
        response = await http.post(
            "/v1/followups",
            json={
                "customer_id": customer["id"],
                "kind": "call",
                "text": "谈了报价",
                "next_followup_at": next_at,
            },
            headers=rep,
        )
        assert response.status_code == 201, response.text
        after = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).json()
        recycle_at = datetime.fromisoformat(after["recycle_at"].replace("Z", "+00:00"))
        assert recycle_at - clock.now() > timedelta(days=14)
        assert after["next_followup_at"] is not None
        timeline = (await http.get(f"/v1/customers/{customer['id']}/timeline", headers=rep)).json()[
            "items"
        ]
        assert timeline[0]["kind"] == "followup.call" and timeline[0]["summary"] == "谈了报价"


async def test_follow_up_on_a_pool_customer_is_409_for_reps_but_allowed_for_managers():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        _, manager = await company.user("manager")
        pooled = await create_customer(http, company.admin, "Pooled", in_pool=True)
        body = {"customer_id": pooled["id"], "kind": "visit", "text": "drop by"}
        refused = await http.post("/v1/followups", json=body, headers=rep)
        assert refused.status_code == 409 and refused.json()["code"] == "customer_not_owned"
        assert (await http.post("/v1/followups", json=body, headers=manager)).status_code == 201


async def test_follow_up_on_an_invisible_customer_is_404_and_retries_are_safe():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        _, other = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        body = {"customer_id": customer["id"], "kind": "message", "text": "hi"}
        assert (await http.post("/v1/followups", json=body, headers=other)).status_code == 404
        with_id = body | {"id": str(uuid.uuid4())}
        first = await http.post("/v1/followups", json=with_id, headers=rep)
        again = await http.post("/v1/followups", json=with_id, headers=rep)
        assert (first.status_code, again.status_code) == (201, 200)
        assert (
            len(
                (
                    await http.get(
                        "/v1/followups", params={"customer": customer["id"]}, headers=rep
                    )
                ).json()["items"]
            )
            == 1
        )


async def test_collaborator_may_add_follow_ups_and_only_the_author_edits():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        collaborator_id, collaborator = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": collaborator_id, "role": "after-sales"},
            headers=rep,
        )
        made = await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "meeting", "text": "installed"},
            headers=collaborator,
        )
        assert made.status_code == 201
        url = f"/v1/followups/{made.json()['id']}"
        assert (await http.patch(url, json={"text": "edited"}, headers=rep)).status_code == 403
        missing = await http.patch(url, json={"text": "installed v2"}, headers=collaborator)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        edited = await http.patch(
            url,
            json={"text": "installed v2"},
            headers=collaborator | {"If-Match": made.headers["etag"]},
        )
        assert edited.status_code == 200 and edited.json()["text"] == "installed v2"
        stale = await http.patch(
            url, json={"text": "v3"}, headers=collaborator | {"If-Match": made.headers["etag"]}
        )
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
        assert (await http.delete(url, headers=collaborator)).status_code == 204
        assert (await http.get(url, headers=rep)).status_code == 404


async def test_only_a_manager_above_the_author_may_delete_their_follow_up():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        west = await company.department("West")
        _, rep = await company.user("rep", east)
        _, east_manager = await company.user("manager", east)
        _, west_manager = await company.user("manager", west)
        customer = await create_customer(http, rep, "Acme")
        made = await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "call", "text": "x"},
            headers=rep,
        )
        assert made.status_code == 201, made.text
        # In the pool, every manager sees the customer and its follow-ups…
        released = await http.post(
            f"/v1/customers/{customer['id']}/release", json={"reason": "x"}, headers=rep
        )
        assert released.status_code == 200, released.text
        url = f"/v1/followups/{made.json()['id']}"
        assert (await http.get(url, headers=west_manager)).status_code == 200
        # …but only the author's own manager may delete it.
        refused = await http.delete(url, headers=west_manager)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert (await http.delete(url, headers=east_manager)).status_code == 204
