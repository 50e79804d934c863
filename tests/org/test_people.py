import uuid

from app.config import get_settings
from tests.helpers import PASSWORD, client, signup


async def etag_of(http, url: str, headers: dict) -> dict[str, str]:
    """`If-Match` with the record's current ETag."""
    return {"If-Match": (await http.get(url, headers=headers)).headers["etag"]}


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
            f"/v1/departments/{east}",
            json={"parent_id": west},
            headers=company.admin | await etag_of(http, f"/v1/departments/{east}", company.admin),
        )
        assert moved.status_code == 200 and moved.json()["depth"] == 2
        assert (await http.get(f"/v1/users/{rep}", headers=west_manager)).status_code == 200
        team_after = (await http.get(f"/v1/departments/{team}", headers=company.admin)).json()
        assert team_after["depth"] == 3
        cycle = await http.patch(
            f"/v1/departments/{west}",
            json={"parent_id": team},
            headers=company.admin | await etag_of(http, f"/v1/departments/{west}", company.admin),
        )
        assert cycle.status_code == 409 and cycle.json()["code"] == "department_cycle"


async def test_department_and_user_edits_need_if_match_428_and_412_when_stale():
    async with client() as http:
        company = await signup(http)
        created = await http.post(
            "/v1/departments",
            json={"name": "East", "parent_id": company.root_department_id},
            headers=company.admin,
        )
        east, etag = created.json()["id"], created.headers["etag"]
        got = await http.get(f"/v1/departments/{east}", headers=company.admin)
        assert got.headers["etag"] == etag == '"1"'
        missing = await http.patch(
            f"/v1/departments/{east}", json={"name": "East 2"}, headers=company.admin
        )
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
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
        user = await http.post(
            "/v1/users",
            json={"email": "e@example.test", "name": "E", "password": PASSWORD},
            headers=company.admin,
        )
        assert user.status_code == 201 and user.headers["etag"] == '"1"'
        url = f"/v1/users/{user.json()['id']}"
        missing = await http.patch(url, json={"name": "E2"}, headers=company.admin)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        renamed = await http.patch(
            url, json={"name": "E2"}, headers=company.admin | {"If-Match": '"1"'}
        )
        assert renamed.status_code == 200 and renamed.headers["etag"] == '"2"'
        stale = await http.patch(
            url, json={"name": "E3"}, headers=company.admin | {"If-Match": '"1"'}
        )
        assert stale.status_code == 412


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
            headers=company.admin | await etag_of(http, f"/v1/users/{rep}", company.admin),
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


async def test_creating_a_department_again_with_its_client_id_answers_it_or_409():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, name="Other")
        body = {"id": str(uuid.uuid4()), "name": "Sales", "parent_id": company.root_department_id}
        created = await http.post("/v1/departments", json=body, headers=company.admin)
        assert created.status_code == 201, created.text
        again = await http.post("/v1/departments", json=body, headers=company.admin)
        assert again.status_code == 200, again.text
        assert again.json() == created.json()
        renamed = await http.post(
            "/v1/departments", json=body | {"name": "Ops"}, headers=company.admin
        )
        assert renamed.status_code == 409 and renamed.json()["code"] == "id_conflict"
        theirs = await http.post(
            "/v1/departments",
            json=body | {"parent_id": other.root_department_id},
            headers=other.admin,
        )
        assert theirs.status_code == 409 and theirs.json()["code"] == "id_conflict"
        assert theirs.json()["detail"] == renamed.json()["detail"]
        assert "Sales" not in theirs.text


async def test_creating_a_user_again_with_its_client_id_answers_it_or_409():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, name="Other")
        body = {
            "id": str(uuid.uuid4()),
            "email": "li.wei@example.test",
            "name": "Li Wei",
            "department_id": company.root_department_id,
            "password": PASSWORD,
        }
        created = await http.post("/v1/users", json=body, headers=company.admin)
        assert created.status_code == 201, created.text
        again = await http.post("/v1/users", json=body, headers=company.admin)
        assert again.status_code == 200, again.text
        assert again.json() == created.json()
        for changed in ({"name": "Wei Li"}, {"password": PASSWORD + "-other"}):
            response = await http.post("/v1/users", json=body | changed, headers=company.admin)
            assert response.status_code == 409, response.text
            assert response.json()["code"] == "id_conflict"
        theirs = await http.post(
            "/v1/users",
            json=body | {"email": "x@example.test", "department_id": other.root_department_id},
            headers=other.admin,
        )
        assert theirs.status_code == 409 and theirs.json()["code"] == "id_conflict"
        assert "li.wei" not in theirs.text and "Li Wei" not in theirs.text
