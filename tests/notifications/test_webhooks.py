"""Webhooks: admin subscriptions, the SSRF guard, signed delivery to a real local receiver,
retries with backoff, the dead letter after a day, test events, and the outbox guarantees."""

import asyncio
import ipaddress
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.config import get_settings
from app.core import clock
from app.db import session_factory
from app.notifications.models import WebhookDelivery
from app.notifications.webhooks import service as webhooks
from app.notifications.webhooks.rules import is_forbidden_address
from tests.helpers import client, signup
from tests.notifications.webhook_helpers import (
    Receiver,
    configure,
    create_webhook,
    deliver,
    deliveries_of,
    enqueue,
    verify,
)
from workers.jobs import webhooks as delivery_job


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def local_dev_settings(monkeypatch: pytest.MonkeyPatch):
    """Like local development: http allowed, and the guard lifted for 127.0.0.1 only."""
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS", "true")
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_admin_creates_a_webhook_and_sees_its_secret_only_once(receiver):
    async with client() as http:
        company = await signup(http)
        created = await create_webhook(
            http, company, f"{receiver.base}/ok", ["customer.claimed", "customer.claimed"]
        )
        assert len(created["secret"]) >= 40
        assert created["event_types"] == ["customer.claimed"] and created["active"] is True
        one = await http.get(f"/v1/webhooks/{created['id']}", headers=company.admin)
        assert one.status_code == 200 and "secret" not in one.json()
        assert one.headers["ETag"] == '"1"'
        listed = (await http.get("/v1/webhooks", headers=company.admin)).json()
        assert [item["id"] for item in listed["items"]] == [created["id"]]
        assert "secret" not in listed["items"][0]
        rotated = await http.post(
            f"/v1/webhooks/{created['id']}/rotate-secret", headers=company.admin
        )
        assert rotated.status_code == 200
        assert rotated.json()["secret"] not in ("", created["secret"])
        assert rotated.headers["Cache-Control"] == "no-store"
        again = await http.get(f"/v1/webhooks/{created['id']}", headers=company.admin)
        assert "secret" not in again.json() and again.json()["version"] == 2


async def test_url_must_be_https_unless_insecure_urls_are_allowed():
    configure(OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS="false")
    async with client() as http:
        company = await signup(http)
        for url, code in [
            ("http://127.0.0.1:9/hook", "webhook_url_insecure"),
            ("ftp://127.0.0.1/hook", "webhook_url_insecure"),
            ("https://user:pw@127.0.0.1/hook", "webhook_url_invalid"),
            ("https:///no-host", "webhook_url_invalid"),
            ("https://no-such-host.invalid/hook", "webhook_url_unresolvable"),
        ]:
            response = await http.post(
                "/v1/webhooks",
                json={"url": url, "event_types": ["log.created"]},
                headers=company.admin,
            )
            assert response.status_code == 422, (url, response.text)
            assert response.json()["code"] == code, url
            assert response.json()["errors"][0]["loc"] == ["body", "url"]
        allowed = await http.post(
            "/v1/webhooks",
            json={"url": "https://127.0.0.1:9/hook", "event_types": ["log.created"]},
            headers=company.admin,
        )
        assert allowed.status_code == 201, allowed.text


async def test_event_types_must_be_a_non_empty_subset_of_the_documented_list(receiver):
    async with client() as http:
        company = await signup(http)
        for event_types in ([], ["customer.exploded"]):
            response = await http.post(
                "/v1/webhooks",
                json={"url": f"{receiver.base}/ok", "event_types": event_types},
                headers=company.admin,
            )
            assert response.status_code == 422
            assert response.json()["code"] == "validation_failed"
            assert response.json()["errors"][0]["loc"][:2] == ["body", "event_types"]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "192.168.1.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "[::1]",
        "[fe80::1]",
        "[fc00::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "2130706433",  # 127.0.0.1 written as one number
        "localhost",
    ],
)
async def test_ssrf_guard_refuses_hosts_that_resolve_to_internal_addresses(host):
    configure(OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS="")
    async with client() as http:
        company = await signup(http)
        response = await http.post(
            "/v1/webhooks",
            json={"url": f"https://{host}:8443/hook", "event_types": ["log.created"]},
            headers=company.admin,
        )
        assert response.status_code == 422, (host, response.text)
        assert response.json()["code"] == "webhook_url_forbidden"


