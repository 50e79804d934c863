"""Money over HTTP (issue 14): the receivables ageing and the sales report for a manager of a
~60-person subtree, beside the same SQL on bare asyncpg; and the money reminder job.

    python -m bench.money \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --redis-url redis://127.0.0.1:6379/12

Needs the dataset with money (`bench.generate_money`). Steps:

1. the caller: the manager whose subtree (active users) is closest to `--subtree` (60);
2. capture, in-process (the real app through httpx.ASGITransport, a `before_cursor_execute`
   listener; the second of two requests): every statement of
   `GET /v1/reports/sales?group=month&from=<first of the month 11 months ago>&to=<today>` (a
   year by month) and `GET /v1/reports/receivables` (when the route exists: it answers 404
   otherwise, and the script says so);
3. the app served by uvicorn (`bench.common.Server`), the manager logged in through the app's
   own `POST /v1/auth/token`; per endpoint `--requests` (200) after `--warmup` (20), one
   request in flight, modes interleaved: `HTTP` (the figure), `SQL all` (every captured
   statement, caller lookup included, replayed on a bare asyncpg connection inside
   BEGIN … ROLLBACK as the app's GET does) and `SQL main` (the report's own statements);
   p50 / p99 and the target (p50 < 100 ms over HTTP);
4. `EXPLAIN (ANALYZE, BUFFERS)` of each report statement, with the captured values;
5. the reminder job (`app.money.reminders.money_reminders`, what `workers.jobs.money` runs) in
   this process over the whole data set, with the reminder hour at 0 so it runs whatever the
   time: the first run (what is due today: the whole windows, as on the day the feature goes
   live), then a re-run that must send nothing (target < 30 s each); the notifications the
   runs made are deleted afterwards (`--keep-notifications` keeps them), and EXPLAIN of the
   first batch of each kind.

It waits until no other benchmark runs (`bench.common.wait_for_quiet`) and prints the load
average before and after each timed part. Reads only, apart from the reminders' notifications
(deleted) and the logins' refresh tokens (deleted).
"""

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg

from bench.common import (
    DOMAIN,
    HTTP,
    Server,
    app_env,
    clear_login_limits,
    loadavg,
    login,
    pct,
    wait_for_quiet,
)

PASSWORD = "bench-password"
TARGET_MS = 100.0
JOB_TARGET_S = 30.0
KINDS = ("contract_expiring", "payment_due", "payment_overdue")


class Recorder:
    """`before_cursor_execute` on the app's engine: (sql, params) of each statement."""

    def __init__(self) -> None:
        self.on = False
        self.statements: list[tuple[str, list[Any]]] = []

    def __call__(self, conn, cursor, statement, parameters, context, many) -> None:  # noqa: ANN001, PLR0913
        if self.on and not many:
            self.statements.append((statement, list(parameters or ())))

    def take(self) -> list[tuple[str, list[Any]]]:
        found, self.statements = self.statements, []
        return found


async def init_bare(conn: asyncpg.Connection) -> None:
    """json / jsonb as SQLAlchemy's asyncpg dialect passes them: already-serialised text."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name,
            encoder=lambda v: v if isinstance(v, str) else json.dumps(v),
            decoder=json.loads,
            schema="pg_catalog",
        )


def is_report(sql: str) -> bool:
    """A report statement (not the caller lookup, the company's time zone or a BEGIN)."""
    lowered = sql.lower()
    return "from payments" in lowered or "from contracts" in lowered


async def replay(conn: asyncpg.Connection, statements: list[tuple[str, list[Any]]]) -> None:
    tx = conn.transaction()
    await tx.start()
    try:
        for sql, params in statements:
            await conn.fetch(sql, *params)
    finally:
        await tx.rollback()


def figures(samples: list[float]) -> str:
    return f"n={len(samples)} p50 {pct(samples, 50):7.2f} ms  p99 {pct(samples, 99):7.2f} ms"


async def pick_manager(conn: asyncpg.Connection, size: int) -> asyncpg.Record:
    managers = await conn.fetch(
        """
        SELECT m.id, m.email, m.company_id, d.name AS department,
               (SELECT count(*) FROM users u JOIN departments s ON s.id = u.department_id
                WHERE s.company_id = m.company_id AND s.path LIKE d.path || '%'
                  AND u.is_active) AS people
        FROM users m JOIN departments d ON d.id = m.department_id
        WHERE m.role = 'manager' AND m.is_active AND m.email LIKE $1
        """,
        f"%@{DOMAIN}",
    )
    if not managers:
        raise SystemExit("no bench managers: is this the bench dataset?")
    return min(managers, key=lambda m: (abs(m["people"] - size), m["email"]))


async def capture(
    email: str, targets: dict[str, str], password: str
) -> dict[str, list[tuple[str, list[Any]]] | None]:
    import logging

    import httpx
    from sqlalchemy import event

    from app.db import get_engine
    from app.main import app

    devnull = open(os.devnull, "w")  # noqa: SIM115, ASYNC230 - the in-process request log
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    recorder = Recorder()
    event.listen(get_engine().sync_engine, "before_cursor_execute", recorder)
    found: dict[str, list[tuple[str, list[Any]]] | None] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600
    ) as client:
        r = await client.post("/v1/auth/token", data={"username": email, "password": password})
        if r.status_code != 200:
            raise SystemExit(f"login failed for {email}: {r.status_code} {r.text[:300]}")
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        for name, target in targets.items():
            status = 0
            for attempt in (0, 1):
                recorder.on = attempt == 1
                response = await client.get(target, headers=headers)
                await asyncio.sleep(0.05)  # the session's teardown
                recorder.on = False
                status = response.status_code
            statements = recorder.take()
            if status == 404:
                found[name] = None
                print(f"  {name}: {target} answers 404 — the route is not there yet; skipped")
                continue
            if status != 200:
                raise SystemExit(f"{name}: {status} {response.text[:300]}")
            found[name] = statements
            main = [s for s in statements if is_report(s[0])]
            print(f"  {name}: {len(statements)} statements, {len(main)} of them the report's")
    event.remove(get_engine().sync_engine, "before_cursor_execute", recorder)
    return found


