"""Benchmark field work at scale: `GET /v1/customers/nearby` and `POST /v1/checkins`.

    python -m bench.nearby_and_checkins \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --redis-url redis://127.0.0.1:6379/12

Needs the dataset of `bench.generate_dataset` plus `bench.generate_checkins` (5M check-ins).

1. nearby — a rep standing at one of their own customers (a point up to 100 m from it) asks
   for visible customers within `--radius` (2000 m), `limit=20`. Measured one request in
   flight, rotating over `--users` reps × `--points` points each, modes interleaved request
   by request (rotating order):
   * API over HTTP: the real app under uvicorn in a subprocess (the Dockerfile's command),
     minimal keep-alive client — the honest figure; `server side` = the app's own
     duration_ms for those requests (its JSON request log);
   * SQL auth+nearby: the caller lookup `current_principal` runs + the nearby statement;
   * SQL nearby: the statement the app emits (captured text, same parameters), prepared,
     on a bare asyncpg connection — the database part.
   Then `EXPLAIN (ANALYZE, BUFFERS)` of one request, and the server-side execution time of
   the statement over every point (EXPLAIN ANALYZE, no network) with the rows the filter
   threw away.
2. checkins — sustained `POST /v1/checkins` throughput: `--clients` concurrent keep-alive
   clients (each rotating over reps, posting at one of the rep's own customers with a
   client-generated id, the phone's time = now) for `--duration` seconds per app, against
   the real app, against `bench/bare_full_checkin_app.py` (`bare-full`: FastAPI + asyncpg
   doing the endpoint's whole work — token, caller lookup, context read, INSERT, clock
   UPDATE, feed item, notifications, webhook outbox, one transaction — with hand-written
   SQL; `--no-bare-full` to skip it) and against `bench/bare_checkin_app.py` (`bare`: only
   the INSERT, no auth), served the same way, alternating in `--rounds` segments so drift
   hits all alike. Before measuring, one check-in through the app and the same one through
   bare-full (same customer, same starting state, a webhook subscribed for the occasion)
   must write the same rows. Requests/s, p50/p99, CPU per request (server, PostgreSQL),
   the ratios app ÷ bare-full and app ÷ bare, the `customers` table's updates and HOT
   updates over the phase (pg_stat_user_tables) and each server's resident memory.
   Afterwards everything the posts created is deleted and the touched customers are
   restored from a snapshot taken before (table `bench_nc_snapshot`; if a run dies,
   `--cleanup` restores from it).

The load average is printed before and after each part; it waits until no other benchmark
process runs before each part, unless those only wait too (`bench.feed.wait_until_quiet`).
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

from bench.common import (
    DOMAIN,
    HTTP,
    REPO,
    Intruders,
    Server,
    app_env,
    check_head,
    children_cpu_seconds,
    clear_login_limits,
    loadavg,
    log,
    login,
    other_benchmarks,
    pct,
    postmaster_pid,
    summary,
)
from bench.feed import wait_until_quiet  # waits, unless the others only wait too

# What `app.customers.nearby.nearby_customers` emits for a rep (captured from SQLAlchemy;
# `bench.nearby_and_checkins --show-sql` prints the live capture to compare).
# $1 lng, $2 lat, $3 srid, $4 company, $5 user, $6 user, $7 radius, $8 limit.
NEARBY_SQL = """
SELECT customers.id, customers.name, customers.address, customers.latitude,
       customers.longitude, customers.owner_id,
       ST_Distance(customers.location,
                   Geography(ST_SetSRID(ST_MakePoint($1::FLOAT, $2::FLOAT), $3::INTEGER)))
           AS distance_m
FROM customers
WHERE customers.company_id = $4::UUID AND customers.deleted_at IS NULL
  AND (customers.owner_id = $5::UUID OR customers.owner_id IS NULL
       OR (EXISTS (SELECT * FROM customer_collaborators
                   WHERE customer_collaborators.customer_id = customers.id
                     AND customer_collaborators.user_id = $6::UUID)))
  AND ST_DWithin(customers.location,
                 Geography(ST_SetSRID(ST_MakePoint($1::FLOAT, $2::FLOAT), $3::INTEGER)),
                 $7::FLOAT)
ORDER BY customers.location
         <-> Geography(ST_SetSRID(ST_MakePoint($1::FLOAT, $2::FLOAT), $3::INTEGER))