async def test_guard_is_lifted_only_for_listed_hosts_and_applies_to_edits(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        for url in ("http://localhost:9/x", "http://[::1]:9/x", "http://169.254.169.254/x"):
            moved = await http.patch(
                f"/v1/webhooks/{webhook['id']}",
                json={"url": url},
                headers=company.admin | {"If-Match": f'"{webhook["version"]}"'},
            )
            assert moved.status_code == 422 and moved.json()["code"] == "webhook_url_forbidden"


def test_address_rules_cover_embedded_ipv4_and_let_public_addresses_through():
    forbidden = ["2002:7f00:1::", "64:ff9b::a9fe:a9fe", "::127.0.0.1", "224.0.0.1", "ff02::1"]
    public = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808"]
    assert all(is_forbidden_address(ipaddress.ip_address(a)) for a in forbidden)
    assert not any(is_forbidden_address(ipaddress.ip_address(a)) for a in public)


async def test_reps_get_403_and_other_companies_get_404(receiver):
    async with client() as http:
        company = await signup(http, "A")
        other = await signup(http, "B")
        _, rep = await company.user("rep")
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        body = {"url": f"{receiver.base}/ok", "event_types": ["log.created"]}
        assert (await http.post("/v1/webhooks", json=body, headers=rep)).status_code == 403
        assert (await http.get("/v1/webhooks", headers=rep)).status_code == 403
        path = f"/v1/webhooks/{webhook['id']}"
        for method, url in [
            ("GET", path),
            ("PATCH", path),
            ("DELETE", path),
            ("GET", f"{path}/deliveries"),
            ("POST", f"{path}/test"),
            ("POST", f"{path}/rotate-secret"),
        ]:
            json_body = {} if method == "PATCH" else None
            assert (await http.request(method, url, json=json_body, headers=rep)).status_code == 403
            response = await http.request(method, url, json=json_body, headers=other.admin)
            assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert (await http.get("/v1/webhooks", headers=other.admin)).json()["items"] == []


async def test_event_is_delivered_signed_and_listed_as_delivered(receiver):
    async with client() as http:
        company = await signup(http)
        other = await signup(http, "Other")
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        await create_webhook(http, company, f"{receiver.base}/paused", active=False)
        await create_webhook(http, company, f"{receiver.base}/logs", ["log.created"])
        await create_webhook(http, other, f"{receiver.base}/other")
        followup_id = uuid.uuid4()
        assert await enqueue(company.id, "followup.created", {"followup_id": followup_id}) == 1
        counts = await deliver()
        assert counts == {"examined": 1, "delivered": 1, "retried": 0, "failed": 0}
        assert len(receiver.requests) == 1
        request = receiver.requests[0]
        assert request["path"] == "/ok"
        headers = request["headers"]
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"] == "Outfield-Webhooks/1"
        assert headers["host"] == f"127.0.0.1:{receiver.port}"
        assert headers["outfield-event-type"] == "followup.created"
        assert verify(webhook["secret"], headers, request["body"], clock.now().timestamp())
        assert not verify("wrong", headers, request["body"], clock.now().timestamp())
        payload = json.loads(request["body"])
        assert payload["id"] == headers["outfield-event-id"]
        assert payload["type"] == "followup.created" and payload["company_id"] == company.id
        assert payload["occurred_at"].endswith("Z")
        assert payload["data"] == {"followup_id": str(followup_id)}
        listed = await http.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=company.admin)
        [item] = listed.json()["items"]
        assert item["status"] == "delivered" and item["last_status_code"] == 200
        assert item["attempts"] == 1 and item["delivered_at"] is not None
        assert item["next_attempt_at"] is None and item["last_error"] is None
        assert await deliver() == {"examined": 0, "delivered": 0, "retried": 0, "failed": 0}


async def test_deliveries_are_listed_newest_first_with_a_cursor(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        for number in range(3):
            await enqueue(company.id, "followup.created", {"n": number})
            clock.advance(timedelta(seconds=1))
        url = f"/v1/webhooks/{webhook['id']}/deliveries"
        first = (await http.get(url, params={"limit": 2}, headers=company.admin)).json()
        assert [item["payload"]["data"]["n"] for item in first["items"]] == [2, 1]
        rest = await http.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=company.admin
        )
        assert [item["payload"]["data"]["n"] for item in rest.json()["items"]] == [0]
        assert rest.json()["next_cursor"] is None