async def measure_http(
    args: argparse.Namespace,
    email: str,
    targets: dict[str, str],
    captured: dict[str, list[tuple[str, list[Any]]] | None],
    bare: asyncpg.Connection,
) -> None:
    server = Server("app.main:app", app_env(args.database_url, args.redis_url), "money-app")
    server.start()
    try:
        await server.wait_ready()
        await clear_login_limits(args.redis_url)
        token = (await login(server.port, [email], args.password))[email]
        headers = {"Authorization": f"Bearer {token}"}
        http = HTTP("127.0.0.1", server.port)
        await http.connect()
        wait_for_quiet(args.quiet_wait, label="before the HTTP figures")
        print(f"\nload average before: {loadavg()}")
        for name, target in targets.items():
            statements = captured.get(name)
            if statements is None:
                continue
            main = [s for s in statements if is_report(s[0])]
            samples: dict[str, list[float]] = {"HTTP": [], "SQL all": [], "SQL main": []}
            for k in range(args.warmup + args.requests):
                for mode in (list(samples) * 2)[k % 3 : k % 3 + 3]:
                    if mode == "HTTP":
                        await http.ready()
                        t0 = time.perf_counter()
                        status, body = await http.get(target, headers)
                        elapsed = time.perf_counter() - t0
                        if status != 200:
                            raise SystemExit(f"{name}: {status} {body[:300]!r}")
                    else:
                        t0 = time.perf_counter()
                        await replay(bare, statements if mode == "SQL all" else main)
                        elapsed = time.perf_counter() - t0
                    if k >= args.warmup:
                        samples[mode].append(elapsed * 1000)
            p50 = pct(samples["HTTP"], 50)
            verdict = "met" if p50 < TARGET_MS else "MISSED"
            print(f"\n{name} ({target}):")
            for mode, values in samples.items():
                print(f"  {mode:9} {figures(values)}")
            print(
                f"  HTTP p50 ÷ SQL all p50: {p50 / pct(samples['SQL all'], 50):.1f}×; "
                f"target p50 < {TARGET_MS:.0f} ms over HTTP: {verdict}"
            )
        await http.close()
        print(f"load average after: {loadavg()}")
    finally:
        server.stop()


async def explain(
    bare: asyncpg.Connection, captured: dict[str, list[tuple[str, list[Any]]] | None]
) -> None:
    for name, statements in captured.items():
        for sql, params in [s for s in statements or [] if is_report(s[0])]:
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) — {name}:\n  " + " ".join(sql.split())[:400])
            async with bare.transaction():
                plan = await bare.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
            print("\n".join("    " + r[0] for r in plan))
            with contextlib.suppress(Exception):
                await bare.execute("ROLLBACK")


async def explain_reminders(bare: asyncpg.Connection, when: str) -> None:
    """EXPLAIN of the first batch of each kind, as the job runs it (today's values)."""
    from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

    from app.core.clock import now
    from app.money import reminders

    rows = await bare.fetch("SELECT id, time_zone, settings FROM companies")
    companies = reminders.due_companies([SimpleNamespace(**dict(r)) for r in rows], now(), 0)
    for kind in reminders.KINDS:
        values = {
            **reminders._params(kind, companies),  # noqa: SLF001 - the job's own parameters
            "after_date": date(1900, 1, 1),
            "after_id": uuid.UUID(int=0),
        }
        compiled = kind.statement.compile(dialect=asyncpg_dialect.dialect())
        state = compiled.construct_expanded_state(compiled.construct_params(values))
        names = state.positiontup or []
        plan = await bare.fetch(
            f"EXPLAIN (ANALYZE, BUFFERS) {state.statement}",
            *[state.parameters[n] for n in names],
        )
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) — reminder {kind.name}, first batch ({when}):")
        print("\n".join("    " + r[0] for r in plan))


