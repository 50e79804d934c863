"""Composite tenant keys (migration 0009) at the API: `POST /v1/checkins` of the real app on the
data set as migrated (composite foreign keys) and on a variant with the old id-only keys, side
by side in one run.

    .venv/bin/python -m bench.tenant_keys_app --build-variant \\
        --composite-url postgresql://postgres@127.0.0.1:5432/outfield_bench \\
        --idfk-url postgresql://postgres@127.0.0.1:5432/outfield_bench_idfk
    .venv/bin/python -m bench.tenant_keys_app \\
        --composite-url postgresql://postgres@127.0.0.1:5432/outfield_bench \\
        --idfk-url postgresql://postgres@127.0.0.1:5432/outfield_bench_idfk

`--build-variant` copies the composite database (`CREATE DATABASE … TEMPLATE`, skipped when
the copy exists; `--replace` to redo it) and rewrites its keys from pg_catalog: every foreign
key whose columns start with company_id becomes a foreign key on the remaining column(s) to the
parent's id (same name, same ON DELETE; added NOT VALID, then validated), and every unique
constraint on exactly (company_id, id) is dropped. The primary keys and unique indexes that
gained company_id stay: the app's ON CONFLICT targets name them. So the variant is the schema
of 0008 with today's ON CONFLICT targets, and the app of today runs on both.

The run (same way as `bench.nearby_and_checkins`' checkins phase): one `app.main:app` under
uvicorn per database, the same `--clients` keep-alive clients posting for `--duration` seconds
per side in `--rounds` alternating segments (the order reversing each round) after a warm-up,
rotating over `--post-users` reps at their own customers. First one check-in on each side at
the same customer must write the same rows (`bench.nearby_and_checkins.written_rows`). Then
req/s, p50/p99, CPU per request (server, PostgreSQL), the ratio idfk ÷ composite of each, and
EXPLAIN (ANALYZE, BUFFERS) of the check-in INSERT and the feed item INSERT on both (rolled
back), with the foreign-key trigger times. The posts are deleted and the touched customers
restored afterwards on both sides (snapshot table `bench_tka_snapshot`; `--cleanup` after a
dead run).
"""

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlparse, urlunparse

import asyncpg

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
    postmaster_pid,
    summary,
)
from bench.nearby_and_checkins import delete_posts, differences, restore_customers, written_rows
from bench.tenant_keys import CHECKIN, FEED_ITEM

SNAPSHOT = "bench_tka_snapshot"
POST_TAG = "bench-tka"
SIDES = ("composite", "idfk")

FOREIGN_KEYS = """
SELECT c.conname, c.conrelid::regclass::text AS tbl, c.confrelid::regclass::text AS target,
       c.confdeltype::text AS confdeltype, c.confupdtype::text AS confupdtype, c.condeferrable,
       array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
             ORDER BY k.i)::text[] AS cols,
       array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
             ORDER BY k.i)::text[] AS refcols
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
ORDER BY 2, 1
"""
TENANT_UNIQUES = """
SELECT c.conname, c.conrelid::regclass::text AS tbl
FROM pg_constraint c
WHERE c.contype = 'u' AND c.connamespace = 'public'::regnamespace
  AND array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
            ORDER BY k.i)::text[] = ARRAY['company_id', 'id']
ORDER BY 2
"""
ACTIONS = {"a": "", "r": " ON DELETE RESTRICT", "c": " ON DELETE CASCADE",
           "n": " ON DELETE SET NULL", "d": " ON DELETE SET DEFAULT"}  # fmt: skip


def _database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


