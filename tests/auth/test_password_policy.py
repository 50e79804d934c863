"""Every password set through the API passes zxcvbn: common ones are 422 `weak_password`."""

import httpx

from tests.helpers import PASSWORD, bearer, client, login, signup


def _assert_weak(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "weak_password"
    assert [issue["loc"] for issue in body["errors"]] == [["body", field]]
    assert body["feedback"]["warning"] or body["feedback"]["suggestions"]
    assert "12345678" not in response.text  # the password is never echoed


async def test_signup_refuses_a_common_password():
    async with client() as http:
        response = await http.post(
            "/v1/signup",
            json={
                "company_name": "Weak Ltd",
                "admin_name": "Admin",
                "email": "weak@example.test",
                "password": "12345678",
            },
        )
        _assert_weak(response, "password")
        assert response.json()["feedback"]["warning"] == "This is a top-10 common password."


async def test_signup_refuses_a_password_made_of_the_company_name():
    async with client() as http:
        response = await http.post(
            "/v1/signup",
            json={
                "company_name": "Brightwater Logistics",
                "admin_name": "Admin",
                "email": "boss@example.test",
                "password": "brightwater2024",
            },
        )
        _assert_weak(response, "password")


async def test_admin_cannot_create_a_user_with_a_common_password():
    async with client() as http:
        company = await signup(http)
        response = await http.post(
            "/v1/users",
            json={"email": "rep@example.test", "name": "Rep", "password": "12345678"},
            headers=company.admin,
        )
        _assert_weak(response, "password")
        users = (await http.get("/v1/users", headers=company.admin)).json()["items"]
        assert "rep@example.test" not in [u["email"] for u in users]


async def test_change_password_refuses_a_common_password_and_keeps_the_old_one():
    async with client() as http:
        company = await signup(http)
        response = await http.post(
            "/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "12345678"},
            headers=company.admin,
        )
        _assert_weak(response, "new_password")
        # Nothing changed: the token still works and the old password still signs in.
        assert (await http.get("/v1/me", headers=company.admin)).status_code == 200
        assert (await login(http, company.admin_email))["access_token"]


async def test_a_strong_password_is_accepted_everywhere():
    async with client() as http:
        company = await signup(http)
        created = await http.post(
            "/v1/users",
            json={"email": "ok@example.test", "name": "Ok", "password": "lantern-quiet-orbit"},
            headers=company.admin,
        )
        assert created.status_code == 201
        pair = await login(http, "ok@example.test", "lantern-quiet-orbit")
        changed = await http.post(
            "/v1/me/password",
            json={"current_password": "lantern-quiet-orbit", "new_password": "copper-fjord-willow"},
            headers=bearer(pair["access_token"]),
        )
        assert changed.status_code == 204
