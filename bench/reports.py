"""Targets, numbers and coverage over HTTP (issues 15 and 16), each beside the same SQL on bare
asyncpg in the same run:

    python -m bench.reports \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --redis-url redis://127.0.0.1:6379/12 [--endpoints dashboard achievement …]

| endpoint      | caller                                   | target (app p50) |
|---------------|------------------------------------------|------------------|
| dashboard     | a rep (`GET /v1/me/dashboard`)            | < 30 ms          |
| dashboard-mgr | the ~60-person manager (same route)       | (shown)          |
| achievement   | the ~60-person manager, this month        | < 100 ms         |
| work          | the ~60-person manager, this month        | < 100 ms         |
| ranking       | the admin, the company, this month        | < 100 ms         |
| coverage      | the ~60-person manager, this month        | < 200 ms         |
| map           | the admin, a city (Beijing) at 1 km cells | < 100 ms         |

Needs the full dataset (`bench.generate_dataset`, `generate_checkins`, `generate_pipeline`,
`generate_money`). Before measuring it makes sure this month has targets (a `contract_amount`
and a `visits` target for the company, every department and every rep — inserted in SQL, marked
`note = 'bench'`, left in place for the next run; `--drop-targets` removes them).

Method (as `bench.money`): capture each request's statements in-process (the real app through
httpx.ASGITransport, the second of two requests), then serve the app with uvicorn and time,
interleaved, `HTTP` (the figure), `SQL all` (every captured statement, caller lookup included,
replayed on a bare asyncpg connection inside BEGIN … ROLLBACK) and `SQL main` (all but the
caller lookup); `--requests` (100) after `--warmup` (10); then `EXPLAIN (ANALYZE, BUFFERS)` of
every statement that took over 2 ms in the replay.
"""

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
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
from bench.money import Recorder, figures, init_bare, pick_manager, replay

PASSWORD = "bench-password"


@dataclass(frozen=True)
class Endpoint:
    name: str
    caller: str  # rep | manager | admin
    path: str
    target_ms: float | None


def endpoints(today: Any, month: str) -> list[Endpoint]:
    first = today.replace(day=1)
    return [
        Endpoint("dashboard", "rep", "/v1/me/dashboard", 30),
        Endpoint("dashboard-mgr", "manager", "/v1/me/dashboard", None),
        Endpoint("achievement", "manager", f"/v1/reports/achievement?period={month}", 100),
        Endpoint("work", "manager", f"/v1/reports/work?from={first}&to={today}", 100),
        Endpoint(
            "ranking",
            "admin",
            f"/v1/reports/ranking?period={month}&measure=contract_amount",
            100,
        ),
        Endpoint("coverage", "manager", f"/v1/reports/coverage?period={month}", 200),
        Endpoint(
            "map",
            "admin",
            "/v1/reports/customer-map?bbox=116.20,39.75,116.60,40.05&cell_m=1000",
            100,
        ),
    ]


def is_caller_lookup(sql: str) -> bool:
    lowered = " ".join(sql.lower().split())
    return "users.token_version" in lowered and "from users" in lowered


async def ensure_targets(conn: asyncpg.Connection, company_id: Any, month: str, first: Any) -> None:
    """A month target of two measures for the company, every department and every rep."""
    have = await conn.fetchval(
        "SELECT count(*) FROM targets WHERE company_id = $1 AND period = $2 AND deleted_at IS NULL",
        company_id,
        month,
    )
    if have:
        print(f"targets for {month}: {have:,} already")
        return
    end = (first + timedelta(days=32)).replace(day=1)
    inserted = await conn.execute(
        """
        INSERT INTO targets (id, company_id, subject, subject_id, measure, period, period_kind,
                             starts_on, ends_on, value, note, created_at, updated_at)
        SELECT gen_random_uuid(), $1, s.subject, s.subject_id, m.measure, $2, 'month', $3, $4,
               CASE m.measure WHEN 'visits' THEN s.scale * 40 ELSE s.scale * 300000 END,
               'bench', now(), now()
        FROM (
            SELECT 'company' AS subject, NULL::uuid AS subject_id,
                   (SELECT count(*) FROM users WHERE company_id = $1 AND role = 'rep') AS scale
            UNION ALL
            SELECT 'department', d.id,
                   greatest(1, (SELECT count(*) FROM users u JOIN departments x
                                ON x.id = u.department_id
                                WHERE x.path LIKE d.path || '%' AND u.role = 'rep'))
            FROM departments d WHERE d.company_id = $1
            UNION ALL
            SELECT 'user', u.id, 1 FROM users u WHERE u.company_id = $1 AND u.role = 'rep'
        ) s
        CROSS JOIN (VALUES ('contract_amount'), ('visits')) m(measure)
        """,
        company_id,
        month,
        first,
        end,
    )
    print(f"targets for {month}: {inserted}")