async def test_a_failed_attempt_is_retried_with_backoff_then_delivered(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/flaky")
        receiver.plans["/flaky"] = [500]
        await enqueue(company.id, "followup.created", {"x": 1})
        assert (await deliver())["retried"] == 1
        [delivery] = await deliveries_of(webhook["id"])
        assert delivery.status == "pending" and delivery.attempts == 1
        assert delivery.last_status_code == 500 and delivery.last_error == "HTTP 500"
        wait = delivery.next_attempt_at - clock.now()
        assert timedelta(seconds=25) < wait <= timedelta(seconds=34)
        assert (await deliver())["examined"] == 0  # not due yet
        clock.advance(timedelta(seconds=40))
        assert (await deliver())["delivered"] == 1
        assert len(receiver.at("/flaky")) == 2
        first, second = receiver.at("/flaky")
        assert first["headers"]["outfield-event-id"] == second["headers"]["outfield-event-id"]
        admin = await company.relogin_admin()
        [item] = (await http.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=admin)).json()[
            "items"
        ]
        assert item["status"] == "delivered" and item["attempts"] == 2
        assert item["last_status_code"] == 200


async def test_a_delivery_failing_for_a_day_is_marked_failed(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/down")
        receiver.plans["/down"] = [503] * 1000
        await enqueue(company.id, "followup.created", {"followup_id": str(uuid.uuid4())})
        started = clock.now()
        for _ in range(100):
            counts = await deliver()
            [delivery] = await deliveries_of(webhook["id"])
            if delivery.status != "pending":
                break
            assert counts["retried"] == 1
            clock.advance(delivery.next_attempt_at - clock.now())
        assert delivery.status == "failed" and delivery.last_status_code == 503
        assert timedelta(hours=22) < clock.now() - started <= timedelta(hours=24)
        assert 20 <= delivery.attempts <= 40
        assert len(receiver.at("/down")) == delivery.attempts
        clock.advance(timedelta(days=2))
        assert (await deliver())["examined"] == 0
        admin = await company.relogin_admin()
        [item] = (await http.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=admin)).json()[
            "items"
        ]
        assert item["status"] == "failed" and item["next_attempt_at"] is None


async def test_test_event_goes_to_that_webhook_only(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/one")
        await create_webhook(http, company, f"{receiver.base}/two", ["webhook.test"])
        queued = await http.post(f"/v1/webhooks/{webhook['id']}/test", headers=company.admin)
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] == "pending"
        assert queued.json()["event_type"] == "webhook.test"
        assert (await deliver())["delivered"] == 1
        [request] = receiver.requests
        assert request["path"] == "/one"
        assert request["headers"]["outfield-event-id"] == queued.json()["event_id"]
        assert json.loads(request["body"])["data"]["webhook_id"] == webhook["id"]
        paused = await http.patch(
            f"/v1/webhooks/{webhook['id']}",
            json={"active": False},
            headers=company.admin | {"If-Match": f'"{webhook["version"]}"'},
        )
        assert paused.json()["active"] is False
        refused = await http.post(f"/v1/webhooks/{webhook['id']}/test", headers=company.admin)
        assert refused.status_code == 409 and refused.json()["code"] == "webhook_inactive"