LIMIT $8::INTEGER
"""

SNAPSHOT = "bench_nc_snapshot"
POST_TAG = "bench-post"
CHECK_WEBHOOK = "bench.nearby_and_checkins equivalence check"  # its description


def nearby_args(user, point, radius: float, limit: int) -> tuple:  # noqa: ANN001
    lat, lng = point
    return (lng, lat, 4326, user["company_id"], user["id"], user["id"], float(radius), limit)


async def delete_posts(conn, ids: list[uuid.UUID]) -> None:  # noqa: ANN001
    """Delete posted check-ins and what they wrote: feed items, notifications, outbox rows."""
    await conn.execute(
        "DELETE FROM notifications WHERE subject_type = 'checkin' AND subject_id = ANY($1)", ids
    )
    await conn.execute(
        "DELETE FROM feed_items WHERE subject_type = 'checkin' AND subject_id = ANY($1)", ids
    )
    await conn.execute(
        "DELETE FROM webhook_deliveries WHERE event_type = 'checkin.created'"
        " AND (payload->'data'->>'id')::uuid = ANY($1)",
        ids,
    )
    await conn.execute("DELETE FROM checkins WHERE id = ANY($1)", ids)


async def restore_customers(conn, ids: list[uuid.UUID] | None = None,  # noqa: ANN001
                            snapshot: str = SNAPSHOT) -> str:  # fmt: skip
    """Every column of the snapshot's customers (or of `ids` among them) back as it was."""
    columns = [
        r["column_name"]
        for r in await conn.fetch(
            """
            SELECT column_name FROM information_schema.columns
            WHERE table_name = 'customers' AND table_schema = current_schema()
              AND is_generated = 'NEVER' AND column_name <> 'id'
            ORDER BY ordinal_position
            """
        )
    ]
    assignments = ", ".join(f"{c} = s.{c}" for c in columns)
    sql = f"UPDATE customers AS c SET {assignments} FROM {snapshot} AS s WHERE c.id = s.id"
    if ids is None:
        return await conn.execute(sql)
    return await conn.execute(sql + " AND s.id = ANY($1)", ids)


async def drop_check_webhook(conn) -> None:  # noqa: ANN001
    """The webhook the equivalence check subscribes for the occasion, and its deliveries."""
    hooks = "SELECT id FROM webhooks WHERE description = $1"
    await conn.execute(
        f"DELETE FROM webhook_deliveries WHERE webhook_id IN ({hooks})", CHECK_WEBHOOK
    )
    await conn.execute("DELETE FROM webhooks WHERE description = $1", CHECK_WEBHOOK)


async def restore_snapshot(conn) -> int:  # noqa: ANN001
    """Undo what the POST phase did: its check-ins and outbox rows, the customers' changes."""
    await drop_check_webhook(conn)
    if await conn.fetchval("SELECT to_regclass($1)", SNAPSHOT) is None:
        return 0
    ids = [
        r["id"]
        for r in await conn.fetch("SELECT id FROM checkins WHERE device_id LIKE $1", f"{POST_TAG}%")
    ]
    if ids:
        await delete_posts(conn, ids)
    restored = await restore_customers(conn)
    await conn.execute(f"DROP TABLE {SNAPSHOT}")
    log(f"restored: deleted {len(ids):,} posted check-ins (+ their feed/outbox rows), {restored}")
    return len(ids)


async def written_rows(conn, checkin_id: uuid.UUID, customer_id: uuid.UUID) -> dict:  # noqa: ANN001
    """What one POST wrote, without ids and moments that differ between two posts (as JSON,
    the check-in's id replaced by a placeholder)."""
    found = {
        "checkin": await conn.fetch(
            "SELECT to_jsonb(k) - 'id' - 'received_at' - 'created_at' FROM checkins k"
            " WHERE id = $1",
            checkin_id,
        ),
        "customer": await conn.fetch(
            "SELECT to_jsonb(c) - 'updated_at' FROM customers c WHERE id = $1", customer_id
        ),
        "feed item": await conn.fetch(
            "SELECT to_jsonb(f) - 'id' - 'created_at' FROM feed_items f"
            " WHERE subject_type = 'checkin' AND subject_id = $1",
            checkin_id,
        ),
        "notifications": await conn.fetch(
            "SELECT to_jsonb(n) - 'id' - 'created_at' - 'updated_at' - 'push_after'"
            " FROM notifications n WHERE subject_type = 'checkin' AND subject_id = $1"
            " ORDER BY user_id",
            checkin_id,
        ),
        "webhook deliveries": await conn.fetch(
            "SELECT (to_jsonb(d) - 'id' - 'event_id' - 'created_at' - 'next_attempt_at')"
            "       || jsonb_build_object('payload', d.payload - 'id' - 'occurred_at')"
            " FROM webhook_deliveries d WHERE event_type = 'checkin.created'"
            " AND payload->'data'->>'id' = $1 ORDER BY webhook_id",
            str(checkin_id),
        ),
    }
    return {
        name: [json.loads(r[0].replace(str(checkin_id), "<id>")) for r in rows]
        for name, rows in found.items()
    }


