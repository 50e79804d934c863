"""Devices: register, re-register (reactivate), move a token between users, list, unregister."""

import base64
import os
import secrets
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update

from app.config import get_settings
from app.db import session_factory
from app.notifications.models import Device
from tests.helpers import client, signup

PUSH_HOST = "updates.push.services.mozilla.com"


@pytest.fixture(autouse=True)
def known_push_services(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OUTFIELD_WEBPUSH_ENDPOINT_HOSTS", "*.push.services.mozilla.com")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription_keys() -> dict[str, str]:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}


def apns_token() -> str:
    return secrets.token_hex(32)


async def test_registering_a_token_creates_a_device_the_caller_lists():
    async with client() as http:
        company = await signup(http)
        _, headers = await company.user()
        token = apns_token()
        created = await http.post(
            "/v1/devices",
            json={"platform": "apns", "token": token, "device_name": "Li Wei's iPhone"},
            headers=headers,
        )
        listed = await http.get("/v1/devices", headers=headers)
    assert created.status_code == 201, created.text
    device = created.json()
    assert device["platform"] == "apns" and device["token"] == token
    assert device["active"] is True and device["deactivated_reason"] is None
    assert device["device_name"] == "Li Wei's iPhone"
    assert listed.json() == {"items": [device], "next_cursor": None}


async def test_registering_the_same_token_again_returns_the_device_reactivated():
    async with client() as http:
        company = await signup(http)
        _, headers = await company.user()
        body = {"platform": "fcm", "token": "fcm-" + secrets.token_urlsafe(40)}
        first = (await http.post("/v1/devices", json=body, headers=headers)).json()
        async with session_factory()() as session:
            await session.execute(
                update(Device)
                .where(Device.id == uuid.UUID(first["id"]))
                .values(active=False, deactivated_reason="fcm rejected the token")
            )
            await session.commit()
        again = await http.post("/v1/devices", json=body, headers=headers)
        listed = (await http.get("/v1/devices", headers=headers)).json()["items"]
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["active"] is True and again.json()["deactivated_reason"] is None
    assert again.json()["device_name"] is None
    assert len(listed) == 1


async def test_a_token_registered_by_someone_else_moves_to_the_caller():
    async with client() as http:
        company = await signup(http)
        _, previous = await company.user()
        other_company = await signup(http, name="Globex")
        _, caller = await other_company.user()
        body = {"platform": "apns", "token": apns_token(), "device_name": "shared iPad"}
        before = (await http.post("/v1/devices", json=body, headers=previous)).json()
        moved = await http.post("/v1/devices", json={**body, "device_name": None}, headers=caller)
        previous_list = (await http.get("/v1/devices", headers=previous)).json()["items"]
        caller_list = (await http.get("/v1/devices", headers=caller)).json()["items"]
    assert moved.status_code == 201
    assert moved.json()["id"] == before["id"]
    assert moved.json()["device_name"] == "shared iPad"
    assert previous_list == []
    assert [device["id"] for device in caller_list] == [before["id"]]


async def test_webpush_needs_its_subscription_keys_and_a_known_push_service():
    endpoint = f"https://{PUSH_HOST}/wpush/v2/{secrets.token_urlsafe(30)}"
    async with client() as http:
        company = await signup(http)
        _, headers = await company.user()
        no_keys = await http.post(
            "/v1/devices", json={"platform": "webpush", "token": endpoint}, headers=headers
        )
        bad_keys = await http.post(
            "/v1/devices",
            json={
                "platform": "webpush",
                "token": endpoint,
                "keys": {"p256dh": b64url(b"\x04" + b"x" * 10), "auth": b64url(b"a" * 16)},
            },
            headers=headers,
        )
        unknown_host = await http.post(
            "/v1/devices",
            json={
                "platform": "webpush",
                "token": "https://169.254.169.254/latest/meta-data",
                "keys": subscription_keys(),
            },
            headers=headers,
        )
        created = await http.post(
            "/v1/devices",
            json={"platform": "webpush", "token": endpoint, "keys": subscription_keys()},
            headers=headers,
        )
    assert no_keys.status_code == 422 and no_keys.json()["code"] == "invalid_push_keys"
    assert no_keys.json()["errors"][0]["loc"] == ["body", "keys"]
    assert bad_keys.status_code == 422 and bad_keys.json()["code"] == "invalid_push_keys"
    assert unknown_host.status_code == 422 and unknown_host.json()["code"] == "invalid_push_token"
    assert created.status_code == 201, created.text
    assert "keys" not in created.json()  # the auth secret is never echoed back


async def test_tokens_are_checked_against_their_platform():
    async with client() as http:
        company = await signup(http)
        _, headers = await company.user()
        responses = [
            await http.post("/v1/devices", json=body, headers=headers)
            for body in (
                {"platform": "apns", "token": "not-hex/../../evil"},
                {"platform": "fcm", "token": "has spaces and ?query=1"},
                {"platform": "fcm", "token": "fcm-" + "a" * 40, "keys": subscription_keys()},
                {"platform": "blackberry", "token": "abc"},
            )
        ]
    assert [r.status_code for r in responses] == [422, 422, 422, 422]
    assert [r.json()["code"] for r in responses] == [
        "invalid_push_token",
        "invalid_push_token",
        "invalid_push_keys",
        "validation_failed",
    ]


async def test_a_user_unregisters_their_own_device_but_not_someone_elses():
    async with client() as http:
        company = await signup(http)
        _, owner = await company.user()
        _, colleague = await company.user()
        device = (
            await http.post(
                "/v1/devices", json={"platform": "apns", "token": apns_token()}, headers=owner
            )
        ).json()
        by_colleague = await http.delete(f"/v1/devices/{device['id']}", headers=colleague)
        by_admin = await http.delete(f"/v1/devices/{device['id']}", headers=company.admin)
        still_there = (await http.get("/v1/devices", headers=owner)).json()["items"]
        by_owner = await http.delete(f"/v1/devices/{device['id']}", headers=owner)
        again = await http.delete(f"/v1/devices/{device['id']}", headers=owner)
        after = (await http.get("/v1/devices", headers=owner)).json()["items"]
    assert by_colleague.status_code == 404 and by_colleague.json()["code"] == "not_found"
    assert by_admin.status_code == 404
    assert [d["id"] for d in still_there] == [device["id"]]
    assert by_owner.status_code == 204 and by_owner.content == b""
    assert again.status_code == 404
    assert after == []


async def test_devices_need_a_signed_in_caller():
    async with client() as http:
        listed = await http.get("/v1/devices")
        created = await http.post("/v1/devices", json={"platform": "apns", "token": apns_token()})
        deleted = await http.delete(f"/v1/devices/{uuid.uuid4()}")
    assert [r.status_code for r in (listed, created, deleted)] == [401, 401, 401]
    assert listed.json()["code"] == "not_authenticated"


async def test_the_device_list_is_paginated_newest_first():
    async with client() as http:
        company = await signup(http)
        _, headers = await company.user()
        ids = [
            (
                await http.post(
                    "/v1/devices", json={"platform": "apns", "token": apns_token()}, headers=headers
                )
            ).json()["id"]
            for _ in range(3)
        ]
        first = (await http.get("/v1/devices?limit=2", headers=headers)).json()
        rest = (
            await http.get(f"/v1/devices?limit=2&cursor={first['next_cursor']}", headers=headers)
        ).json()
    listed = [d["id"] for d in first["items"] + rest["items"]]
    assert sorted(listed) == sorted(ids) and len(listed) == 3
    assert rest["next_cursor"] is None


async def test_device_bodies_refuse_unknown_fields():
    async with client() as http:
        company = await signup(http)
        _, headers = await company.user()
        for body in (
            {"platform": "apns", "token": apns_token(), "user_id": str(uuid.uuid4())},
            {"platform": "apns", "token": apns_token(), "active": False},
            {
                "platform": "webpush",
                "token": f"https://{PUSH_HOST}/wpush/v2/abc",
                "keys": subscription_keys() | {"extra": "x"},
            },
        ):
            response = await http.post("/v1/devices", json=body, headers=headers)
            assert response.status_code == 422, (body, response.text)
            assert response.json()["code"] == "validation_failed"
        assert (await http.get("/v1/devices", headers=headers)).json()["items"] == []