async def build_variant(composite_url: str, idfk_url: str, replace: bool) -> None:
    """The id-only copy of the composite database (see the module's docstring)."""
    source = urlparse(composite_url).path.lstrip("/")
    name = urlparse(idfk_url).path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]+", name) or name == source:
        raise SystemExit(f"refusing variant database name {name!r}")
    admin = await asyncpg.connect(_database(composite_url, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and replace:
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            exists = None
        if not exists:
            started = time.monotonic()
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
            log(f"CREATE DATABASE {name} TEMPLATE {source}: {time.monotonic() - started:.0f} s")
    finally:
        await admin.close()
    conn = await asyncpg.connect(idfk_url)
    try:
        started = time.monotonic()
        changes: dict[str, list[str]] = {}
        swapped = []
        for fk in await conn.fetch(FOREIGN_KEYS):
            cols, refcols = list(fk["cols"]), list(fk["refcols"])
            if len(cols) < 2 or cols[0] != "company_id" or refcols[0] != "company_id":
                continue
            if fk["confupdtype"] != "a" or fk["condeferrable"]:
                raise SystemExit(f"{fk['conname']}: ON UPDATE / DEFERRABLE not handled")
            changes.setdefault(fk["tbl"], []).extend([
                f"DROP CONSTRAINT {fk['conname']}",
                f"ADD CONSTRAINT {fk['conname']} FOREIGN KEY ({', '.join(cols[1:])})"
                f" REFERENCES {fk['target']} ({', '.join(refcols[1:])})"
                f"{ACTIONS[fk['confdeltype']]} NOT VALID",
            ])  # fmt: skip
            swapped.append((fk["tbl"], fk["conname"]))
        async with conn.transaction():
            await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            await conn.execute("SET LOCAL work_mem = '64MB'")
            for table, parts in changes.items():
                await conn.execute(f"ALTER TABLE {table} " + ", ".join(parts))
            for table, name_ in swapped:
                await conn.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name_}")
            uniques = await conn.fetch(TENANT_UNIQUES)
            for row in uniques:
                await conn.execute(f"ALTER TABLE {row['tbl']} DROP CONSTRAINT {row['conname']}")
        await conn.execute("ANALYZE")
        log(
            f"{name}: {len(swapped)} foreign keys made id-only on {len(changes)} tables, "
            f"{len(uniques)} UNIQUE (company_id, id) dropped, in {time.monotonic() - started:.0f} s"
        )
        left = [fk["conname"] for fk in await conn.fetch(FOREIGN_KEYS)
                if len(fk["cols"]) > 1 and fk["cols"][0] == "company_id"]  # fmt: skip
        if left:
            raise SystemExit(f"composite foreign keys left: {left}")
    finally:
        await conn.close()


async def undo_posts(conn: asyncpg.Connection) -> None:
    """Delete this script's posts and restore the customers they touched, then the snapshot."""
    if await conn.fetchval("SELECT to_regclass($1)", SNAPSHOT) is None:
        return
    ids = [r["id"] for r in await conn.fetch(
        "SELECT id FROM checkins WHERE device_id LIKE $1", f"{POST_TAG}%")]  # fmt: skip
    if ids:
        await delete_posts(conn, ids)
    restored = await restore_customers(conn, snapshot=SNAPSHOT)
    await conn.execute(f"DROP TABLE {SNAPSHOT}")
    log(f"restored: {len(ids):,} posted check-ins deleted (+ their rows), customers {restored}")


async def explain(conns: dict[str, asyncpg.Connection], targets: list, runs: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the check-in and feed item INSERTs, rolled back."""
    for label, sql in (("check-in INSERT", CHECKIN), ("feed item INSERT", FEED_ITEM)):
        for side in SIDES:
            conn = conns[side]
            totals: dict[str, list[float]] = {}
            plan: list[str] = []
            for i in range(runs):
                company, user, customer, lat, lng = targets[i % len(targets)]
                at = datetime.now(UTC)
                checkin_id = uuid.uuid4()
                tr = conn.transaction()
                await tr.start()
                try:
                    if sql is CHECKIN:
                        args = (checkin_id, company, user, customer, lat, lng,
                                f"{lat:.6f},{lng:.6f}", at)  # fmt: skip
                    else:
                        args = (uuid.uuid4(), company, checkin_id, customer, user,
                                json.dumps({"distance_m": 12}), at)  # fmt: skip
                    plan = [r[0] for r in await conn.fetch(
                        "EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)]  # fmt: skip
                finally:
                    await tr.rollback()
                for line in plan:
                    found = re.match(r"\s*(Trigger for constraint \S+|Execution Time|"
                                     r"Planning Time).*?(?:time=|: )([\d.]+)", line)  # fmt: skip
                    if found:
                        totals.setdefault(found[1], []).append(float(found[2]))
            print(f"\n=== EXPLAIN (ANALYZE, BUFFERS) {label} — {side} (last of {runs})")
            print("\n".join(plan))
            print(
                f"   medians over {runs} runs (ms): "
                + ", ".join(
                    f"{key} {sorted(v)[len(v) // 2]:.3f}" for key, v in sorted(totals.items())
                )
            )


async def run(args: argparse.Namespace) -> int:  # noqa: C901, PLR0915 - a script
    urls = {"composite": args.composite_url, "idfk": args.idfk_url}
    if args.build_variant:
        await build_variant(args.composite_url, args.idfk_url, args.replace)
        return 0
    conns = {side: await asyncpg.connect(url) for side, url in urls.items()}
    try:
        for conn in conns.values():
            await check_head(conn)
        if args.cleanup:
            for conn in conns.values():
                await undo_posts(conn)
            return 0
        for side, conn in conns.items():
            if await conn.fetchval("SELECT to_regclass($1)", SNAPSHOT) is not None:
                raise SystemExit(f"{SNAPSHOT} exists on {side}: another run, or a dead one "
                                 "(then --cleanup)")  # fmt: skip
        sql = conns["composite"]
        reps = await sql.fetch(
            "SELECT id, email, company_id FROM users WHERE role = 'rep' AND email LIKE $1"
            " ORDER BY email",
            f"%@{DOMAIN}",
        )
        step = max(1, len(reps) // args.post_users)
        post_users = [reps[i + 1] for i in range(0, len(reps) - 1, step)][: args.post_users]
        targets: dict[uuid.UUID, list[tuple]] = {}
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
        for conn in conns.values():
            await conn.execute(
                f"CREATE TABLE {SNAPSHOT} AS SELECT * FROM customers WHERE id = ANY($1)", touched
            )
        run_tag = f"{POST_TAG}-{uuid.uuid4().hex[:8]}"
        servers = {side: Server("app.main:app", app_env(url, args.redis_url), f"tka-{side}")
                   for side, url in urls.items()}  # fmt: skip
        try:
            for server in servers.values():
                server.start()
            for server in servers.values():
                await server.wait_ready()
            await clear_login_limits(args.redis_url)
            # The same users (ids, token_version) and secret on both sides: one set of tokens.
            tokens = await login(servers["composite"].port,
                                 [u["email"] for u in post_users], args.password)  # fmt: skip

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

            def auth(user) -> dict[str, str]:  # noqa: ANN001
                return {"Authorization": f"Bearer {tokens[user['email']]}"}

            # Equivalence: the same body at the same customer on each side, same rows written
            # (a customer with a collaborator, so a notification is written too).
            shared = {r[0] for r in await sql.fetch(
                "SELECT customer_id FROM customer_collaborators WHERE customer_id = ANY($1)",
                touched)}  # fmt: skip
            user, target = next(
                ((u, t) for u in post_users for t in targets[u["id"]] if t[0] in shared),
                (post_users[0], targets[post_users[0]["id"]][0]),
            )
            body = body_for(user, random.Random(args.seed), target)
            written = {}
            for side in SIDES:
                conn = HTTP("127.0.0.1", servers[side].port)
                await conn.connect()
                payload = {**body, "id": str(uuid.uuid4())}
                try:
                    status, answer = await conn.post_json("/v1/checkins", payload, auth(user))
                finally:
                    await conn.close()
                if status != 201:
                    raise SystemExit(f"{side}: {status} {answer[:300]!r}")
                written[side] = await written_rows(conns[side], uuid.UUID(payload["id"]),
                                                   target[0])  # fmt: skip
            found = differences(written["composite"], written["idfk"])
            same = ("same rows (" + ", ".join(f"{len(v)} {k}" for k, v in written["idfk"].items())
                    + ")" if not found else "DIFFERENT: " + "; ".join(found[:6]))  # fmt: skip
            log(f"equivalence check, composite vs idfk: {same}")

            postmaster = await postmaster_pid(sql)
            results = {side: {"latencies": [], "errors": 0, "seconds": 0.0, "cpu_server": 0.0,
                              "cpu_pg": 0.0} for side in SIDES}  # fmt: skip

            async def load(side: str, seconds: float, record: bool) -> None:
                stop = time.perf_counter() + seconds
                res = results[side]

                async def client(k: int) -> None:
                    rnd = random.Random(f"{args.seed}-{side}-{k}-{time.perf_counter()}")
                    conn = HTTP("127.0.0.1", servers[side].port)
                    await conn.connect()
                    n = 0
                    try:
                        while time.perf_counter() < stop:
                            user = post_users[(k + n * args.clients) % len(post_users)]
                            n += 1
                            payload = body_for(user, rnd)
                            await conn.ready()
                            t0 = time.perf_counter()
                            status, answer = await conn.post_json(
                                "/v1/checkins", payload, auth(user)
                            )
                            t1 = time.perf_counter()
                            if not record or t1 > stop:
                                continue
                            res["latencies"].append((t1 - t0) * 1000)
                            if status != 201:
                                res["errors"] += 1
                                if res["errors"] <= 3:
                                    log(f"{side}: {status} {answer[:300]!r}")
                    finally:
                        await conn.close()

                cpu0 = servers[side].cpu_seconds(), children_cpu_seconds(postmaster or -1)
                await asyncio.gather(*(client(k) for k in range(args.clients)))
                cpu1 = servers[side].cpu_seconds(), children_cpu_seconds(postmaster or -1)
                if record:
                    res["seconds"] += seconds
                    res["cpu_server"] += cpu1[0] - cpu0[0]
                    res["cpu_pg"] += cpu1[1] - cpu0[1]

            others_before = other_benchmarks()
            load_before = loadavg()
            watch = Intruders().__enter__()
            for side in SIDES:
                log(f"warm-up {side} {args.warmup:g} s")
                await load(side, args.warmup, False)
            segment = args.duration / args.rounds
            for r in range(args.rounds):
                for side in SIDES if r % 2 == 0 else SIDES[::-1]:
                    log(f"{side}, round {r + 1}, {segment:.0f} s (load {loadavg()})")
                    await load(side, segment, True)
            watch.__exit__()
            load_after = loadavg()
        finally:
            for server in servers.values():
                server.stop()

        print(
            f"\n== POST /v1/checkins — {args.clients} keep-alive clients, {args.duration:g} s per "
            f"side in {args.rounds} alternating segments (+{args.warmup:g} s warm-up each), "
            f"{len(post_users)} reps; one uvicorn worker each"
        )
        print(f"   load average before: {load_before}; after: {load_after}")
        print("   other benchmark-like processes at the start: "
              + ("; ".join(others_before) if others_before else "none"))  # fmt: skip
        print(f"   during the measurement: {watch.verdict()}")
        print(f"   equivalence check (one post each side): {same}")
        print(f"   {'side':<10} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'max':>7} {'err':>4} {'CPU ms/req server':>18} {'postgres':>9}")  # fmt: skip
        fig = {}
        for side in SIDES:
            res = results[side]
            n, p50, p99, _, top = summary(res["latencies"])
            rate = n / res["seconds"]
            cpu_s, cpu_pg = (res["cpu_server"] * 1000 / n, res["cpu_pg"] * 1000 / n)
            fig[side] = (rate, p50, p99, cpu_s, cpu_pg)
            print(f"   {side:<10} {n:>8} {rate:>7.1f} {p50:>7.2f} {p99:>7.2f} {top:>7.1f} "
                  f"{res['errors']:>4} {cpu_s:>18.2f} {cpu_pg:>9.2f}")  # fmt: skip
        c, i = fig["composite"], fig["idfk"]
        ratio = c[0] / i[0]
        print(
            f"   composite ÷ idfk: throughput {ratio:.3f} "
            f"[{'within' if ratio >= 0.95 else 'OVER'} the 5 % budget], p50 {c[1] / i[1]:.3f}, "
            f"p99 {c[2] / i[2]:.3f}, server CPU/req {c[3] / i[3]:.3f}, "
            f"PostgreSQL CPU/req {c[4] / i[4]:.3f}"
        )
        flat = [(user["company_id"], user["id"], cid, lat, lng)
                for user in post_users for cid, lat, lng in targets[user["id"]][:5]]  # fmt: skip
        await explain(conns, flat, args.explain_runs)
    finally:
        for conn in conns.values():
            try:
                await undo_posts(conn)
                await conn.execute("VACUUM (ANALYZE) checkins")
            finally:
                await conn.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--composite-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument(
        "--idfk-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench_idfk"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--password", default="bench-password")
    parser.add_argument("--build-variant", action="store_true", help="make the idfk copy, exit")
    parser.add_argument("--replace", action="store_true", help="with --build-variant: redo it")
    parser.add_argument("--cleanup", action="store_true", help="undo a dead run's posts, exit")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=24, help="POST seconds per side")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--post-users", type=int, default=40)
    parser.add_argument("--customers-per-rep", type=int, default=200)
    parser.add_argument("--explain-runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.environ["OUTFIELD_ENV"] = "development"
    sys.path.insert(0, str(REPO))
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
