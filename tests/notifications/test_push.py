"""Push delivery through real local FCM, APNs (HTTP/2 over TLS) and Web Push servers:
signatures and payloads as the providers check them, retries with backoff and Retry-After,
dead tokens deactivated, the dead letter after the last try, and no double sends."""

import asyncio
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.config import get_settings
from app.core import clock
from app.db import session_factory
from app.notifications.inbox.service import notify as service_notify
from app.notifications.models import Notification, PushAttempt
from tests.helpers import client, signup
from tests.notifications.fake_providers import (
    APNS_KEY_ID,
    APNS_TEAM_ID,
    APNS_TOPIC,
    FCM_PROJECT,
    VAPID_SUBJECT,
    FakeApns,
    FakeFcm,
    FakeWebPush,
    Server,
    pem,
    self_signed_cert,
)
from workers.jobs.push import deliver_pending_pushes

BACKOFF_BASE_S = 30


@dataclass
class Fakes:
    fcm: FakeFcm
    apns: FakeApns
    web: FakeWebPush
    env: dict[str, str]


@pytest.fixture(scope="module")
async def fakes(tmp_path_factory: pytest.TempPathFactory):
    folder: Path = tmp_path_factory.mktemp("push")
    fcm, apns, web = FakeFcm(), FakeApns(), FakeWebPush()
    cert, key = self_signed_cert(folder)
    servers = [Server(fcm.app), Server(apns.app, tls=(cert, key)), Server(web.app)]
    for fake, server in zip((fcm, apns, web), servers, strict=True):
        fake.url = await server.start()
    account = folder / "service-account.json"
    # The account names Google's token endpoint; the override sends the grant to the fake.
    account.write_text(json.dumps(fcm.service_account("https://oauth2.googleapis.com/token")))
    p8 = folder / f"AuthKey_{APNS_KEY_ID}.p8"
    p8.write_text(pem(apns.key))
    env = {
        "OUTFIELD_FCM_PROJECT_ID": FCM_PROJECT,
        "OUTFIELD_FCM_SERVICE_ACCOUNT": str(account),
        "OUTFIELD_FCM_BASE_URL": fcm.url,
        "OUTFIELD_FCM_TOKEN_URI": f"{fcm.url}/token",
        "OUTFIELD_APNS_KEY_PATH": str(p8),
        "OUTFIELD_APNS_KEY_ID": APNS_KEY_ID,
        "OUTFIELD_APNS_TEAM_ID": APNS_TEAM_ID,
        "OUTFIELD_APNS_TOPIC": APNS_TOPIC,
        "OUTFIELD_APNS_BASE_URL": apns.url,
        # A PEM written on one line with \n escapes, as it would sit in an env file.
        "OUTFIELD_VAPID_PRIVATE_KEY": pem(web.vapid_key).replace("\n", "\\n"),
        "OUTFIELD_VAPID_SUBJECT": VAPID_SUBJECT,
        "OUTFIELD_WEBPUSH_ENDPOINT_HOSTS": "127.0.0.1",
        "OUTFIELD_PUSH_CA_BUNDLE": str(cert),
        "OUTFIELD_PUSH_BACKOFF_BASE_S": str(BACKOFF_BASE_S),
    }
    yield Fakes(fcm, apns, web, env)
    for server in servers:
        await server.close()


@pytest.fixture(autouse=True)
def push_settings(fakes: Fakes, monkeypatch: pytest.MonkeyPatch):
    for fake in (fakes.fcm, fakes.apns, fakes.web):
        fake.reset()
    for name, value in fakes.env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def fcm_token() -> str:
    return "fcm-" + secrets.token_urlsafe(40)


def apns_token() -> str:
    return secrets.token_hex(32)


async def someone(http) -> tuple[str, str, dict[str, str]]:
    """(company id, user id, auth headers) of a new rep."""
    company = await signup(http)
    user_id, headers = await company.user()
    return company.id, user_id, headers