async def capture(
    callers: dict[str, str], todo: list[Endpoint], password: str
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
        headers: dict[str, dict[str, str]] = {}
        for role, email in callers.items():
            r = await client.post("/v1/auth/token", data={"username": email, "password": password})
            if r.status_code != 200:
                raise SystemExit(f"login failed for {email}: {r.status_code} {r.text[:300]}")
            headers[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        for endpoint in todo:
            status, text = 0, ""
            for attempt in (0, 1):
                recorder.on = attempt == 1
                t0 = time.perf_counter()
                response = await client.get(endpoint.path, headers=headers[endpoint.caller])
                elapsed = (time.perf_counter() - t0) * 1000
                await asyncio.sleep(0.05)  # the session's teardown
                recorder.on = False
                status, text = response.status_code, response.text
            statements = recorder.take()
            if status in (404, 405):
                found[endpoint.name] = None
                print(f"  {endpoint.name}: {endpoint.path} answers {status}; skipped")
                continue
            if status != 200:
                raise SystemExit(f"{endpoint.name}: {status} {text[:300]}")
            found[endpoint.name] = statements
            print(
                f"  {endpoint.name}: {len(statements)} statements, in-process {elapsed:.1f} ms, "
                f"{len(text):,} bytes"
            )
    event.remove(get_engine().sync_engine, "before_cursor_execute", recorder)
    return found


async def measure(
    args: argparse.Namespace,
    callers: dict[str, str],
    todo: list[Endpoint],
    captured: dict[str, list[tuple[str, list[Any]]] | None],
    bare: asyncpg.Connection,
) -> list[str]:
    server = Server("app.main:app", app_env(args.database_url, args.redis_url), "reports-app")
    server.start()
    lines = []
    try:
        await server.wait_ready()
        await clear_login_limits(args.redis_url)
        tokens = await login(server.port, list(callers.values()), args.password)
        http = HTTP("127.0.0.1", server.port)
        await http.connect()
        wait_for_quiet(args.quiet_wait, label="before the HTTP figures")
        print(f"\nload average before: {loadavg()}")
        for endpoint in todo:
            statements = captured.get(endpoint.name)
            if statements is None:
                continue
            headers = {"Authorization": f"Bearer {tokens[callers[endpoint.caller]]}"}
            main = [s for s in statements if not is_caller_lookup(s[0])]
            samples: dict[str, list[float]] = {"HTTP": [], "SQL all": [], "SQL main": []}
            for k in range(args.warmup + args.requests):
                for mode in (list(samples) * 2)[k % 3 : k % 3 + 3]:
                    if mode == "HTTP":
                        await http.ready()
                        t0 = time.perf_counter()
                        status, body = await http.get(endpoint.path, headers)
                        elapsed = time.perf_counter() - t0
                        if status != 200:
                            raise SystemExit(f"{endpoint.name}: {status} {body[:300]!r}")
                    else:
                        t0 = time.perf_counter()
                        await replay(bare, statements if mode == "SQL all" else main)
                        elapsed = time.perf_counter() - t0
                    if k >= args.warmup:
                        samples[mode].append(elapsed * 1000)
            p50 = pct(samples["HTTP"], 50)
            sql50 = pct(samples["SQL all"], 50)
            verdict = (
                "—"
                if endpoint.target_ms is None
                else ("met" if p50 < endpoint.target_ms else "MISSED")
            )
            print(f"\n{endpoint.name} ({endpoint.caller}: {endpoint.path}):")
            for mode, values in samples.items():
                print(f"  {mode:9} {figures(values)}")
            target = f"< {endpoint.target_ms:.0f}" if endpoint.target_ms else "—"
            lines.append(
                f"| {endpoint.name} | {p50:.1f} / {pct(samples['HTTP'], 99):.1f} | "
                f"{sql50:.1f} / {pct(samples['SQL all'], 99):.1f} | "
                f"{pct(samples['SQL main'], 50):.1f} | {p50 / sql50:.1f}× | {target} {verdict} |"
            )
        await http.close()
        print(f"load average after: {loadavg()}")
    finally:
        server.stop()
    return lines


async def explain(
    bare: asyncpg.Connection, captured: dict[str, list[tuple[str, list[Any]]] | None]
) -> None:
    for name, statements in captured.items():
        for sql, params in statements or []:
            if is_caller_lookup(sql) or not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            t0 = time.perf_counter()
            async with bare.transaction():
                await bare.fetch(sql, *params)
            if (time.perf_counter() - t0) * 1000 < 2:
                continue
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) — {name}:\n  " + " ".join(sql.split())[:500])
            async with bare.transaction():
                plan = await bare.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
            print("\n".join("    " + r[0] for r in plan))


async def run(args: argparse.Namespace) -> int:
    bare = await asyncpg.connect(args.database_url)
    await init_bare(bare)
    try:
        manager = await pick_manager(bare, args.subtree)
        company_id = manager["company_id"]
        today = await bare.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
        month = f"{today.year:04d}-{today.month:02d}"
        if args.drop_targets:
            print(await bare.execute("DELETE FROM targets WHERE note = 'bench'"))
            return 0
        await ensure_targets(bare, company_id, month, today.replace(day=1))
        rep = await bare.fetchval(
            "SELECT email FROM users WHERE company_id = $1 AND role = 'rep' AND email LIKE $2 "
            "ORDER BY email LIMIT 1",
            company_id,
            f"%@{DOMAIN}",
        )
        admin = await bare.fetchval(
            "SELECT email FROM users WHERE company_id = $1 AND role = 'admin' ORDER BY email "
            "LIMIT 1",
            company_id,
        )
        callers = {"rep": rep, "manager": manager["email"], "admin": admin}
        print(
            f"callers: rep {rep}, manager {manager['email']} ({manager['department']}, "
            f"{manager['people']} people), admin {admin}"
        )
        todo = [e for e in endpoints(today, month) if e.name in args.endpoints]
        started = await bare.fetchval("SELECT now()")
        print("\ncapturing in-process:")
        captured = await capture(callers, todo, args.password)
        lines: list[str] = []
        if not args.no_http:
            lines = await measure(args, callers, todo, captured, bare)
        await explain(bare, captured)
        if lines:
            header = "| endpoint | app p50 / p99 | SQL all p50 / p99 | SQL main p50 | app ÷ SQL |"
            print("\n" + header + " target |")
            print("|---|---|---|---|---|---|")
            print("\n".join(lines))
        await bare.execute(
            "DELETE FROM refresh_tokens WHERE issued_at >= $1 AND user_id IN "
            "(SELECT id FROM users WHERE email = ANY($2::text[]))",
            started,
            list(callers.values()),
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
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--endpoints",
        nargs="*",
        default=["dashboard", "dashboard-mgr", "achievement", "work", "ranking", "coverage", "map"],
    )
    parser.add_argument("--no-http", action="store_true", help="capture and EXPLAIN only")
    parser.add_argument("--drop-targets", action="store_true", help="remove the bench targets")
    parser.add_argument("--quiet-wait", type=float, default=600, help="s to wait for quiet")
    parser.add_argument("--password", default=PASSWORD)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["OUTFIELD_ENV"] = "development"
    os.environ["OUTFIELD_ACCESS_TOKEN_TTL_S"] = "7200"
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
