"""Attendance sheet and phone masking over HTTP (issue 17), beside the same SQL on bare asyncpg:

    python -m bench.privacy \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --redis-url redis://127.0.0.1:6379/12 [--requests 50 --warmup 5] [--month 2026-11]

| part       | caller                    | request                                | target (p50) |
|------------|---------------------------|----------------------------------------|--------------|
| attendance | manager005 (92 people)    | `GET /v1/reports/attendance?month=<m>` | < 100 ms     |
| customers  | rep001, masking off       | `GET /v1/customers?owner=me`           | —            |
| masked     | rep001, `mask_phones` on  | the same                               | < +10 %      |

`<m>` is the previous full month (company time), the one `bench.generate_attendance` fills
(run it first). The method is `bench.reports`' (its `capture`, `Endpoint`, `is_caller_lookup`
and `bench.money`'s `replay` / `figures`, imported): each request's statements captured
in-process, then the app under uvicorn timed, interleaved, with `HTTP`, `SQL all` (every
captured statement replayed in BEGIN … ROLLBACK on bare asyncpg) and `SQL main` (without the
caller lookup). The masking pair is measured in interleaved batches (`--batch`, 10) in one
server: `companies.settings` gets `mask_phones` true / false by a direct UPDATE before each
batch (the order alternates batch by batch; the first request after a toggle is not counted),
each state replaying the statements captured in that state. The setting is put back as it was
(absent = false) at the end, whatever happens. Waits for other benchmarks to finish first
(`bench.common.wait_for_quiet`): the toggle would change what they measure.
"""

import argparse
import asyncio
import json
import os
import sys
import time
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
from bench.money import figures, init_bare, pick_manager, replay
from bench.reports import PASSWORD, Endpoint, capture, explain, is_caller_lookup

MODES = ("HTTP", "SQL all", "SQL main")
Statements = list[tuple[str, list[Any]]]


async def set_masking(conn: asyncpg.Connection, company_id: Any, on: bool) -> None:
    await conn.execute(
        "UPDATE companies SET settings = settings || jsonb_build_object('mask_phones', $2::bool)"
        " WHERE id = $1",
        company_id,
        on,
    )


async def restore_masking(conn: asyncpg.Connection, company_id: Any, original: Any) -> None:
    if original is None:
        await conn.execute(
            "UPDATE companies SET settings = settings - 'mask_phones' WHERE id = $1", company_id
        )
    else:
        await set_masking(conn, company_id, bool(original))


async def rounds(
    http: HTTP,
    bare: asyncpg.Connection,
    endpoint: Endpoint,
    headers: dict[str, str],
    statements: Statements,
    count: int,
    samples: dict[str, list[float]] | None,
    start: int = 0,
) -> None:
    """`count` rounds of the three modes (rotating order); kept in `samples` unless None."""
    main = [s for s in statements if not is_caller_lookup(s[0])]
    for k in range(start, start + count):
        for mode in (list(MODES) * 2)[k % 3 : k % 3 + 3]:
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
            if samples is not None:
                samples[mode].append(elapsed * 1000)


def line(name: str, samples: dict[str, list[float]], target: str) -> str:
    p50, sql50 = pct(samples["HTTP"], 50), pct(samples["SQL all"], 50)
    return (
        f"| {name} | {p50:.1f} / {pct(samples['HTTP'], 99):.1f} | "
        f"{sql50:.1f} / {pct(samples['SQL all'], 99):.1f} | "
        f"{pct(samples['SQL main'], 50):.1f} | {p50 / sql50:.1f}× | {target} |"
    )


