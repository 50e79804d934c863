"""Four read endpoints of the real app against `bench/bare_reads_app.py` doing the same work.

    python -m bench.reads_vs_bare \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --redis-url redis://127.0.0.1:6379/12

Needs the dataset of `bench.generate_dataset` (+ `bench.generate_checkins`; the feed may be
empty: then every feed page is empty, and the feed's likes / first-comments statements are
never sent). Endpoints, first page, `limit=20` (`--limit`):

* `customers` — `GET /v1/customers?owner=me`, rotating over `--users` reps;
* `pool` — `GET /v1/pool/customers?industry=…` (`--industry`), same reps;
* `nearby` — `GET /v1/customers/nearby?lat=…&lng=…&radius_m=2000`, each rep standing up to
  100 m from one of their own customers (`--points` per rep);
* `feed` — `GET /v1/feed`, rotating over `--feed-users` managers.

Steps:

1. in-process (the real app through httpx.ASGITransport): log the users in (the app's own
   `POST /v1/auth/token`), then one request per endpoint and caller shape with a SQLAlchemy
   `before_cursor_execute` listener: the SQL the app emits, each parameter tied to what it
   stands for by its value (`bare_reads_app.make_template`); the feed's follow-up
   statements from `app.feed.service.list_feed` on a recording session, compiled for a full
   page. Written to a temporary file the bare app loads;
2. both apps served by uvicorn the same way (`bench.common.Server`: one worker, uvloop +
   httptools, access log on), the bare one with those statements;
3. the same JSON? — for a few users per endpoint, both answers parsed and compared;
4. (a) latency, one request in flight: per request app, bare, and the same statements on a
   bare asyncpg connection ("SQL all": caller lookup + the endpoint's statements; "SQL
   main": the endpoint's main statement alone), in rotating order;
   (b) throughput: `--clients` (8) keep-alive clients for `--duration` (10) s per server and
   endpoint, in `--rounds` (2) segments alternating app / bare, after a short warm-up each;
   requests/s, p50/p99 under load, server CPU per request.
5. per endpoint: app p50 ÷ bare p50 (target ≤ 2×) and app req/s ÷ bare req/s (target ≥ 0.5×),
   met / MISSED, and the old ratio app p50 ÷ SQL main p50.

Reads only: the logins' refresh-token rows are deleted at the end and our login rate-limit
counters cleared. It waits until no other benchmark runs (`bench.feed.wait_until_quiet`)
and prints the load average before and after.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from bench.bare_reads_app import (
    bind,
    init_connection,
    like_prefix,
    make_template,
    render,
    shape_of,
)
from bench.common import (
    DOMAIN,
    HTTP,
    Intruders,
    Server,
    app_env,
    check_head,
    clear_login_limits,
    loadavg,
    log,
    pct,
)
from bench.feed import wait_until_quiet
from bench.nearby_and_checkins import differences

PASSWORD = "bench-password"
CAPTURE_LIMIT = 17  # distinctive values, so each parameter is recognised by its value
CAPTURE_RADIUS = 1987.0
ENDPOINTS = ("customers", "pool", "nearby", "feed")
TEMPLATE_KEY = {
    "customers": "customers_owner_me",
    "pool": "pool_industry",
    "nearby": "nearby",
    "feed": "feed",
}


def target_for(endpoint: str, args: argparse.Namespace, point=None, limit=None) -> str:  # noqa: ANN001
    limit = limit or args.limit
    if endpoint == "customers":
        return "/v1/customers?" + urlencode({"owner": "me", "limit": limit})
    if endpoint == "pool":
        return "/v1/pool/customers?" + urlencode({"industry": args.industry, "limit": limit})
    if endpoint == "nearby":
        radius = CAPTURE_RADIUS if limit == CAPTURE_LIMIT else args.radius
        query = {"lat": point[0], "lng": point[1], "radius_m": radius, "limit": limit}
        return "/v1/customers/nearby?" + urlencode(query)
    return "/v1/feed?" + urlencode({"limit": limit})


def request_context(endpoint: str, user, limit: int, radius: float, point=None) -> dict:  # noqa: ANN001
    """What the bare app puts in a statement's context for this request."""
    context: dict[str, Any] = {
        "user_id": user["id"],
        "company_id": user["company_id"],
        "department_id": user["department_id"],
        "path": user["path"],
        "path_like": like_prefix(user["path"]) if user["path"] else None,
    }
    if endpoint == "nearby":
        context.update(lat=point[0], lng=point[1], radius=radius, limit=limit)
    else:
        context.update(limit_plus_one=limit + 1)
    if endpoint == "pool":
        context["industry"] = user["industry"]
    return context


