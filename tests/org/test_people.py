import uuid

from app.config import get_settings
from tests.helpers import PASSWORD, client, signup


async def test_signup_creates_company_root_department_and_admin():
    async with client() as http:
        response = await http.post(
            "/v1/signup",
            json={
                "company_name": "华联",
                "admin_name": "王",
                "email": "Boss@Example.test",
                "password": PASSWORD,
            },
        )
        assert response.status_code == 201
        body = response.json()
        assert body["company"]["time_zone"] == "Asia/Shanghai"
        assert body["user"]["role"] == "admin" and body["user"]["email"] == "boss@example.test"
        again = await http.post(
            "/v1/signup",
            json={
                "company_name": "Other",
                "admin_name": "X",
                "email": "boss@example.test",
                "password": PASSWORD,
            },
        )
        assert again.status_code == 409 and again.json()["code"] == "email_taken"


async def test_signup_rejects_unknown_time_zone():
    async with client() as http:
        response = await http.post(
            "/v1/signup",
            json={
                "company_name": "X",
                "admin_name": "X",
                "email": "x@example.test",
                "password": PASSWORD,
                "time_zone": "Mars/Olympus",
            },
        )
        assert response.status_code == 422


async def test_signup_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("OUTFIELD_SIGNUP_ENABLED", "false")
    get_settings.cache_clear()
    try:
        async with client() as http:
            response = await http.post(
                "/v1/signup",
                json={
                    "company_name": "X",
                    "admin_name": "X",
                    "email": "x@example.test",
                    "password": PASSWORD,
                },
            )
            assert response.status_code == 403 and response.json()["code"] == "signup_disabled"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_rep_on_admin_routes_is_403():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        attempts = [
            ("POST", "/v1/departments", {"name": "X"}),
            ("POST", "/v1/users", {"email": "a@example.test", "name": "a", "password": PASSWORD}),
            ("PATCH", f"/v1/users/{rep_id}", {"role": "admin"}),
            ("POST", f"/v1/users/{rep_id}/deactivate", {}),
            ("GET", "/v1/admin/jobs", None),
            ("POST", "/v1/admin/jobs/housekeeping/run", None),
        ]
        for method, path, body in attempts:
            response = await http.request(method, path, json=body, headers=rep)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["code"] == "forbidden"


async def test_manager_sees_users_of_the_subtree_not_of_a_sibling():
    async with client() as http:
        company = await signup(http)
        east = await company.department("Beijing East")
        east_team = await company.department("East Team 1", east)
        west = await company.department("Beijing West")
        _, manager = await company.user("manager", east)
        deep_rep, _ = await company.user("rep", east_team)
        sibling_rep, _ = await company.user("rep", west)
        listed = (await http.get("/v1/users", params={"limit": 100}, headers=manager)).json()[
            "items"
        ]
        ids = {u["id"] for u in listed}
        assert deep_rep in ids and sibling_rep not in ids
        assert (await http.get(f"/v1/users/{deep_rep}", headers=manager)).status_code == 200
        assert (await http.get(f"/v1/users/{sibling_rep}", headers=manager)).status_code == 404
        departments = {
            d["id"] for d in (await http.get("/v1/departments", headers=manager)).json()["items"]
        }
        assert departments == {east, east_team}


async def test_moving_a_department_moves_its_subtree_and_cycles_are_refused():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        team = await company.department("Team", east)
        west = await company.department("West")
        _, west_manager = await company.user("manager", west)
        rep, _ = await company.user("rep", team)
        assert (await http.get(f"/v1/users/{rep}", headers=west_manager)).status_code == 404
        moved = await http.patch(
            f"/v1/departments/{east}", json={"parent_id": west}, headers=company.admin
        )
        assert moved.status_code == 200 and moved.json()["depth"] == 2
        assert (await http.get(f"/v1/users/{rep}", headers=west_manager)).status_code == 200
        team_after = (await http.get(f"/v1/departments/{team}", headers=company.admin)).json()
        assert team_after["depth"] == 3
        cycle = await http.patch(
            f"/v1/departments/{west}", json={"parent_id": team}, headers=company.admin
        )
        assert cycle.status_code == 409 and cycle.json()["code"] == "department_cycle"


async def test_stale_if_match_on_department_is_412():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        got = await http.get(f"/v1/departments/{east}", headers=company.admin)
        etag = got.headers["etag"]
        ok = await http.patch(
            f"/v1/departments/{east}",
            json={"name": "East 2"},
            headers=company.admin | {"If-Match": etag},
        )
        assert ok.status_code == 200
        stale = await http.patch(
            f"/v1/departments/{east}",
            json={"name": "East 3"},
            headers=company.admin | {"If-Match": etag},
        )
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"


async def test_department_with_active_users_cannot_be_deactivated():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        rep, _ = await company.user("rep", east)
        refused = await http.post(f"/v1/departments/{east}/deactivate", headers=company.admin)
        assert refused.status_code == 409 and refused.json()["code"] == "department_not_empty"
        await http.post(f"/v1/users/{rep}/deactivate", headers=company.admin)
        done = await http.post(f"/v1/departments/{east}/deactivate", headers=company.admin)
        assert done.status_code == 200 and done.json()["active"] is False
        joining = await http.post(
            "/v1/users",
            json={
                "email": "late@example.test",
                "name": "Late",
                "password": PASSWORD,
                "department_id": east,
            },
            headers=company.admin,
        )
        assert joining.status_code == 422 and joining.json()["code"] == "unknown_department"


async def test_admin_moves_and_promotes_a_user():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        rep, _ = await company.user("rep")
        response = await http.patch(
            f"/v1/users/{rep}",
            json={"department_id": east, "role": "manager"},
            headers=company.admin,
        )
        assert response.status_code == 200
        assert response.json()["department_id"] == east and response.json()["role"] == "manager"


async def test_create_user_refuses_extra_fields_and_keeps_client_id():
    async with client() as http:
        company = await signup(http)
        extra = await http.post(
            "/v1/users",
            json={"email": "e@example.test", "name": "E", "password": PASSWORD, "is_active": False},
            headers=company.admin,
        )
        assert extra.status_code == 422
        client_id = str(uuid.uuid4())
        made = await http.post(
            "/v1/users",
            json={"id": client_id, "email": "e@example.test", "name": "E", "password": PASSWORD},
            headers=company.admin,
        )
        assert made.status_code == 201 and made.json()["id"] == client_id


async def test_admin_cannot_deactivate_themselves():
    async with client() as http:
        company = await signup(http)
        response = await http.post(
            f"/v1/users/{company.admin_id}/deactivate", headers=company.admin
        )
        assert response.status_code == 409 and response.json()["code"] == "cannot_deactivate_self"
