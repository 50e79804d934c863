"""Sign-out revokes the access tokens of the sign-in at once, not when they expire."""

import uuid

import jwt

from app.config import get_settings
from app.core.redis import get_redis
from tests.helpers import bearer, client, login, signup


def _jti(token: str) -> uuid.UUID:
    return uuid.UUID(jwt.decode(token, options={"verify_signature": False})["jti"])


async def test_logout_revokes_the_access_tokens_of_the_sign_in():
    async with client() as http:
        company = await signup(http)
        first = await login(http, company.admin_email)
        # A rotation: the previous access token is still unexpired, and still of this sign-in.
        second = (
            await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()
        other_device = await login(http, company.admin_email)
        for token in (first["access_token"], second["access_token"]):
            assert (await http.get("/v1/me", headers=bearer(token))).status_code == 200

        response = await http.post(
            "/v1/auth/logout", json={"refresh_token": second["refresh_token"]}
        )
        assert response.status_code == 204

        for token in (first["access_token"], second["access_token"]):
            me = await http.get("/v1/me", headers=bearer(token))
            assert me.status_code == 401
            assert me.json()["code"] == "token_revoked"
            assert me.headers["www-authenticate"] == "Bearer"
        # Another sign-in of the same user is not signed out.
        assert (
            await http.get("/v1/me", headers=bearer(other_device["access_token"]))
        ).status_code == 200


async def test_the_deny_list_entry_lives_as_long_as_the_token():
    async with client() as http:
        company = await signup(http)
        pair = await login(http, company.admin_email)
        await http.post("/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
        ttl = await get_redis().ttl(f"outfield:revoked-access:{_jti(pair['access_token']).hex}")
        assert 0 < ttl <= get_settings().access_token_ttl_s


async def test_a_reused_refresh_token_also_revokes_the_access_tokens_of_its_sign_in():
    async with client() as http:
        company = await signup(http)
        first = await login(http, company.admin_email)
        second = (
            await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()
        third = (
            await http.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        ).json()
        # `first` again, outside the grace window of its rotation (which was `second`'s): theft.
        reused = await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reused.json()["code"] == "refresh_token_reused"
        me = await http.get("/v1/me", headers=bearer(third["access_token"]))
        assert me.status_code == 401
        assert me.json()["code"] == "token_revoked"