def differences(a: object, b: object, where: str = "") -> list[str]:
    """Where two JSON values differ (paths), for the equivalence check."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += differences(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{where}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{where}[{i}]")]  # fmt: skip
    return [] if a == b else [f"{where}: {a!r:.80} ≠ {b!r:.80}"]


async def run(args: argparse.Namespace) -> int:  # noqa: C901, PLR0915 - a script
    import asyncpg

    from bench.customer_lists import build_auth_sql

    database_url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    sql = await asyncpg.connect(database_url)
    await check_head(sql)
    # Another run owns the snapshot table: restoring from it (below) would undo its work.
    running = [line for line in other_benchmarks() if "nearby_and_checkins" in line]
    if running:
        await sql.close()
        raise SystemExit(
            "another bench.nearby_and_checkins is running on some database (it may own "
            f"{SNAPSHOT}); wait for it to finish: " + "; ".join(running)
        )
    if args.cleanup:
        await restore_snapshot(sql)
        await sql.close()
        return 0
    if await sql.fetchval("SELECT to_regclass($1)", SNAPSHOT) is not None:
        log(f"{SNAPSHOT} exists: an earlier run died; restoring from it first")
        await restore_snapshot(sql)

    info = await sql.fetchrow(
        """
        SELECT version() AS version, current_setting('shared_buffers') AS shared_buffers,
               (SELECT count(*) FROM customers) AS customers,
               (SELECT reltuples::bigint FROM pg_class WHERE relname = 'checkins') AS checkins,
               (SELECT count(*) FROM users WHERE role = 'rep') AS reps,
               pg_size_pretty(pg_table_size('checkins')) AS checkins_heap,
               pg_size_pretty(pg_indexes_size('checkins')) AS checkins_indexes
        """
    )
    print(
        f"PostgreSQL: {info['version'].split(' on ')[0]}; shared_buffers {info['shared_buffers']}"
    )
    print(
        f"dataset: {info['customers']:,} customers, ~{info['checkins']:,} check-ins (table "
        f"{info['checkins_heap']}, indexes {info['checkins_indexes']}), {info['reps']} reps"
    )
    if info["checkins"] < 1_000_000:
        log("fewer than a million check-ins: run python -m bench.generate_checkins first?")

    reps = await sql.fetch(
        """
        SELECT u.id, u.email, u.company_id, u.department_id, d.path
        FROM users u LEFT JOIN departments d ON d.id = u.department_id
        WHERE u.role = 'rep' AND u.email LIKE $1 ORDER BY u.email
        """,
        f"%@{DOMAIN}",
    )
    if not reps:
        log(f"no reps @{DOMAIN}: run python -m bench.generate_dataset first")
        return 1
    step = max(1, len(reps) // args.users)
    users = [reps[i] for i in range(0, len(reps), step)][: args.users]
    post_step = max(1, len(reps) // args.post_users)
    post_users = [reps[i + 1] for i in range(0, len(reps) - 1, post_step)][: args.post_users]

    rng = random.Random(args.seed)
    # Where each rep stands: up to 100 m from one of their own customers.
    points: dict[uuid.UUID, list[tuple[float, float]]] = {}
    for user in users:
        rows = await sql.fetch(
            """
            SELECT latitude, longitude FROM customers
            WHERE owner_id = $1 AND deleted_at IS NULL AND latitude IS NOT NULL
            ORDER BY md5(id::text || $2) LIMIT $3
            """,
            user["id"],
            str(args.seed),
            args.points,
        )
        points[user["id"]] = [
            (
                round(r["latitude"] + rng.uniform(-0.0009, 0.0009), 6),
                round(r["longitude"] + rng.uniform(-0.0009, 0.0009), 6),
            )
            for r in rows
        ]

    env = app_env(database_url, args.redis_url)
    api = Server("app.main:app", env, "api", args.workers)
    bare = Server("bench.bare_checkin_app:app", env, "bare", args.workers)
    bare_full = (
        Server("bench.bare_full_checkin_app:app", env, "bare-full", args.workers)
        if args.bare_full and "checkins" in args.phases
        else None
    )
    extra = [server for server in (bare_full,) if server is not None]
    own_snapshot = False
    api.start()
    bare.start()
    for server in extra:
        server.start()
    http = HTTP("127.0.0.1", api.port)
    try:
        await api.wait_ready()
        await bare.wait_ready()
        for server in extra:
            await server.wait_ready()
        await clear_login_limits(args.redis_url)
        emails = list(dict.fromkeys([u["email"] for u in users + post_users]))
        tokens = await login(api.port, emails, args.password)
        await http.connect()

        # ---------- 1. nearby ----------
        if "nearby" in args.phases:
            auth_sql = build_auth_sql()
            plan: list[tuple] = []
            for i in range(args.requests):
                user = users[i % len(users)]
                pts = points[user["id"]]
                plan.append((user, pts[(i // len(users)) % len(pts)]))

            def target(point: tuple[float, float]) -> str:
                query = {"lat": point[0], "lng": point[1], "radius_m": args.radius,
                         "limit": args.limit}  # fmt: skip
                return "/v1/customers/nearby?" + urlencode(query)

            # The API and the hand-written SQL return the same customers, in the same order.
            user, point = plan[0]
            status, body = await http.get(
                target(point), {"Authorization": f"Bearer {tokens[user['email']]}"}
            )
            assert status == 200, body[:300]
            api_ids = [item["id"] for item in json.loads(body)["items"]]
            sql_rows = await sql.fetch(NEARBY_SQL, *nearby_args(user, point, args.radius,
                                                                  args.limit))  # fmt: skip
            if api_ids != [str(r["id"]) for r in sql_rows]:
                log("nearby: the hand-written SQL does not return what the API returns")
                return 1
            found = []
            for user in users:
                for point in points[user["id"]]:
                    found.append(
                        len(
                            await sql.fetch(
                                NEARBY_SQL, *nearby_args(user, point, args.radius, args.limit)
                            )
                        )  # fmt: skip
                    )

            samples: dict[str, list[float]] = {}

            async def one_http(user, point, tag: str) -> None:  # noqa: ANN001
                headers = {"Authorization": f"Bearer {tokens[user['email']]}",
                           "X-Request-ID": tag}  # fmt: skip
                await http.ready()
                t0 = time.perf_counter()
                status, body = await http.get(target(point), headers)
                elapsed = time.perf_counter() - t0
                assert status == 200, body[:300]
                if tag.startswith("m-"):
                    samples.setdefault("API over HTTP", []).append(elapsed * 1000)

            async def one_sql(user, point, tag: str) -> None:  # noqa: ANN001
                params = nearby_args(user, point, args.radius, args.limit)
                t0 = time.perf_counter()
                await sql.fetch(NEARBY_SQL, *params)
                elapsed = time.perf_counter() - t0
                if tag.startswith("m-"):
                    samples.setdefault("SQL nearby (asyncpg)", []).append(elapsed * 1000)

            async def one_sql_auth(user, point, tag: str) -> None:  # noqa: ANN001
                params = nearby_args(user, point, args.radius, args.limit)
                t0 = time.perf_counter()
                await sql.fetchrow(auth_sql, user["id"], user["company_id"])
                await sql.fetch(NEARBY_SQL, *params)
                elapsed = time.perf_counter() - t0
                if tag.startswith("m-"):
                    samples.setdefault("SQL auth+nearby", []).append(elapsed * 1000)

            modes = [one_http, one_sql, one_sql_auth]
            await wait_until_quiet(sql, "before nearby")
            load_before = loadavg()
            log("nearby: warm-up")
            for i in range(args.warmup):
                user, point = plan[i % len(plan)]
                for mode in modes:
                    await mode(user, point, f"w-{i}")
            log("nearby: measuring")
            with Intruders() as nearby_watch:
                for i, (user, point) in enumerate(plan):
                    k = i % len(modes)
                    for mode in modes[k:] + modes[:k]:
                        await mode(user, point, f"m-{i}")
            load_after = loadavg()

            server_side = []
            with open(api.log.name, encoding="utf-8") as lines:  # noqa: ASYNC230
                for line in lines:
                    if line.startswith("{"):
                        try:
                            entry = json.loads(line)
                        except json.JSONDecodeError:
                            continue
                        if str(entry.get("request_id", "")).startswith("m-"):
                            server_side.append(entry["duration_ms"])
            samples["  server side (HTTP)"] = server_side

            # Server-side execution of the statement alone, every point (no network).
            executions, plannings, removed, scanned = [], [], [], []
            for user in users:
                for point in points[user["id"]]:
                    text = await sql.fetchval(
                        "EXPLAIN (ANALYZE, FORMAT JSON) " + NEARBY_SQL,
                        *nearby_args(user, point, args.radius, args.limit),
                    )
                    doc = json.loads(text)[0]
                    executions.append(doc["Execution Time"])
                    plannings.append(doc["Planning Time"])
                    node = doc["Plan"]
                    while node.get("Plans") and "Rows Removed by Filter" not in node:
                        node = node["Plans"][0]
                    removed.append(node.get("Rows Removed by Filter", 0))
                    scanned.append(
                        node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                    )
            samples["  EXPLAIN: execution"] = executions
            samples["  EXPLAIN: planning"] = plannings

            print()
            print(
                f"== GET /v1/customers/nearby?lat=…&lng=…&radius_m={args.radius:g}&limit="
                f"{args.limit} — {len(users)} reps × {len(points[users[0]['id']])} points, "
                f"{args.requests} requests per mode after {args.warmup} warm-up"
            )
            print(
                f"   results per point: {min(found)}–{max(found)} customers (median "
                f"{sorted(found)[len(found) // 2]}); index rows read per query: median "
                f"{pct(scanned, 50):.0f}, max {max(scanned):.0f} (of which thrown away by the "
                f"visibility filter: median {pct(removed, 50):.0f}, max {max(removed):.0f})"
            )
            print(f"   load average before: {load_before}; after: {load_after}")
            print(f"   {nearby_watch.verdict()}")
            header = f"   {'mode':<26} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'mean':>7} {'max':>7}"
            print(header)
            print("   " + "-" * (len(header) - 3))
            modes_shown = ("API over HTTP", "  server side (HTTP)", "SQL auth+nearby",
                           "SQL nearby (asyncpg)", "  EXPLAIN: execution",
                           "  EXPLAIN: planning")  # fmt: skip
            for mode in modes_shown:
                n, p50, p99, mean, top = summary(samples.get(mode, []))
                print(f"   {mode:<26} {n:>5} {p50:>8.2f} {p99:>8.2f} {mean:>7.2f} {top:>7.2f}")
            api50 = pct(samples["API over HTTP"], 50)
            db50 = pct(samples["SQL nearby (asyncpg)"], 50)
            ex50 = pct(executions, 50)
            print(
                f"   target: API p50 {api50:.2f} ms {'<' if api50 < 10 else '≥'} 10 ms "
                f"[{'met' if api50 < 10 else 'MISSED'}]; database part p50 {db50:.2f} ms "
                f"(round trip; server execution {ex50:.2f} ms) {'<' if db50 < 5 else '≥'} 5 ms "
                f"[{'met' if db50 < 5 else 'MISSED'}]"
            )
            user, point = plan[0]
            print(
                f"\n=== EXPLAIN (ANALYZE, BUFFERS) — nearby as {user['email']} at "
                f"{point[0]},{point[1]}"
            )
            rows = await sql.fetch(
                "EXPLAIN (ANALYZE, BUFFERS) " + NEARBY_SQL,
                *nearby_args(user, point, args.radius, args.limit),
            )
            print("\n".join(r[0] for r in rows))

        # ---------- 2. POST /v1/checkins ----------
        if "checkins" in args.phases:
            # The customers table's row updates, before and after the whole phase.
            table_stats = """
                SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
                WHERE relid = 'customers'::regclass
            """
            stats_before = await sql.fetchrow(table_stats)
            preload = await sql.fetchval("SELECT current_setting('shared_preload_libraries')")
            targets: dict[uuid.UUID, list[tuple[uuid.UUID, float, float]]] = {}
            for user in post_users:
                rows = await sql.fetch(
                    """
                    SELECT id, latitude, longitude FROM customers
                    WHERE owner_id = $1 AND deleted_at IS NULL AND latitude IS NOT NULL
                    ORDER BY md5(id::text || $2) LIMIT $3
                    """,
                    user["id"],
                    str(args.seed),
                    args.customers_per_rep,
                )
                targets[user["id"]] = [(r["id"], r["latitude"], r["longitude"]) for r in rows]
            touched = [cid for rows in targets.values() for cid, _, _ in rows]
            await sql.execute(
                f"CREATE TABLE {SNAPSHOT} AS SELECT * FROM customers WHERE id = ANY($1)", touched
            )
            own_snapshot = True
            log(f"snapshot of the {len(touched):,} customers the posts may touch: {SNAPSHOT}")
            run_tag = f"{POST_TAG}-{uuid.uuid4().hex[:8]}"

            def body_for(user, rnd: random.Random, target=None) -> dict:  # noqa: ANN001
                cid, lat, lng = target or rnd.choice(targets[user["id"]])
                return {
                    "id": str(uuid.uuid4()),
                    "customer_id": str(cid),
                    "location": {
                        "lat": round(lat + rnd.uniform(-0.0002, 0.0002), 6),
                        "lng": round(lng + rnd.uniform(-0.0002, 0.0002), 6),
                        "accuracy_m": round(rnd.uniform(5, 40), 1),
                    },
                    "client_recorded_at": datetime.now(UTC).isoformat(),
                    "purpose": "拜访",
                    "note": "基准测试签到",
                    "device_id": run_tag,
                }

            kinds = ["api"] + (["bare-full"] if bare_full is not None else []) + ["bare"]
            servers = {"api": api, "bare-full": bare_full, "bare": bare}
            paths = {"api": "/v1/checkins", "bare-full": "/v1/checkins", "bare": "/v1/checkins"}

            def headers_for(kind: str, user) -> dict[str, str]:  # noqa: ANN001
                if kind == "bare":  # no auth: the caller in two headers
                    return {"X-Bench-User": str(user["id"]),
                            "X-Bench-Company": str(user["company_id"])}  # fmt: skip
                return {"Authorization": f"Bearer {tokens[user['email']]}"}

            async def same_rows() -> str:
                """One check-in through the app, undone, then the same one through bare-full
                from the same starting state: the rows written and the answers must agree.
                At a customer with a collaborator (so notifications are written), with a
                webhook subscribed to checkin.created for the occasion (so is the outbox)."""
                shared = {
                    r["customer_id"]
                    for r in await sql.fetch(
                        "SELECT customer_id FROM customer_collaborators"
                        " WHERE customer_id = ANY($1)",
                        touched,
                    )
                }
                user, target = next(
                    ((u, t) for u in post_users for t in targets[u["id"]] if t[0] in shared),
                    (post_users[0], targets[post_users[0]["id"]][0]),
                )
                await sql.execute(
                    """
                    INSERT INTO webhooks (id, company_id, url, event_types, secret, description,
                                          active, version, created_at, updated_at)
                    VALUES (gen_random_uuid(), $1, 'https://bench-check.invalid/hook',
                            ARRAY['checkin.created'], 'bench', $2, true, 1, now(), now())
                    """,
                    user["company_id"],
                    CHECK_WEBHOOK,
                )
                body = body_for(user, random.Random(args.seed), target)
                rows, answers = {}, {}
                try:
                    for kind in ("api", "bare-full"):
                        payload = {**body, "id": str(uuid.uuid4())}
                        conn = HTTP("127.0.0.1", servers[kind].port)
                        await conn.connect()
                        try:
                            status, answer = await conn.post_json(
                                "/v1/checkins", payload, headers_for(kind, user)
                            )
                        finally:
                            await conn.close()
                        if status != 201:
                            return f"DIFFERENT: {kind} answered {status} {answer[:200]!r}"
                        posted = uuid.UUID(payload["id"])
                        rows[kind] = await written_rows(sql, posted, target[0])
                        skip = ("id", "received_at", "created_at")
                        answers[kind] = {k: v for k, v in json.loads(answer).items()
                                         if k not in skip}  # fmt: skip
                        if kind == "api":  # back to the starting state for bare-full
                            await delete_posts(sql, [posted])
                            await restore_customers(sql, [target[0]])
                finally:
                    await drop_check_webhook(sql)
                found = differences(rows["api"], rows["bare-full"]) + differences(
                    answers["api"], answers["bare-full"], "response"
                )
                what = ", ".join(f"{len(v)} {k}" for k, v in rows["api"].items())
                if found:
                    return f"DIFFERENT ({what}): " + "; ".join(found[:6])
                return f"same rows ({what}; compared without ids and moments) and same answer"

            async def load(server: Server, kind: str, seconds: float, record: bool,
                           results: dict) -> None:  # fmt: skip
                stop = time.perf_counter() + seconds
                started = time.perf_counter()

                async def client(k: int) -> None:
                    rnd = random.Random(f"{args.seed}-{kind}-{k}-{started}")
                    conn = HTTP("127.0.0.1", server.port)
                    await conn.connect()
                    n = 0
                    try:
                        while time.perf_counter() < stop:
                            user = post_users[(k + n * args.clients) % len(post_users)]
                            n += 1
                            headers = headers_for(kind, user)
                            payload = body_for(user, rnd)
                            await conn.ready()
                            t0 = time.perf_counter()
                            status, body = await conn.post_json(paths[kind], payload, headers)
                            t1 = time.perf_counter()
                            if not record or t1 > stop:
                                continue
                            results["latencies"].append((t1 - t0) * 1000)
                            if status != 201:
                                results["errors"] += 1
                                if results["errors"] <= 3:
                                    log(f"{kind}: {status} {body[:300]!r}")
                    finally:
                        await conn.close()

                cpu0 = (server.cpu_seconds(), children_cpu_seconds(postmaster or -1),
                        time.process_time())  # fmt: skip
                await asyncio.gather(*(client(k) for k in range(args.clients)))
                cpu1 = (server.cpu_seconds(), children_cpu_seconds(postmaster or -1),
                        time.process_time())  # fmt: skip
                if record:
                    results["seconds"] += seconds
                    for key, a, b in zip(("cpu_server", "cpu_pg", "cpu_client"), cpu0, cpu1,
                                         strict=True):  # fmt: skip
                        results[key] += b - a

            same = await same_rows() if bare_full is not None else None
            if same is not None:
                log(f"equivalence check, app vs bare-full: {same}")
            await wait_until_quiet(sql, "before POST /v1/checkins")
            load_before = loadavg()
            postmaster = await postmaster_pid(sql)
            results = {
                kind: {"latencies": [], "errors": 0, "seconds": 0.0, "cpu_server": 0.0,
                       "cpu_pg": 0.0, "cpu_client": 0.0}
                for kind in kinds
            }  # fmt: skip
            post_watch = Intruders().__enter__()
            log(f"POST /v1/checkins: warm-up {args.post_warmup}s each")
            for kind in kinds:
                await load(servers[kind], kind, args.post_warmup, False, results[kind])
            segment = args.duration / args.rounds
            for r in range(args.rounds):
                order = kinds if r % 2 == 0 else kinds[::-1]
                for kind in order:
                    log(f"POST /v1/checkins: {kind}, round {r + 1}, {segment:.0f}s")
                    await load(servers[kind], kind, segment, True, results[kind])
            load_after = loadavg()
            post_watch.__exit__()
            rss = {kind: servers[kind].rss_bytes() for kind in kinds}
            # The servers' backends flush their table statistics when they exit; an idle one
            # would hold them for up to 10 s (PGSTAT_IDLE_INTERVAL in PostgreSQL 15).
            for kind in kinds:
                servers[kind].stop(keep_log=args.keep_logs)
            await asyncio.sleep(2)
            stats_after = await sql.fetchrow(table_stats)
            # Clock moves: counted check-ins of the servers that move it (they all write a feed
            # item; the insert-only `bare` writes none).
            posted = await sql.fetchrow(
                """
                SELECT count(*) AS n,
                       count(*) FILTER (WHERE counts_as_followup AND EXISTS (
                           SELECT 1 FROM feed_items f
                           WHERE f.subject_type = 'checkin' AND f.subject_id = k.id)) AS moved
                FROM checkins k WHERE device_id = $1
                """,
                run_tag,
            )
            print()
            print(
                f"== POST /v1/checkins — {args.clients} concurrent keep-alive clients, "
                f"{args.duration:g}s per app in {args.rounds} alternating segments "
                f"(+{args.post_warmup:g}s warm-up each), rotating over {len(post_users)} reps; "
                f"uvicorn --workers {args.workers} for every server"
            )
            print(f"   load average before: {load_before}; after: {load_after}")
            print(f"   {post_watch.verdict()}")
            if same is not None:
                print(f"   equivalence check (one post each, app vs bare-full): {same}")
            header = (
                f"   {'server':<40} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'max':>6} {'err':>4} {'CPU ms/request: server':>22} {'postgres':>8} "
                f"{'client':>6}"
            )
            print(header)
            print("   " + "-" * (len(header) - 3))
            rates, p99s, pg_per = {}, {}, {}
            labels = {"api": "app (app.main:app)",
                      "bare-full": "bare-full (bench.bare_full_checkin_app)",
                      "bare": "bare (bench.bare_checkin_app)"}  # fmt: skip
            for kind in kinds:
                label = labels[kind]
                res = results[kind]
                n, p50, p99, _, top = summary(res["latencies"])
                rates[kind] = n / res["seconds"] if res["seconds"] else 0.0
                p99s[kind] = p99
                per = [res[k] * 1000 / n if n else float("nan")
                       for k in ("cpu_server", "cpu_pg", "cpu_client")]  # fmt: skip
                pg_per[kind] = per[1]
                print(
                    f"   {label:<40} {n:>8} {rates[kind]:>7.1f} {p50:>7.2f} {p99:>7.2f} "
                    f"{top:>6.1f} {res['errors']:>4} {per[0]:>22.2f} {per[1]:>8.2f} {per[2]:>6.2f}"
                )
            for kind in kinds:
                res = results[kind]
                print(
                    f"   {kind}: server busy {res['cpu_server'] / res['seconds']:.0%} "
                    f"(100% = one core), postgres {res['cpu_pg'] / res['seconds']:.0%}, client "
                    f"{res['cpu_client'] / res['seconds']:.0%} (2 cores = 200%)"
                )
            if "bare-full" in rates:
                full = rates["api"] / rates["bare-full"] if rates["bare-full"] else 0.0
                ok = full >= 0.6
                fast = p99s["api"] < 50
                print(
                    f"   target: app ÷ bare-full = {full:.2f} {'≥' if ok else '<'} 0.6 "
                    f"[{'met' if ok else 'MISSED'}]; app p99 {p99s['api']:.1f} ms "
                    f"{'<' if fast else '≥'} 50 ms [{'met' if fast else 'MISSED'}]"
                )
            ratio = rates["api"] / rates["bare"] if rates["bare"] else 0.0
            print(
                f"   app ÷ bare (insert only, no auth; kept for continuity) = {ratio:.2f} "
                f"{'≥' if ratio >= 0.5 else '<'} 0.5 [{'met' if ratio >= 0.5 else 'MISSED'}]"
                f"  ({posted['n']:,} check-ins written, warm-up and check included)"
            )
            source = (
                "pg_stat_statements is loaded but not used"
                if "pg_stat_statements" in (preload or "")
                else "pg_stat_statements is not loaded"
            )
            print(
                "   PostgreSQL CPU per check-in: "
                + ", ".join(f"{kind} {pg_per[kind]:.2f} ms" for kind in kinds)
                + f" ({source}: CPU of every child of the postmaster — backends and background"
                " processes — from /proc, over the measured segments)"
            )
            updates = stats_after["n_tup_upd"] - stats_before["n_tup_upd"]
            hot = stats_after["n_tup_hot_upd"] - stats_before["n_tup_hot_upd"]
            print(
                f"   customers (pg_stat_user_tables, whole phase, all servers): n_tup_upd "
                f"+{updates:,}, n_tup_hot_upd +{hot:,}, HOT ratio "
                f"{hot / updates if updates else float('nan'):.1%}  ({posted['moved']:,} "
                "check-ins moved the clock, one UPDATE each (bare moves none)"
                + ("; the equivalence check adds 2" if same is not None else "")
                + ")"
            )
            print(
                "   resident memory (VmRSS) at the end of the phase: "
                + ", ".join(f"{kind} {rss[kind] / 2**20:.0f} MiB" for kind in kinds)
            )
            await restore_snapshot(sql)
            await sql.execute("VACUUM (ANALYZE) checkins")

        if args.show_sql:
            print("\n--- the nearby statement as written here:\n" + NEARBY_SQL)
    finally:
        await http.close()
        for server in (api, bare, *extra):
            server.stop(keep_log=args.keep_logs)
        if args.keep_logs:
            log("server logs: " + " ".join(server.log.name for server in (api, bare, *extra)))
        # Only a snapshot this run made: one that made its CREATE fail belongs to another run.
        if own_snapshot and await sql.fetchval("SELECT to_regclass($1)", SNAPSHOT) is not None:
            await restore_snapshot(sql)
        await sql.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--password", default="bench-password")
    parser.add_argument("--phases", nargs="+", default=["nearby", "checkins"],
                        choices=("nearby", "checkins"))  # fmt: skip
    parser.add_argument("--users", type=int, default=20, help="reps for nearby")
    parser.add_argument("--points", type=int, default=5, help="points per rep for nearby")
    parser.add_argument("--radius", type=float, default=2000)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--requests", type=int, default=500, help="nearby requests per mode")
    parser.add_argument("--warmup", type=int, default=50, help="nearby warm-up rounds")
    parser.add_argument("--clients", type=int, default=8, help="concurrent POST clients")
    parser.add_argument("--duration", type=float, default=24, help="POST seconds per app")
    parser.add_argument("--rounds", type=int, default=2, help="alternating segments per app")
    parser.add_argument("--post-warmup", type=float, default=3, help="seconds per app")
    parser.add_argument("--post-users", type=int, default=40, help="reps the POSTs rotate over")
    parser.add_argument("--customers-per-rep", type=int, default=200)
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn --workers for every server (default 1)"
    )
    parser.add_argument(
        "--no-bare-full",
        dest="bare_full",
        action="store_false",
        help="skip bench/bare_full_checkin_app.py (the app's whole check-in on bare asyncpg)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="keep the uvicorn logs")
    parser.add_argument(
        "--cleanup", action="store_true", help="only undo a dead run's POSTs, then exit"
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["OUTFIELD_ENV"] = "development"
    sys.path.insert(0, str(REPO))
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run(args))
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