async def register(http, headers, platform: str, token: str, keys: dict | None = None) -> str:
    body = {"platform": platform, "token": token, "keys": keys, "device_name": "test phone"}
    response = await http.post("/v1/devices", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def notify(company_id: str, user_id: str, count: int = 1, **fields) -> list[uuid.UUID]:
    """Inbox rows as the notification service writes them (rendered, pending push)."""
    rows = [
        Notification(
            company_id=uuid.UUID(company_id),
            user_id=uuid.UUID(user_id),
            kind="visit_due",
            title="Visit due",
            body="Visit Acme Ltd today",
            deep_link="outfield://customers/42",
            dedupe_key=f"test:{uuid.uuid4()}",
            data={"customer_id": "42", "count": 3},
            **fields,
        )
        for _ in range(count)
    ]
    async with session_factory()() as session:
        session.add_all(rows)
        await session.commit()
    return [row.id for row in rows]


async def notification(notification_id: uuid.UUID) -> Notification:
    async with session_factory()() as session:
        return await session.get_one(Notification, notification_id)


async def attempts(notification_id: uuid.UUID) -> list[PushAttempt]:
    async with session_factory()() as session:
        rows = await session.scalars(
            select(PushAttempt)
            .where(PushAttempt.notification_id == notification_id)
            .order_by(PushAttempt.attempt, PushAttempt.created_at)
        )
        return list(rows)


async def run() -> dict[str, int]:
    counts: dict[str, int] = {}
    await deliver_pending_pushes(counts)
    return counts


async def test_fcm_push_gets_an_oauth_token_from_the_service_account_and_sends_a_v1_message(
    fakes: Fakes,
):
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        token = fcm_token()
        await register(http, headers, "fcm", token)
        [first] = await notify(company_id, user_id)
        counts = await run()
        [second] = await notify(company_id, user_id)
        await run()

    assert fakes.fcm.problems == []
    assert counts["examined"] == 1 and counts["sent"] == 1
    sent = await notification(first)
    assert sent.push_state == "sent" and sent.pushed_at is not None
    assert (await notification(second)).push_state == "sent"
    assert fakes.fcm.token_requests == 1  # the access token is reused until it expires
    message = fakes.fcm.received[0].body["message"]
    assert message["token"] == token
    assert message["notification"] == {"title": "Visit due", "body": "Visit Acme Ltd today"}
    assert message["data"] == {
        "customer_id": "42",
        "count": "3",
        "notification_id": str(first),
        "kind": "visit_due",
        "deep_link": "outfield://customers/42",
    }
    [attempt] = await attempts(first)
    assert (attempt.attempt, attempt.outcome, attempt.status_code) == (1, "sent", 200)


async def test_fcm_access_token_is_renewed_once_it_expires(fakes: Fakes):
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "fcm", fcm_token())
        await notify(company_id, user_id)
        await run()
        clock.advance(timedelta(hours=2))
        [later] = await notify(company_id, user_id)
        await run()
    assert fakes.fcm.problems == []
    assert fakes.fcm.token_requests == 2
    assert (await notification(later)).push_state == "sent"


async def test_apns_push_is_es256_signed_and_sent_over_http2_with_topic_and_push_type(
    fakes: Fakes,
):
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        token = apns_token()
        await register(http, headers, "apns", token)
        [sent] = await notify(company_id, user_id)
        await run()

    assert fakes.apns.problems == []
    assert (await notification(sent)).push_state == "sent"
    [request] = fakes.apns.received
    assert request.http_version == "2"
    assert request.path == f"/3/device/{token}"
    assert request.headers["apns-topic"] == APNS_TOPIC
    assert request.headers["apns-push-type"] == "alert"
    assert request.body["aps"]["alert"] == {"title": "Visit due", "body": "Visit Acme Ltd today"}
    assert request.body["notification_id"] == str(sent)
    assert request.body["deep_link"] == "outfield://customers/42"


