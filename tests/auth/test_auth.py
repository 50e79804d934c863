from datetime import timedelta

import jwt

from app.config import get_settings
from app.core import clock
from tests.helpers import PASSWORD, bearer, client, login, signup


async def test_login_returns_a_token_pair_that_opens_me():
    async with client() as http:
        company = await signup(http)
        response = await http.get("/v1/me", headers=company.admin)
        assert response.status_code == 200
        assert response.json()["user"]["role"] == "admin"
        assert response.json()["company"]["time_zone"] == "Asia/Shanghai"


async def test_wrong_password_is_401_problem():
    async with client() as http:
        await signup(http)
        response = await http.post(
            "/v1/auth/token", data={"username": "nobody@example.test", "password": "x" * 9}
        )
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_credentials"


async def test_refresh_rotates_and_old_token_reuse_revokes_the_family():
    async with client() as http:
        company = await signup(http)
        _, _ = await company.user("rep")
        email = (await http.get("/v1/me", headers=company.admin)).json()["user"]["email"]
        first = await login(http, email)
        second = (
            await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()
        assert second["refresh_token"] != first["refresh_token"]
        third = await http.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert third.status_code == 200
        # Past the grace window, presenting the first token again is theft: the family dies.
        clock.advance(timedelta(seconds=get_settings().refresh_grace_s + 5))
        reused = await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reused.status_code == 401
        assert reused.json()["code"] == "refresh_token_reused"
        latest = await http.post(
            "/v1/auth/refresh", json={"refresh_token": third.json()["refresh_token"]}
        )
        assert latest.status_code == 401


async def test_retrying_the_previous_refresh_within_grace_returns_the_same_pair():
    async with client() as http:
        company = await signup(http)
        email = (await http.get("/v1/me", headers=company.admin)).json()["user"]["email"]
        first = await login(http, email)
        answer = await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        retry = await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert retry.status_code == 200
        assert retry.json() == answer.json()
        # And the new pair still works afterwards: the rep was not logged out.
        after = await http.post(
            "/v1/auth/refresh", json={"refresh_token": answer.json()["refresh_token"]}
        )
        assert after.status_code == 200
        assert (
            await http.get("/v1/me", headers=bearer(after.json()["access_token"]))
        ).status_code == 200


async def test_logout_revokes_the_refresh_token():
    async with client() as http:
        company = await signup(http)
        email = (await http.get("/v1/me", headers=company.admin)).json()["user"]["email"]
        pair = await login(http, email)
        assert (
            await http.post("/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
        ).status_code == 204
        response = await http.post(
            "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_refresh_token"


async def test_expired_access_token_is_401_problem():
    async with client() as http:
        company = await signup(http)
        clock.advance(timedelta(seconds=get_settings().access_token_ttl_s + 1))
        response = await http.get("/v1/me", headers=company.admin)
        assert response.status_code == 401
        assert response.json()["code"] == "token_expired"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_wrong_audience_and_alg_none_are_refused():
    async with client() as http:
        company = await signup(http)
        claims = jwt.decode(company.admin_token, options={"verify_signature": False})
        settings = get_settings()
        wrong_audience = jwt.encode(
            {**claims, "aud": "someone-else"}, settings.secret_key, algorithm="HS256"
        )
        response = await http.get("/v1/me", headers=bearer(wrong_audience))
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"
        unsigned = jwt.encode(claims, None, algorithm="none")
        assert (await http.get("/v1/me", headers=bearer(unsigned))).status_code == 401
        wrong_issuer = jwt.encode({**claims, "iss": "evil"}, settings.secret_key, algorithm="HS256")
        assert (await http.get("/v1/me", headers=bearer(wrong_issuer))).status_code == 401


async def test_deactivated_user_is_401_and_refresh_tokens_die():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        email = (await http.get("/v1/me", headers=rep)).json()["user"]["email"]
        pair = await login(http, email)
        response = await http.post(f"/v1/users/{rep_id}/deactivate", headers=company.admin)
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        me = await http.get("/v1/me", headers=rep)
        assert me.status_code == 401
        assert me.json()["code"] == "user_deactivated"
        assert (
            await http.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        ).status_code == 401
        relogin = await http.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert relogin.status_code == 401


async def test_password_change_revokes_old_tokens():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        email = (await http.get("/v1/me", headers=rep)).json()["user"]["email"]
        pair = await login(http, email)
        changed = await http.post(
            "/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "a-new-password-123"},
            headers=bearer(pair["access_token"]),
        )
        assert changed.status_code == 204
        assert (await http.get("/v1/me", headers=rep)).json()["code"] == "token_revoked"
        assert (
            await http.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        ).status_code == 401
        assert (await login(http, email, "a-new-password-123"))["access_token"]


async def test_login_is_rate_limited_with_retry_after():
    async with client() as http:
        await signup(http)
        limit = get_settings().login_rate_limit
        statuses = []
        for _ in range(limit + 1):
            response = await http.post(
                "/v1/auth/token",
                data={"username": "victim@example.test", "password": "guess-guess"},
            )
            statuses.append(response.status_code)
        assert statuses[:limit] == [401] * limit
        assert statuses[-1] == 429
        assert response.json()["code"] == "login_rate_limited"
        assert int(response.headers["retry-after"]) > 0


async def test_missing_token_is_401_problem():
    async with client() as http:
        response = await http.get("/v1/me")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