async def measure(
    args: argparse.Namespace,
    callers: dict[str, str],
    todo: dict[str, Endpoint],
    captured: dict[str, Statements | None],
    bare: asyncpg.Connection,
    company_id: Any,
) -> list[str]:
    server = Server("app.main:app", app_env(args.database_url, args.redis_url), "privacy-app")
    server.start()
    lines: list[str] = []
    try:
        await server.wait_ready()
        await clear_login_limits(args.redis_url)
        tokens = await login(server.port, list(callers.values()), args.password)
        http = HTTP("127.0.0.1", server.port)
        await http.connect()

        def headers(e: Endpoint) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[callers[e.caller]]}"}

        wait_for_quiet(args.quiet_wait, label="before the HTTP figures")
        print(f"\nload average before: {loadavg()}")

        sheet = todo["attendance"]
        statements = captured["attendance"] or []
        samples: dict[str, list[float]] = {m: [] for m in MODES}
        await rounds(http, bare, sheet, headers(sheet), statements, args.warmup, None)
        await rounds(http, bare, sheet, headers(sheet), statements, args.requests, samples)
        print(f"\nattendance ({sheet.caller}: {sheet.path}):")
        for mode, values in samples.items():
            print(f"  {mode:9} {figures(values)}")
        p50 = pct(samples["HTTP"], 50)
        verdict = "met" if p50 < (sheet.target_ms or 0) else "MISSED"
        lines.append(line("attendance (manager005)", samples, f"< 100 {verdict}"))
        print(f"load average: {loadavg()}")

        # Masking off / on in interleaved batches, in the same server.
        states = {False: "customers", True: "masked"}
        pair: dict[bool, dict[str, list[float]]] = {on: {m: [] for m in MODES} for on in states}
        for on, name in states.items():
            await set_masking(bare, company_id, on)
            e = todo[name]
            await rounds(http, bare, e, headers(e), captured[name] or [], args.warmup, None)
        done = dict.fromkeys(states, 0)
        batch = 0
        while min(done.values()) < args.requests:
            order = list(states) if batch % 2 == 0 else list(states)[::-1]
            for on in order:
                n = min(args.batch, args.requests - done[on])
                if n <= 0:
                    continue
                e = todo[states[on]]
                await set_masking(bare, company_id, on)
                await rounds(http, bare, e, headers(e), captured[states[on]] or [], 1, None)
                await rounds(
                    http, bare, e, headers(e), captured[states[on]] or [], n, pair[on], done[on]
                )
                done[on] += n
            batch += 1
        off50, on50 = pct(pair[False]["HTTP"], 50), pct(pair[True]["HTTP"], 50)
        cost = (on50 - off50) / off50 * 100
        for on, name in states.items():
            print(f"\n{name} (mask_phones {str(on).lower()}, {todo[name].path}):")
            for mode, values in pair[on].items():
                print(f"  {mode:9} {figures(values)}")
        sql_cost = (
            (pct(pair[True]["SQL all"], 50) - pct(pair[False]["SQL all"], 50))
            / pct(pair[False]["SQL all"], 50)
            * 100
        )
        verdict = "met" if cost < 10 else "MISSED"
        print(
            f"\nmasking costs {on50 - off50:+.2f} ms = {cost:+.1f} % of the HTTP p50 "
            f"(target < 10 %: {verdict}); SQL all p50 {sql_cost:+.1f} %; {batch} batches"
        )
        lines.append(line("customers owner=me (rep001), mask off", pair[False], "—"))
        lines.append(
            line("customers owner=me (rep001), mask on", pair[True], f"{cost:+.1f} % {verdict}")
        )
        await http.close()
        print(f"load average after: {loadavg()}")
    finally:
        server.stop()
    return lines


async def run(args: argparse.Namespace) -> int:
    bare = await asyncpg.connect(args.database_url)
    await init_bare(bare)
    company_id = None
    original: Any = None
    try:
        manager = await pick_manager(bare, args.subtree)
        company_id = manager["company_id"]
        original = await bare.fetchval(
            "SELECT settings -> 'mask_phones' FROM companies WHERE id = $1", company_id
        )
        today = await bare.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
        last = today.replace(day=1) - timedelta(days=1)
        month = args.month or f"{last.year:04d}-{last.month:02d}"
        records = await bare.fetchval(
            "SELECT count(*) FROM attendance_records WHERE company_id = $1 "
            "AND to_char(work_date, 'YYYY-MM') = $2",
            company_id,
            month,
        )
        if not records:
            raise SystemExit(f"no attendance in {month}: run python -m bench.generate_attendance")
        rep = await bare.fetchval(
            "SELECT email FROM users WHERE company_id = $1 AND role = 'rep' AND email LIKE $2 "
            "ORDER BY email LIMIT 1",
            company_id,
            f"%@{DOMAIN}",
        )
        callers = {"rep": rep, "manager": manager["email"]}
        print(
            f"month {month}: {records:,} attendance records; callers: rep {rep}, manager "
            f"{manager['email']} ({manager['department']}, {manager['people']} people); "
            f"mask_phones originally {json.dumps(original)}"
        )
        path = "/v1/customers?owner=me"
        todo = {
            "attendance": Endpoint(
                "attendance", "manager", f"/v1/reports/attendance?month={month}", 100
            ),
            "customers": Endpoint("customers", "rep", path, None),
            "masked": Endpoint("masked", "rep", path, None),
        }
        started = await bare.fetchval("SELECT now()")
        print("\ncapturing in-process (mask_phones false):")
        await set_masking(bare, company_id, False)
        captured = await capture(callers, [todo["attendance"], todo["customers"]], args.password)
        print("capturing in-process (mask_phones true):")
        await set_masking(bare, company_id, True)
        captured |= await capture(callers, [todo["masked"]], args.password)
        await set_masking(bare, company_id, False)
        lines: list[str] = []
        if not args.no_http:
            lines = await measure(args, callers, todo, captured, bare, company_id)
        await restore_masking(bare, company_id, original)
        await explain(bare, captured)
        if lines:
            print(
                "\n| request | app p50 / p99 | SQL all p50 / p99 | SQL main p50 | app ÷ SQL |"
                " target |"
            )
            print("|---|---|---|---|---|---|")
            print("\n".join(lines))
        await bare.execute(
            "DELETE FROM refresh_tokens WHERE issued_at >= $1 AND user_id IN "
            "(SELECT id FROM users WHERE email = ANY($2::text[]))",
            started,
            list(callers.values()),
        )
    finally:
        if company_id is not None:
            await restore_masking(bare, company_id, original)
            now = await bare.fetchval(
                "SELECT settings -> 'mask_phones' FROM companies WHERE id = $1", company_id
            )
            print(f"mask_phones restored: {json.dumps(now)}")
        await bare.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--subtree", type=int, default=92, help="manager's subtree size")
    parser.add_argument("--month", help="YYYY-MM; default the previous full month")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10, help="requests per masking batch")
    parser.add_argument("--no-http", action="store_true", help="capture and EXPLAIN only")
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