async def reminder_job(args: argparse.Namespace, bare: asyncpg.Connection) -> None:
    from app.money import reminders

    before = await bare.fetchval(
        "SELECT max(created_at) FROM notifications WHERE kind = ANY($1::text[])", list(KINDS)
    )
    if before is not None and not args.keep_notifications:
        raise SystemExit(
            "money reminder notifications exist already (another run's?): delete them or pass "
            "--keep-notifications"
        )
    wait_for_quiet(args.quiet_wait, label="before the reminder job")
    await explain_reminders(bare, "before the first run")
    results = []
    for label in ("first run", "re-run"):
        load = loadavg()
        counts: dict[str, int] = {}
        t0 = time.perf_counter()
        await reminders.money_reminders(counts)
        elapsed = time.perf_counter() - t0
        results.append((label, elapsed, counts))
        verdict = "met" if elapsed < JOB_TARGET_S else "MISSED"
        print(
            f"\nreminder job, {label}: {elapsed:.2f} s (target < {JOB_TARGET_S:.0f} s: {verdict})"
        )
        print(f"  load average before {load}, after {loadavg()}; counts {counts}")
    sent = await bare.fetch(
        "SELECT kind, count(*) AS n, count(DISTINCT dedupe_key) AS subjects FROM notifications"
        " WHERE kind = ANY($1::text[]) GROUP BY kind ORDER BY kind",
        list(KINDS),
    )
    for row in sent:
        print(f"  {row['kind']}: {row['n']:,} notifications about {row['subjects']:,} subjects")
    print(f"  re-run sent {results[1][2]['notified']} (must be 0)")
    await explain_reminders(bare, "the re-run's")
    if not args.keep_notifications:
        deleted = await bare.execute(
            "DELETE FROM notifications WHERE kind = ANY($1::text[])", list(KINDS)
        )
        print(f"\ncleaned up: {deleted}")


async def run(args: argparse.Namespace) -> int:
    bare = await asyncpg.connect(args.database_url)
    await init_bare(bare)
    try:
        info = await bare.fetchrow(
            "SELECT (SELECT count(*) FROM contracts) AS contracts,"
            " (SELECT count(*) FROM payment_plans) AS plans,"
            " (SELECT count(*) FROM payments) AS payments"
        )
        print(
            f"dataset: {info['contracts']:,} contracts, {info['plans']:,} instalments, "
            f"{info['payments']:,} payments"
        )
        if info["contracts"] < 1000:
            raise SystemExit("no money data: run python -m bench.generate_money first")
        started = await bare.fetchval("SELECT now()")
        manager = await pick_manager(bare, args.subtree)
        print(
            f"caller: {manager['email']} ({manager['department']}), {manager['people']} people "
            "in the subtree"
        )
        today = await bare.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
        first = (today.replace(day=1) - timedelta(days=320)).replace(day=1)
        targets = {
            "sales by month": f"/v1/reports/sales?group=month&from={first}&to={today}",
            "receivables": "/v1/reports/receivables",
        }
        if "receivables" not in args.endpoints:
            targets.pop("receivables")
        if "sales" not in args.endpoints:
            targets.pop("sales by month")
        captured: dict[str, list[tuple[str, list[Any]]] | None] = {}
        if targets:
            print("\ncapturing in-process:")
            captured = await capture(manager["email"], targets, args.password)
            if not args.no_http:
                await measure_http(args, manager["email"], targets, captured, bare)
            await explain(bare, captured)
        if not args.no_job:
            await reminder_job(args, bare)
        # Only the sign-ins of this run (another benchmark may use the same manager).
        await bare.execute(
            "DELETE FROM refresh_tokens WHERE user_id = $1 AND issued_at >= $2",
            manager["id"],
            started,
        )
    finally:
        await bare.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--subtree", type=int, default=60)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--endpoints", nargs="*", default=["sales", "receivables"])
    parser.add_argument("--no-http", action="store_true", help="capture and EXPLAIN only")
    parser.add_argument("--no-job", action="store_true", help="skip the reminder job")
    parser.add_argument("--keep-notifications", action="store_true")
    parser.add_argument("--quiet-wait", type=float, default=600, help="s to wait for quiet")
    parser.add_argument("--password", default=PASSWORD)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["OUTFIELD_ENV"] = "development"
    os.environ["OUTFIELD_ACCESS_TOKEN_TTL_S"] = "7200"
    os.environ["OUTFIELD_REMINDER_HOUR"] = "0"  # the job runs whatever the time of day
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