async def test_webpush_is_vapid_signed_and_decrypts_with_the_subscription_keys(fakes: Fakes):
    subscription = fakes.web.subscribe()
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "webpush", subscription["endpoint"], subscription["keys"])
        [sent] = await notify(company_id, user_id)
        await run()

    assert fakes.web.problems == []
    assert (await notification(sent)).push_state == "sent"
    [request] = fakes.web.received
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) > 0
    assert request.headers["authorization"].startswith("vapid t=")
    assert request.body["title"] == "Visit due"
    assert request.body["body"] == "Visit Acme Ltd today"
    assert request.body["notification_id"] == str(sent)
    assert request.body["data"] == {"customer_id": "42", "count": 3}


async def test_a_503_is_retried_after_a_backoff_and_then_delivered(fakes: Fakes):
    token = fcm_token()
    fakes.fcm.script(token, (503, {"error": {"code": 503, "status": "UNAVAILABLE"}}, {}))
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "fcm", token)
        [retried] = await notify(company_id, user_id)
        first = await run()
        waiting = await notification(retried)
        not_yet = await run()
        clock.advance(timedelta(seconds=BACKOFF_BASE_S + 1))
        await run()

    assert first["retried"] == 1
    assert waiting.push_state == "pending"
    delay = (waiting.push_after - waiting.updated_at).total_seconds()
    assert BACKOFF_BASE_S * 0.5 - 1 <= delay <= BACKOFF_BASE_S + 1
    assert not_yet["examined"] == 0
    assert (await notification(retried)).push_state == "sent"
    history = [(a.attempt, a.outcome, a.status_code) for a in await attempts(retried)]
    assert history == [(1, "retry", 503), (2, "sent", 200)]


async def test_a_429_waits_at_least_the_retry_after(fakes: Fakes):
    token = apns_token()
    fakes.apns.script(token, (429, {"reason": "TooManyRequests"}, {"retry-after": "900"}))
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "apns", token)
        [throttled] = await notify(company_id, user_id)
        started = clock.now()
        await run()
    waiting = await notification(throttled)
    assert waiting.push_state == "pending"
    assert waiting.push_after >= started + timedelta(seconds=900)
    [attempt] = await attempts(throttled)
    assert (attempt.outcome, attempt.status_code) == ("retry", 429)


async def test_tokens_the_providers_reject_are_deactivated_and_not_retried(fakes: Fakes):
    apns_gone, fcm_gone = apns_token(), fcm_token()
    fakes.apns.script(apns_gone, (410, {"reason": "Unregistered"}, {}))
    unregistered = {"code": 404, "status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}
    fakes.fcm.script(fcm_gone, (404, {"error": unregistered}, {}))
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "apns", apns_gone)
        await register(http, headers, "fcm", fcm_gone)
        [first] = await notify(company_id, user_id)
        counts = await run()
        [second] = await notify(company_id, user_id)
        await run()
        listed = (await http.get("/v1/devices", headers=headers)).json()["items"]

    assert counts["deactivated"] == 2
    assert (await notification(first)).push_state == "no_devices"
    assert {a.outcome for a in await attempts(first)} == {"invalid_token"}
    assert (await notification(second)).push_state == "no_devices"
    assert await attempts(second) == []
    assert len(fakes.apns.received) == 1 and len(fakes.fcm.received) == 1
    assert [device["active"] for device in listed] == [False, False]
    assert all("rejected the token" in device["deactivated_reason"] for device in listed)


async def test_after_the_last_attempt_the_notification_is_dead(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OUTFIELD_PUSH_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    subscription = fakes.web.subscribe()
    sub = subscription["endpoint"].rsplit("/", 1)[1]
    fakes.web.script(sub, *[(500, {}, {})] * 5)
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "webpush", subscription["endpoint"], subscription["keys"])
        [doomed] = await notify(company_id, user_id)
        runs = []
        for _ in range(4):
            runs.append(await run())
            clock.advance(timedelta(hours=1))

    assert [r["retried"] for r in runs] == [1, 1, 0, 0]
    assert [r["dead"] for r in runs] == [0, 0, 1, 0]
    assert (await notification(doomed)).push_state == "dead"
    history = [(a.attempt, a.outcome, a.status_code) for a in await attempts(doomed)]
    assert history == [(1, "retry", 500), (2, "retry", 500), (3, "retry", 500)]


