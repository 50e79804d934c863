from scripts.seed_demo import DEMO_PASSWORD, seed
from tests.helpers import bearer, client


async def test_demo_seed_is_idempotent_and_its_logins_work():
    logins = await seed()
    again = await seed()
    assert logins == again
    assert {
        "admin@demo.outfield.test",
        "manager01@demo.outfield.test",
        "rep10@demo.outfield.test",
    } <= set(logins)
    async with client() as http:
        token = await http.post(
            "/v1/auth/token",
            data={"username": "rep01@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        assert token.status_code == 200
        rep = bearer(token.json()["access_token"])
        mine = (
            await http.get("/v1/customers", params={"owner": "me", "limit": 100}, headers=rep)
        ).json()
        assert len(mine["items"]) == 15
        assert all(c["location"] for c in mine["items"])
        pool = (await http.get("/v1/pool/customers", params={"limit": 100}, headers=rep)).json()
        assert len(pool["items"]) == 100 and pool["next_cursor"]
        admin_token = await http.post(
            "/v1/auth/token",
            data={"username": "admin@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        admin = bearer(admin_token.json()["access_token"])
        users = (await http.get("/v1/users", params={"limit": 100}, headers=admin)).json()["items"]
        assert len(users) == 13
        flagged = (await http.get("/v1/checkins", params={"flagged": "true"}, headers=admin)).json()
        assert flagged["items"], "the demo has a few flagged check-ins for managers to review"
        logs = (await http.get("/v1/logs", headers=rep)).json()["items"]
        assert logs and logs[0]["figures"]["checkins"] == 2
        route = (await http.get("/v1/visit-plans", headers=rep)).json()
        assert len(route["items"]) == 3
        feed = (await http.get("/v1/feed", headers=admin)).json()["items"]
        assert len(feed) == 20 and any(item["like_count"] for item in feed)
        assert any(item["first_comments"] for item in feed)
        rep_inboxes = 0
        for number in range(1, 11):
            token = await http.post(
                "/v1/auth/token",
                data={"username": f"rep{number:02d}@demo.outfield.test", "password": DEMO_PASSWORD},
            )
            inbox = await http.get(
                "/v1/notifications/unread-count", headers=bearer(token.json()["access_token"])
            )
            rep_inboxes += inbox.json()["unread"] > 0
        assert rep_inboxes >= 5
        # Deals were recorded through the deal door: on the timeline, and the managers heard.
        manager = await http.post(
            "/v1/auth/token",
            data={"username": "manager01@demo.outfield.test", "password": DEMO_PASSWORD},
        )
        inbox = (
            await http.get(
                "/v1/notifications",
                params={"limit": 100},
                headers=bearer(manager.json()["access_token"]),
            )
        ).json()["items"]
        assert any(n["kind"] == "deal_won" for n in inbox)