async def test_a_rolled_back_change_leaves_no_delivery(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        async with session_factory()() as session, session.begin():
            inserted = await webhooks.enqueue_event(
                session, uuid.UUID(company.id), "followup.created", {"x": 1}
            )
            assert inserted == 1
            await session.rollback()
        assert await deliveries_of(webhook["id"]) == []
        assert (await deliver())["examined"] == 0
        assert receiver.requests == []


async def test_two_workers_send_each_delivery_once(receiver, monkeypatch):
    monkeypatch.setattr(delivery_job, "BATCH", 7)
    async with client() as http:
        company = await signup(http)
        for path in ("/a", "/b", "/c"):
            await create_webhook(http, company, f"{receiver.base}{path}")
        for number in range(20):
            assert await enqueue(company.id, "followup.created", {"n": number}) == 3
        first, second = await asyncio.gather(deliver(), deliver())
        assert first["delivered"] + second["delivered"] == 60
        sent = [(r["path"], r["headers"]["outfield-event-id"]) for r in receiver.requests]
        assert len(sent) == 60 and len(set(sent)) == 60
        async with session_factory()() as session:
            states = dict(
                (
                    await session.execute(
                        select(WebhookDelivery.status, func.count()).group_by(
                            WebhookDelivery.status
                        )
                    )
                ).all()
            )
        assert states == {"delivered": 60}


async def test_redirects_are_not_followed(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/redirect")
        await enqueue(company.id, "followup.created", {"x": 1})
        assert (await deliver())["retried"] == 1
        assert len(receiver.at("/redirect")) == 1 and receiver.at("/landing") == []
        [delivery] = await deliveries_of(webhook["id"])
        assert delivery.status == "pending" and delivery.last_status_code == 302


async def test_the_address_is_checked_again_at_delivery_time(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        await enqueue(company.id, "followup.created", {"x": 1})
        configure(OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS="")
        assert (await deliver())["failed"] == 1
        assert receiver.requests == []
        [delivery] = await deliveries_of(webhook["id"])
        assert delivery.status == "failed" and delivery.last_error == "forbidden address"


async def test_a_listed_hostname_is_pinned_to_its_address_and_keeps_its_host_header(receiver):
    configure(OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS="localhost")
    async with client() as http:
        company = await signup(http)
        await create_webhook(http, company, f"http://localhost:{receiver.port}/named")
        await enqueue(company.id, "followup.created", {"x": 1})
        assert (await deliver())["delivered"] == 1
        [request] = receiver.at("/named")
        assert request["headers"]["host"] == f"localhost:{receiver.port}"


async def test_edit_with_if_match_then_delete_stops_deliveries(receiver):
    async with client() as http:
        company = await signup(http)
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        path = f"/v1/webhooks/{webhook['id']}"
        missing = await http.patch(path, json={"description": "x"}, headers=company.admin)
        assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
        stale = await http.patch(
            path, json={"description": "x"}, headers={**company.admin, "If-Match": '"7"'}
        )
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
        edited = await http.patch(
            path,
            json={"event_types": ["log.created", "followup.created"], "description": "CRM sync"},
            headers={**company.admin, "If-Match": '"1"'},
        )
        assert edited.status_code == 200 and edited.headers["ETag"] == '"2"'
        assert edited.json()["event_types"] == ["log.created", "followup.created"]
        assert await enqueue(company.id, "log.created", {"x": 1}) == 1
        assert (await http.delete(path, headers=company.admin)).status_code == 204
        assert (await http.get(path, headers=company.admin)).status_code == 404
        assert await enqueue(company.id, "log.created", {"x": 2}) == 0
        assert (await deliver())["failed"] == 1
        assert receiver.requests == []
        [delivery] = await deliveries_of(webhook["id"])
        assert delivery.status == "failed" and delivery.last_error == "webhook deleted"


async def test_webhook_urls_need_a_port_from_1_to_65535(receiver):
    async with client() as http:
        company = await signup(http)
        for port in (0, 65536, 99999):
            response = await http.post(
                "/v1/webhooks",
                json={"url": f"https://example.com:{port}/hook", "event_types": ["log.created"]},
                headers=company.admin,
            )
            assert response.status_code == 422, (port, response.text)
            assert response.json()["code"] == "webhook_url_invalid"
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        moved = await http.patch(
            f"/v1/webhooks/{webhook['id']}",
            json={"url": f"{receiver.base.rsplit(':', 1)[0]}:0/ok"},
            headers=company.admin | {"If-Match": f'"{webhook["version"]}"'},
        )
        assert moved.status_code == 422 and moved.json()["code"] == "webhook_url_invalid"


async def test_webhook_bodies_refuse_unknown_fields(receiver):
    async with client() as http:
        company = await signup(http)
        body = {"url": f"{receiver.base}/ok", "event_types": ["log.created"]}
        created = await http.post(
            "/v1/webhooks", json=body | {"secret": "mine"}, headers=company.admin
        )
        assert created.status_code == 422 and created.json()["code"] == "validation_failed"
        webhook = await create_webhook(http, company, f"{receiver.base}/ok")
        edited = await http.patch(
            f"/v1/webhooks/{webhook['id']}",
            json={"company_id": company.id},
            headers=company.admin | {"If-Match": f'"{webhook["version"]}"'},
        )
        assert edited.status_code == 422 and edited.json()["code"] == "validation_failed"