async def test_two_concurrent_runs_never_send_the_same_notification_twice(fakes: Fakes):
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "fcm", fcm_token())
        ids = await notify(company_id, user_id, count=150)
        one, two = await asyncio.gather(run(), run())

    sent_ids = [r.body["message"]["data"]["notification_id"] for r in fakes.fcm.received]
    assert len(sent_ids) == 150
    assert set(sent_ids) == {str(i) for i in ids}
    assert one["examined"] + two["examined"] == 150
    assert one["sent"] + two["sent"] == 150


async def test_a_provider_without_credentials_records_a_failed_attempt(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("OUTFIELD_APNS_KEY_PATH")
    get_settings.cache_clear()
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "apns", apns_token())
        [unsendable] = await notify(company_id, user_id)
        counts = await run()
    assert counts["failed"] == 1
    assert (await notification(unsendable)).push_state == "failed"
    [attempt] = await attempts(unsendable)
    assert attempt.outcome == "failed"
    assert "APNs is not configured" in attempt.error
    assert "OUTFIELD_APNS_KEY_PATH" in attempt.error


async def test_only_the_devices_that_can_be_reached_matter(fakes: Fakes):
    misconfigured = apns_token()
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "apns", misconfigured)
        await register(http, headers, "fcm", fcm_token())
        [sent] = await notify(company_id, user_id)
        fakes.apns.script(misconfigured, (400, {"reason": "BadTopic"}, {}))
        await run()
    assert (await notification(sent)).push_state == "sent"
    assert sorted(a.outcome for a in await attempts(sent)) == ["failed", "sent"]


async def test_a_user_without_devices_gets_no_devices():
    async with client() as http:
        company_id, user_id, _ = await someone(http)
        [quiet] = await notify(company_id, user_id)
        counts = await run()
    assert counts["no_devices"] == 1
    assert (await notification(quiet)).push_state == "no_devices"


async def test_a_notification_not_yet_due_waits_and_a_dead_workers_claim_is_taken_back(
    fakes: Fakes,
):
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "fcm", fcm_token())
        [later] = await notify(company_id, user_id, push_after=clock.now() + timedelta(hours=1))
        [abandoned] = await notify(company_id, user_id)
        async with session_factory()() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id == abandoned)
                .values(push_state="sending", push_after=clock.now() - timedelta(seconds=1))
            )
            await session.commit()
        counts = await run()
    assert counts["examined"] == 1
    assert (await notification(abandoned)).push_state == "sent"
    assert (await notification(later)).push_state == "pending"


async def test_a_push_in_quiet_hours_waits_for_their_end_then_goes(fakes: Fakes):
    async with client() as http:
        company_id, user_id, headers = await someone(http)
        await register(http, headers, "fcm", fcm_token())
        local_now = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))  # signup's time zone
        start = (local_now - timedelta(minutes=30)).time().replace(microsecond=0)
        end = (local_now + timedelta(hours=2)).time().replace(second=0, microsecond=0)
        response = await http.put(
            "/v1/notifications/preferences",
            json={"quiet_start": start.isoformat(), "quiet_end": end.isoformat()},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        async with session_factory()() as session:
            await service_notify(
                session,
                company_id=uuid.UUID(company_id),
                user_ids=[uuid.UUID(user_id)],
                kind="customer_recycled",
                params={"customer": "Acme", "reason": "no_followup"},
                dedupe_key="quiet-hours-test",
            )
            await session.commit()
        assert (await run()).get("sent", 0) == 0
        assert fakes.fcm.received == []
        clock.advance(timedelta(hours=2, minutes=1))
        assert (await run())["sent"] == 1
        [message] = fakes.fcm.received
        assert "Acme" in message.body["message"]["notification"]["body"]
