"""The one outbox runner (app/notifications/delivery.py) through both of its channels, against
real local servers: a Web Push service (tests/notifications/fake_providers.py) and a webhook
receiver, each behind a gate that can hold a request — a slow provider — while the test
moves the clock or runs a second worker. Leases look the same in both outboxes, a result
that comes back after its lease passed to another worker is dropped, and a second runner
never sends what the first one holds."""

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.config import get_settings
from app.core import clock
from app.db import session_factory
from app.notifications import delivery
from app.notifications.delivery import Limits
from app.notifications.models import Notification, PushAttempt, WebhookDelivery
from tests.helpers import client, signup
from tests.notifications.fake_providers import VAPID_SUBJECT, FakeWebPush, Server, pem
from tests.notifications.webhook_helpers import create_webhook, enqueue
from workers.jobs import push as push_job
from workers.jobs import webhooks as webhook_job

WAIT_S = 5.0  # well inside the senders' 10 s request timeouts


@dataclass
class Hold:
    """One held request: set when it arrives, and the event that lets it through."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def reached(self) -> None:
        await asyncio.wait_for(self.arrived.wait(), WAIT_S)


class Gate:
    """An ASGI wrapper that holds the next requests, one per `hold_next`, until released."""

    def __init__(self, app) -> None:
        self.app = app
        self.holds: list[Hold] = []
        self.made: list[Hold] = []

    def hold_next(self) -> Hold:
        hold = Hold()
        self.holds.append(hold)
        self.made.append(hold)
        return hold

    def open(self) -> None:
        """Let every held request through and hold no more (a test's clean-up)."""
        for hold in self.made:
            hold.release.set()
        self.holds.clear()
        self.made.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.holds:
            hold = self.holds.pop(0)
            hold.arrived.set()
            await hold.release.wait()
        await self.app(scope, receive, send)


class Hooks:
    """A webhook receiver: records (path, event id, answer) and answers as planned."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []
        self.plans: dict[str, list[int]] = {}
        self.app = Starlette(routes=[Route("/{name}", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        await request.body()
        plan = self.plans.get(request.url.path)
        status = plan.pop(0) if plan else 200
        self.requests.append((request.url.path, request.headers["outfield-event-id"], status))
        return Response(status_code=status)


@dataclass
class Servers:
    web: FakeWebPush
    web_gate: Gate
    hooks: Hooks
    hooks_gate: Gate
    hooks_url: str


@pytest.fixture(scope="module")
async def servers():
    web, hooks = FakeWebPush(), Hooks()
    web_gate, hooks_gate = Gate(web.app), Gate(hooks.app)
    running = [Server(web_gate), Server(hooks_gate)]
    web.url = await running[0].start()
    hooks_url = await running[1].start()
    yield Servers(web, web_gate, hooks, hooks_gate, hooks_url)
    web_gate.open()
    hooks_gate.open()
    for server in running:
        await server.close()


@pytest.fixture(autouse=True)
def settings(servers: Servers, monkeypatch: pytest.MonkeyPatch):
    servers.web.reset()
    servers.hooks.requests.clear()
    servers.hooks.plans.clear()
    for gate in (servers.web_gate, servers.hooks_gate):
        gate.open()
    env = {
        "OUTFIELD_VAPID_PRIVATE_KEY": pem(servers.web.vapid_key).replace("\n", "\\n"),
        "OUTFIELD_VAPID_SUBJECT": VAPID_SUBJECT,
        "OUTFIELD_WEBPUSH_ENDPOINT_HOSTS": "127.0.0.1",
        "OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS": "true",
        "OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    for gate in (servers.web_gate, servers.hooks_gate):
        gate.open()
    monkeypatch.undo()
    get_settings.cache_clear()


def small(lease: timedelta) -> Limits:
    """Small batches, so that one run takes several and two runs interleave."""
    return Limits(batch=4, concurrency=2, lease=lease, budget_s=60.0)


def push_channel(limits: Limits | None = None) -> push_job.PushChannel:
    return push_job.PushChannel(get_settings(), limits or push_job.channel().limits)


def webhook_channel(limits: Limits | None = None) -> webhook_job.WebhookChannel:
    default = webhook_job.channel()
    return webhook_job.WebhookChannel(limits or default.limits, default.retry_window)


async def webpush_user(http, servers: Servers) -> tuple[str, str, str]:
    """(company id, user id, subscription id) of a rep with one Web Push device."""
    company = await signup(http)
    user_id, headers = await company.user()
    subscription = servers.web.subscribe()
    body = {"platform": "webpush", "token": subscription["endpoint"], "keys": subscription["keys"]}
    response = await http.post("/v1/devices", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return company.id, user_id, subscription["endpoint"].rsplit("/", 1)[1]


async def notify(company_id: str, user_id: str, count: int = 1) -> list[uuid.UUID]:
    rows = [
        Notification(
            company_id=uuid.UUID(company_id),
            user_id=uuid.UUID(user_id),
            kind="visit_due",
            title="Visit due",
            body=f"Visit number {number}",
            dedupe_key=f"runner:{uuid.uuid4()}",
        )
        for number in range(count)
    ]
    async with session_factory()() as session:
        session.add_all(rows)
        await session.commit()
    return [row.id for row in rows]


async def webhook_events(http, servers: Servers, path: str, count: int = 1) -> str:
    """A webhook at `path` of the receiver with `count` events queued; its company id."""
    company = await signup(http)
    await create_webhook(http, company, f"{servers.hooks_url}{path}")
    for number in range(count):
        assert await enqueue(company.id, "followup.created", {"n": number}) == 1
    return company.id


async def notifications() -> list[Notification]:
    async with session_factory()() as session:
        return list(await session.scalars(select(Notification)))


async def deliveries() -> list[WebhookDelivery]:
    async with session_factory()() as session:
        return list(await session.scalars(select(WebhookDelivery)))


def pushed_ids(servers: Servers) -> list[str]:
    return [request.body["notification_id"] for request in servers.web.received]


async def test_both_channels_go_through_the_one_runner_and_lease_rows_the_same_way(servers):
    async with client() as http:
        company_id, user_id, _ = await webpush_user(http, servers)
        [pushed] = await notify(company_id, user_id)
        await webhook_events(http, servers, "/one")
    lease = timedelta(minutes=7)
    before = clock.now()
    holds = [servers.web_gate.hold_next(), servers.hooks_gate.hold_next()]
    push_counts: dict[str, int] = {}
    hook_counts: dict[str, int] = {}
    runs = [
        asyncio.create_task(delivery.run(push_channel(small(lease)), push_counts)),
        asyncio.create_task(delivery.run(webhook_channel(small(lease)), hook_counts)),
    ]
    for hold in holds:
        await hold.reached()
    # Mid-send: in both outboxes the due column holds the lease expiry, in the leased state.
    [leased_push] = await notifications()
    [leased_hook] = await deliveries()
    after = clock.now()
    assert leased_push.push_state == "sending" and leased_hook.status == "pending"
    for expiry in (leased_push.push_after, leased_hook.next_attempt_at):
        assert before + lease <= expiry <= after + lease
    for hold in holds:
        hold.release.set()
    push_run, hook_run = await asyncio.gather(*runs)

    assert (push_run.claimed, push_run.lost, hook_run.claimed, hook_run.lost) == (1, 0, 1, 0)
    assert push_counts["sent"] == 1 and push_counts["attempts"] == 1
    assert hook_counts == {"examined": 1, "delivered": 1, "retried": 0, "failed": 0}
    [sent] = await notifications()
    [delivered] = await deliveries()
    assert sent.id == pushed and sent.push_state == "sent" and sent.pushed_at is not None
    assert delivered.status == "delivered" and delivered.attempts == 1
    assert pushed_ids(servers) == [str(pushed)] and len(servers.hooks.requests) == 1


async def test_a_late_webhook_result_after_the_lease_was_lost_is_not_applied(servers):
    async with client() as http:
        await webhook_events(http, servers, "/slow")
    first_hold = servers.hooks_gate.hold_next()
    first = asyncio.create_task(delivery.run(webhook_channel(), {}))
    await first_hold.reached()
    clock.advance(webhook_job.LEASE + timedelta(seconds=1))  # the first worker's lease runs out
    second_hold = servers.hooks_gate.hold_next()
    second = asyncio.create_task(delivery.run(webhook_channel(), {}))
    await second_hold.reached()  # the second worker has claimed it again and is sending
    # The first worker's try comes back late with a 200, the second worker's with a 500.
    servers.hooks.plans["/slow"] = [200, 500]
    first_hold.release.set()
    late = await first
    [row] = await deliveries()
    assert row.status == "pending" and row.delivered_at is None  # the late 200 was dropped
    assert row.attempts == 0 and row.last_status_code is None
    second_hold.release.set()
    current = await second

    assert (late.claimed, late.lost) == (1, 1)
    assert (current.claimed, current.lost) == (1, 0)
    [row] = await deliveries()
    assert row.status == "pending" and row.delivered_at is None
    assert row.attempts == 1 and row.last_status_code == 500 and row.last_error == "HTTP 500"
    assert row.next_attempt_at > clock.now()
    assert [status for _, _, status in servers.hooks.requests] == [200, 500]
    assert len({event_id for _, event_id, _ in servers.hooks.requests}) == 1


async def test_a_late_push_result_after_the_lease_was_lost_is_not_applied(servers):
    async with client() as http:
        company_id, user_id, sub = await webpush_user(http, servers)
        [notification_id] = await notify(company_id, user_id)
    first_hold = servers.web_gate.hold_next()
    first = asyncio.create_task(delivery.run(push_channel(), {}))
    await first_hold.reached()
    clock.advance(push_job.CLAIM_LEASE + timedelta(seconds=1))  # the first worker's lease runs out
    second_hold = servers.web_gate.hold_next()
    second_counts: dict[str, int] = {}
    second = asyncio.create_task(delivery.run(push_channel(), second_counts))
    await second_hold.reached()  # the second worker has claimed it again and is sending
    # The first worker's try comes back late with a 500 (a retry), the second one's goes through.
    servers.web.script(sub, (500, {}, {}))
    first_hold.release.set()
    late = await first
    [row] = await notifications()
    assert row.push_state == "sending"  # still the second worker's: the late retry was dropped
    second_hold.release.set()
    current = await second

    assert (late.claimed, late.lost) == (1, 1)
    assert (current.claimed, current.lost) == (1, 0) and second_counts["sent"] == 1
    [row] = await notifications()
    assert row.push_state == "sent" and row.pushed_at is not None
    async with session_factory()() as session:
        outcomes = await session.scalars(
            select(PushAttempt.outcome).where(PushAttempt.notification_id == notification_id)
        )
        assert sorted(outcomes) == ["retry", "sent"]  # both sends happened and are on record
    assert pushed_ids(servers) == [str(notification_id)] * 2


async def test_a_second_runner_never_sends_what_the_first_one_holds(servers):
    async with client() as http:
        company_id, user_id, _ = await webpush_user(http, servers)
        ids = await notify(company_id, user_id, count=10)
        await webhook_events(http, servers, "/many", count=10)
    for run_channel, gate in (
        (lambda: push_channel(small(push_job.CLAIM_LEASE)), servers.web_gate),
        (lambda: webhook_channel(small(webhook_job.LEASE)), servers.hooks_gate),
    ):
        hold = gate.hold_next()
        first = asyncio.create_task(delivery.run(run_channel(), {}))
        await hold.reached()
        # The first runner is stuck in its first batch; the second takes all the rest.
        second = await delivery.run(run_channel(), {})
        hold.release.set()
        held = await first
        assert (held.claimed, second.claimed) == (4, 6)
        assert held.lost == second.lost == 0

    assert sorted(pushed_ids(servers)) == sorted(str(i) for i in ids)
    event_ids = [event_id for _, event_id, _ in servers.hooks.requests]
    assert len(event_ids) == len(set(event_ids)) == 10
    assert {row.push_state for row in await notifications()} == {"sent"}
    assert {row.status for row in await deliveries()} == {"delivered"}


async def test_two_runners_per_channel_at_once_send_everything_exactly_once(servers):
    async with client() as http:
        company_id, user_id, _ = await webpush_user(http, servers)
        ids = await notify(company_id, user_id, count=30)
        await webhook_events(http, servers, "/busy", count=30)
    counts: list[dict[str, int]] = [{}, {}, {}, {}]
    channels = [
        push_channel(small(push_job.CLAIM_LEASE)),
        push_channel(small(push_job.CLAIM_LEASE)),
        webhook_channel(small(webhook_job.LEASE)),
        webhook_channel(small(webhook_job.LEASE)),
    ]
    runs = await asyncio.gather(
        *(delivery.run(channel, into) for channel, into in zip(channels, counts, strict=True))
    )

    assert sum(run.lost for run in runs) == 0
    assert counts[0]["sent"] + counts[1]["sent"] == 30
    assert counts[2]["delivered"] + counts[3]["delivered"] == 30
    assert sorted(pushed_ids(servers)) == sorted(str(i) for i in ids)
    event_ids = [event_id for _, event_id, _ in servers.hooks.requests]
    assert len(event_ids) == len(set(event_ids)) == 30
    assert {row.push_state for row in await notifications()} == {"sent"}
    assert {row.status for row in await deliveries()} == {"delivered"}