class _Result:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def scalars(self) -> list[Any]:
        return list(self.rows)

    def all(self) -> list[Any]:
        return list(self.rows)


class RecordingSession:
    """Stands in for an AsyncSession: records the statements; the first answers `ids` as a
    full page of items, the others nothing."""

    def __init__(self, ids: list[uuid.UUID]) -> None:
        self.ids = ids
        self.statements: list[Any] = []

    async def execute(self, statement: Any, *_: Any) -> _Result:
        self.statements.append(statement)
        if len(self.statements) == 1:
            now = datetime.now(UTC)
            return _Result([SimpleNamespace(id=i, created_at=now) for i in self.ids])
        return _Result([])


async def capture(args, users_by_endpoint, points, emails) -> tuple[dict, dict, list[str]]:  # noqa: ANN001, C901
    """Log in (in-process) and capture the app's statements. → (templates, tokens, refresh
    tokens issued)."""
    import logging

    import httpx
    from sqlalchemy import event

    from app.auth.principal import Principal
    from app.core.pagination import PageParams
    from app.db import dispose_engine, get_engine
    from app.feed import service as feed_service
    from app.main import app

    devnull = open(os.devnull, "w")  # noqa: SIM115, ASYNC230 - the in-process request log
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    tokens, refresh = {}, []
    for email in emails:
        response = await client.post(
            "/v1/auth/token", data={"username": email, "password": args.password}
        )
        if response.status_code != 200:
            raise SystemExit(f"login failed for {email}: {response.status_code} {response.text}")
        tokens[email] = response.json()["access_token"]
        refresh.append(response.json()["refresh_token"])

    captured: list[tuple[str, list[Any]]] = []

    def before(conn, cursor, statement, parameters, context, many):  # noqa: ANN001
        captured.append((statement, list(parameters or ())))

    engine = get_engine()
    event.listen(engine.sync_engine, "before_cursor_execute", before)
    templates: dict[str, Any] = {"caller": None, "endpoints": {}}
    caller_sql = None
    try:
        for endpoint in ENDPOINTS:
            shapes = {}
            for user in users_by_endpoint[endpoint]:
                shapes.setdefault(shape_of(user["role"], user["department_id"], user["path"]), user)
            for shape, user in shapes.items():
                point = points[user["id"]][0] if endpoint == "nearby" else None
                captured.clear()
                response = await client.get(
                    target_for(endpoint, args, point, CAPTURE_LIMIT),
                    headers={"Authorization": f"Bearer {tokens[user['email']]}"},
                )
                await asyncio.sleep(0.05)  # the session's teardown
                if response.status_code != 200:
                    raise SystemExit(f"{endpoint}: {response.status_code} {response.text[:300]}")
                statements = [
                    (s, p) for s, p in captured if s.lstrip().upper().startswith("SELECT")
                ]
                if len(statements) < 2:
                    raise SystemExit(f"{endpoint}: expected ≥ 2 statements, got {captured}")
                (c_sql, c_args), (m_sql, m_args) = statements[0], statements[1]
                if caller_sql is None:
                    caller_sql = c_sql
                    templates["caller"] = make_template(
                        c_sql, c_args, {"user_id": user["id"], "company_id": user["company_id"]}
                    )
                elif c_sql != caller_sql:
                    raise SystemExit("the caller lookup differs between requests")
                context = request_context(endpoint, user, CAPTURE_LIMIT, CAPTURE_RADIUS, point)
                found = {"main": make_template(m_sql, m_args, context)}
                if endpoint == "feed":
                    # The follow-ups, for a full page (the dataset's feed may be empty).
                    principal = Principal(
                        user["id"], user["company_id"], user["role"], user["department_id"],
                        user["path"], user["locale"],
                    )  # fmt: skip
                    ids = [uuid.uuid4() for _ in range(CAPTURE_LIMIT)]
                    recorder = RecordingSession(ids)
                    filters = {"department_id": None, "user_id": None, "customer_id": None,
                               "kind": None}  # fmt: skip
                    await feed_service.list_feed(
                        recorder,  # type: ignore[arg-type]
                        principal,
                        PageParams(CAPTURE_LIMIT, None),
                        filters,
                    )
                    if len(recorder.statements) != 3:
                        raise SystemExit(f"list_feed sent {len(recorder.statements)} statements")
                    for name, statement in zip(
                        ("liked", "comments"), recorder.statements[1:], strict=True
                    ):
                        compiled = statement.compile(
                            dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
                        )
                        values = [compiled.params[k] for k in compiled.positiontup or ()]
                        found[name] = make_template(str(compiled), values, {**context, "ids": ids})
                elif len(statements) != 2:
                    raise SystemExit(f"{endpoint}: {len(statements)} statements, expected 2")
                templates["endpoints"].setdefault(TEMPLATE_KEY[endpoint], {})[shape] = found
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        await client.aclose()
        await dispose_engine()
        from app.core.redis import close_redis

        await close_redis()
    return templates, tokens, refresh


def describe(template: dict) -> str:
    """Where each parameter comes from, e.g. `$1 company_id, $2 user_id, $3 const 4326`."""
    parts = []
    for n, (kind, value) in sorted(template["specs"].items(), key=lambda kv: int(kv[0])):
        parts.append(
            f"${n} {value}"
            if kind == "slot"
            else f"${n} item id {value}"
            if kind == "ids"
            else f"${n} const {value!r}"
        )
    return ", ".join(parts)


async def run(args: argparse.Namespace) -> int:  # noqa: C901, PLR0915 - a script
    import asyncpg

    from app.auth.tokens import parse_refresh_token

    database_url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    sql = await asyncpg.connect(database_url)
    await init_connection(sql)
    servers: list[Server] = []
    refresh: list[str] = []
    statements_file = None
    try:
        await check_head(sql)
        info = await sql.fetchrow(
            """
            SELECT version() AS version, current_setting('shared_buffers') AS shared_buffers,
                   (SELECT count(*) FROM customers) AS customers,
                   (SELECT reltuples::bigint FROM pg_class WHERE relname = 'checkins')
                       AS checkins,
                   (SELECT count(*) FROM feed_items) AS feed_items,
                   (SELECT count(*) FROM refresh_tokens) AS refresh_tokens
            """
        )
        people = await sql.fetch(
            """
            SELECT u.id, u.email, u.role, u.company_id, u.department_id, d.path, u.locale
            FROM users u LEFT JOIN departments d ON d.id = u.department_id
            WHERE u.role IN ('rep', 'manager') AND u.email LIKE $1 AND u.is_active
            ORDER BY u.email
            """,
            f"%@{DOMAIN}",
        )
        reps = [p for p in people if p["role"] == "rep"]
        managers = [p for p in people if p["role"] == "manager"]
        if not reps or not managers:
            log(f"no reps / managers @{DOMAIN}: run python -m bench.generate_dataset first")
            return 1
        step = max(1, len(reps) // args.users)
        users = [{**r, "industry": args.industry} for r in reps[::step][: args.users]]
        feed_users = [{**m, "industry": None} for m in managers[: args.feed_users]]
        by_endpoint = {"customers": users, "pool": users, "nearby": users, "feed": feed_users}
        rng = random.Random(args.seed)
        points: dict[uuid.UUID, list[tuple[float, float]]] = {}
        for user in users:
            rows = await sql.fetch(
                """
                SELECT latitude, longitude FROM customers
                WHERE owner_id = $1 AND deleted_at IS NULL AND latitude IS NOT NULL
                ORDER BY md5(id::text || $2) LIMIT $3
                """,
                user["id"], str(args.seed), args.points,
            )  # fmt: skip
            points[user["id"]] = [
                (round(r["latitude"] + rng.uniform(-0.0009, 0.0009), 6),
                 round(r["longitude"] + rng.uniform(-0.0009, 0.0009), 6))
                for r in rows
            ]  # fmt: skip
        print(
            f"PostgreSQL: {info['version'].split(' on ')[0]}; shared_buffers "
            f"{info['shared_buffers']}"
        )
        print(
            f"dataset: {info['customers']:,} customers, ~{info['checkins']:,} check-ins, "
            f"{info['feed_items']:,} feed items"
            + (" (EMPTY feed: every feed page is empty; its likes / first-comments statements"
               " are never sent — bench.generate_feed would add items)"
               if info["feed_items"] == 0 else "")
        )  # fmt: skip
        print(
            f"callers: {len(users)} reps ({users[0]['email']}…) for customers / pool / nearby, "
            f"{len(feed_users)} managers ({feed_users[0]['email']}…) for the feed; "
            f"industry={args.industry}, radius_m={args.radius:g}, limit={args.limit}"
        )

        # ---------- 1. login + capture, in-process ----------
        await clear_login_limits(args.redis_url)
        emails = [u["email"] for u in users + feed_users]
        templates, tokens, refresh = await capture(args, by_endpoint, points, emails)
        statements_file = tempfile.NamedTemporaryFile(  # noqa: SIM115
            "w", prefix="outfield-bare-reads-", suffix=".json", delete=False, encoding="utf-8"
        )
        json.dump(templates, statements_file, ensure_ascii=False)
        statements_file.close()
        print("\nstatements captured from the app (parameters by what they stand for):")
        print(f"  caller lookup: {describe(templates['caller'])}")
        for key, shapes in templates["endpoints"].items():
            for shape, found in shapes.items():
                for name, template in found.items():
                    print(f"  {key} [{shape}] {name}: {describe(template)}")
                    if args.show_sql:
                        text, _ = render(template, 2)
                        print("    " + " ".join(text.split()))

        # ---------- 2. servers ----------
        await wait_until_quiet(sql, "before starting the servers")
        env = app_env(database_url, args.redis_url)
        app_server = Server("app.main:app", env, "reads-app")
        bare_server = Server(
            "bench.bare_reads_app:app",
            {**env, "BARE_READS_STATEMENTS": statements_file.name},
            "reads-bare",
        )
        servers = [app_server, bare_server]
        for server in servers:
            server.start()
        for server in servers:
            await server.wait_ready()
        named = {"app": app_server, "bare": bare_server}

        plans: dict[str, list[tuple[str, dict[str, str], dict[str, Any]]]] = {}
        for endpoint in ENDPOINTS:
            plan = []
            callers = by_endpoint[endpoint]
            rounds = args.points if endpoint == "nearby" else 1
            for r in range(rounds):
                for user in callers:
                    point = points[user["id"]][r % len(points[user["id"]])] if endpoint == (
                        "nearby") else None  # fmt: skip
                    plan.append(
                        (
                            target_for(endpoint, args, point),
                            {"Authorization": f"Bearer {tokens[user['email']]}"},
                            {"endpoint": endpoint, "user": user, "point": point},
                        )
                    )
            plans[endpoint] = plan

        # ---------- 3. the same JSON ----------
        print("\nthe same JSON? (each endpoint, several callers: both answers parsed, compared)")
        clients = {name: HTTP("127.0.0.1", server.port) for name, server in named.items()}
        for client in clients.values():
            await client.connect()
        all_same = True
        for endpoint in ENDPOINTS:
            checked, items, diffs = 0, 0, []
            for target, headers, _meta in plans[endpoint][: args.check]:
                answers = {}
                for name, client in clients.items():
                    await client.ready()
                    status, body = await client.get(target, headers)
                    answers[name] = (status, json.loads(body) if body else None)
                checked += 1
                if answers["app"][0] != 200 or answers["bare"][0] != 200:
                    bare_status, bare_body = answers["bare"]
                    diffs.append(
                        f"{target}: status app {answers['app'][0]}, bare {bare_status}: "
                        f"{str(bare_body)[:200]}"
                    )
                    continue
                items += len(answers["app"][1]["items"])
                diffs += [f"{target}: {d}" for d in differences(answers["app"][1],
                                                                answers["bare"][1])]  # fmt: skip
            if diffs:
                all_same = False
                print(f"  {endpoint:<9} DIFFERENT ({len(diffs)} differences):")
                for line in diffs[:10]:
                    print(f"    {line}")
            else:
                print(f"  {endpoint:<9} same JSON ({checked} requests, {items} items in all)")
        print("  → " + ("same JSON for every request checked" if all_same else "JSON DIFFERS"))

        # ---------- 4a. latency, one request in flight ----------
        samples: dict[tuple[str, str], list[float]] = {}

        async def one_http(name: str, target: str, headers: dict[str, str]) -> float:
            client = clients[name]
            await client.ready()  # outside the timing
            t0 = time.perf_counter()
            status, body = await client.get(target, headers)
            elapsed = time.perf_counter() - t0
            if status != 200:
                raise SystemExit(f"{name} {target}: {status} {body[:300]!r}")
            return elapsed

        async def one_sql(meta: dict[str, Any], main_only: bool) -> float:
            endpoint, user = meta["endpoint"], meta["user"]
            shape = shape_of(user["role"], user["department_id"], user["path"])
            found = templates["endpoints"][TEMPLATE_KEY[endpoint]][shape]
            context = request_context(endpoint, user, args.limit, args.radius, meta["point"])
            t0 = time.perf_counter()
            if not main_only:
                text, values = bind(templates["caller"], context)
                await sql.fetchrow(text, *values)
            text, values = bind(found["main"], context)
            rows = await sql.fetch(text, *values)
            if endpoint == "feed" and rows and not main_only:
                context["ids"] = [r["id"] for r in rows[: args.limit]]
                for name in ("liked", "comments"):
                    text, values = bind(found[name], context)
                    await sql.fetch(text, *values)
            return time.perf_counter() - t0

        modes = ["app", "bare", "SQL all", "SQL main"]

        async def one(mode: str, target: str, headers: dict[str, str], meta: dict) -> float:
            if mode in clients:
                return await one_http(mode, target, headers)
            return await one_sql(meta, mode == "SQL main")

        await wait_until_quiet(sql, "before measuring")
        load_before = loadavg()
        print(f"\nload average before measuring: {load_before}")
        with Intruders() as watch:
            for endpoint in ENDPOINTS:
                plan = plans[endpoint]
                log(f"latency: {endpoint}: {args.warmup} warm-up + {args.requests} requests")
                for i in range(args.warmup + args.requests):
                    target, headers, meta = plan[i % len(plan)]
                    k = i % len(modes)
                    for mode in modes[k:] + modes[:k]:
                        elapsed = await one(mode, target, headers, meta)
                        if i >= args.warmup:
                            samples.setdefault((endpoint, mode), []).append(elapsed * 1000)
            for client in clients.values():
                await client.close()

            # ---------- 4b. throughput, 8 keep-alive clients ----------
            async def load(server: Server, plan: list, seconds: float) -> dict[str, Any]:
                stop = time.monotonic() + seconds
                latencies: list[float] = []
                errors = 0

                async def worker(k: int) -> None:
                    nonlocal errors
                    http = HTTP("127.0.0.1", server.port)
                    await http.connect()
                    j = k
                    try:
                        while time.monotonic() < stop:
                            target, headers, _meta = plan[j % len(plan)]
                            j += args.clients
                            await http.ready()
                            t0 = time.perf_counter()
                            try:
                                status, _ = await http.get(target, headers)
                            except (OSError, asyncio.IncompleteReadError):
                                errors += 1
                                await http.close()
                                await http.connect()
                                continue
                            latencies.append((time.perf_counter() - t0) * 1000)
                            if status != 200:
                                errors += 1
                    finally:
                        await http.close()

                cpu0, t0 = server.cpu_seconds(), time.perf_counter()
                await asyncio.gather(*(worker(k) for k in range(args.clients)))
                elapsed = time.perf_counter() - t0
                return {
                    "latencies": latencies,
                    "errors": errors,
                    "elapsed": elapsed,
                    "cpu": server.cpu_seconds() - cpu0,
                }

            throughput: dict[tuple[str, str], dict[str, Any]] = {}
            segment = args.duration / args.rounds
            for e, endpoint in enumerate(ENDPOINTS):
                log(f"throughput: {endpoint}: {args.rounds} × {segment:g} s per server")
                for r in range(args.rounds):
                    order = ["app", "bare"] if (e + r) % 2 == 0 else ["bare", "app"]
                    for name in order:
                        await load(named[name], plans[endpoint], args.load_warmup)
                        result = await load(named[name], plans[endpoint], segment)
                        total = throughput.setdefault(
                            (endpoint, name),
                            {"latencies": [], "errors": 0, "elapsed": 0.0, "cpu": 0.0},
                        )
                        total["latencies"] += result["latencies"]
                        for key in ("errors", "elapsed", "cpu"):
                            total[key] += result[key]
        load_after = loadavg()

        # ---------- 5. report ----------
        print(f"load average after: {load_after}")
        print(f"{watch.verdict()}")
        print(
            f"\n(a) one request in flight: {args.requests} requests per mode and endpoint "
            f"(after {args.warmup} warm-up), modes interleaved request by request"
        )
        header = f"  {'endpoint':<10} {'mode':<9} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'mean':>7}"
        print(header)
        print("  " + "-" * (len(header) - 2))
        for endpoint in ENDPOINTS:
            for mode in modes:
                values = samples[(endpoint, mode)]
                print(
                    f"  {endpoint:<10} {mode:<9} {len(values):>5} {pct(values, 50):>8.2f} "
                    f"{pct(values, 99):>8.2f} {statistics.fmean(values):>7.2f}"
                )
        print(
            f"\n(b) throughput: {args.clients} keep-alive clients, {args.duration:g} s per server "
            f"and endpoint ({args.rounds} alternating segments, {args.load_warmup:g} s warm-up "
            "each)"
        )
        header = (
            f"  {'endpoint':<10} {'server':<6} {'requests':>8} {'req/s':>8} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'errors':>6} {'CPU ms/req':>10}"
        )
        print(header)
        print("  " + "-" * (len(header) - 2))
        for endpoint in ENDPOINTS:
            for name in ("app", "bare"):
                t = throughput[(endpoint, name)]
                n = len(t["latencies"])
                print(
                    f"  {endpoint:<10} {name:<6} {n:>8} {n / t['elapsed']:>8.1f} "
                    f"{pct(t['latencies'], 50):>8.2f} {pct(t['latencies'], 99):>8.2f} "
                    f"{t['errors']:>6} {t['cpu'] * 1000 / max(n, 1):>10.2f}"
                )
        print("\nratios (targets: app p50 ≤ 2× bare p50; app req/s ≥ 0.5× bare req/s):")
        for endpoint in ENDPOINTS:
            app50 = pct(samples[(endpoint, "app")], 50)
            bare50 = pct(samples[(endpoint, "bare")], 50)
            main50 = pct(samples[(endpoint, "SQL main")], 50)
            all50 = pct(samples[(endpoint, "SQL all")], 50)
            rate = {
                name: len(throughput[(endpoint, name)]["latencies"])
                / throughput[(endpoint, name)]["elapsed"]
                for name in ("app", "bare")
            }
            latency_ratio = app50 / bare50
            rate_ratio = rate["app"] / rate["bare"]
            rate_verdict = "met" if rate_ratio >= 0.5 else "MISSED"
            print(
                f"  {endpoint:<9} p50 {app50:.2f} ÷ {bare50:.2f} ms = {latency_ratio:.2f}× "
                f"[{'met' if latency_ratio <= 2 else 'MISSED'}]; req/s {rate['app']:.0f} ÷ "
                f"{rate['bare']:.0f} = {rate_ratio:.2f}× [{rate_verdict}]"
                f"; old ratio app p50 ÷ SQL main p50 = {app50 / main50:.1f}× "
                f"(÷ SQL all {app50 / all50:.1f}×)"
            )
    finally:
        for server in servers:
            server.stop()
        if statements_file is not None and not args.keep_statements:
            with contextlib.suppress(OSError):
                os.unlink(statements_file.name)
        elif statements_file is not None:
            print(f"statements kept in {statements_file.name}")
        # Reads only: undo the logins (their refresh-token rows) and our rate-limit counters.
        ids = [i for i in (parse_refresh_token(t) for t in refresh) if i is not None]
        if ids:
            deleted = await sql.execute("DELETE FROM refresh_tokens WHERE id = ANY($1)", ids)
            left = await sql.fetchval("SELECT count(*) FROM refresh_tokens")
            print(f"\ncleanup: the logins' refresh tokens deleted ({deleted}); refresh_tokens "
                  f"rows {left} (before the run: {info['refresh_tokens']})")  # fmt: skip
        await clear_login_limits(args.redis_url)
        await sql.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--requests", type=int, default=400, help="per mode and endpoint")
    parser.add_argument("--warmup", type=int, default=40, help="rounds before measuring")
    parser.add_argument("--users", type=int, default=20, help="reps to rotate over")
    parser.add_argument("--feed-users", type=int, default=10, help="managers for the feed")
    parser.add_argument("--points", type=int, default=5, help="nearby: points per rep")
    parser.add_argument("--industry", default="制造业")
    parser.add_argument("--radius", type=float, default=2000.0)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--check", type=int, default=5, help="requests compared per endpoint")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="s per server, endpoint")
    parser.add_argument("--rounds", type=int, default=2, help="alternating segments")
    parser.add_argument("--load-warmup", type=float, default=1.5, help="s before each segment")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument("--show-sql", action="store_true", help="print the captured statements")
    parser.add_argument("--keep-statements", action="store_true", help="keep the JSON file")
    args = parser.parse_args()
    if args.limit == CAPTURE_LIMIT:
        parser.error(f"--limit {CAPTURE_LIMIT} is the capture's own value: pick another")
    # The app reads its settings on import: set them first (as bench.common.app_env).
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["OUTFIELD_ENV"] = "development"
    os.environ["OUTFIELD_ACCESS_TOKEN_TTL_S"] = "7200"
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run(args))
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
