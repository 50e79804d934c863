"""Composite tenant keys (migration 0009): the check-in write path and a customer list, before
and after, side by side in one run; and what the extra keys cost in size.

    .venv/bin/python -m bench.tenant_keys \\
        --before-url postgresql://postgres@127.0.0.1:5432/outfield_bench_0008 \\
        --after-url postgresql://postgres@127.0.0.1:5432/outfield_bench

Both databases hold the same data set, `before` at 0008 and `after` migrated to 0009 (make
the copy with `CREATE DATABASE outfield_bench_0008 TEMPLATE outfield_bench` before
migrating). The comparison is at the database, where the keys act — the app's code is the
same on both sides except the column list of two ON CONFLICT targets:

* **check-in**: per transaction the rows a check-in POST writes, with the app's statements
  (bench/bare_full_checkin_app.py mirrors them): the check-in INSERT (foreign keys to the
  user and the customer, now composite; one more unique index, (company_id, id)), the
  customer's clock UPDATE, the feed item INSERT (two foreign keys) and one notification
  INSERT (one) — then ROLLBACK, so both databases stay as they were and the figure is the
  work without the (equal) commit flush: the keys' share comes out larger, not smaller.
  `--clients` connections per database, each rotating over reps at their own customers.
* **list**: `GET /v1/customers?owner=me`'s statement (first page of 20) for the same reps.

The two databases are measured in alternating segments (`--rounds`, the order reversing
each round), so machine noise falls on both alike. It prints throughput and p50/p99 per
side and the after ÷ before ratios, then the sizes of every index 0009 added or rebuilt.
"""

import argparse
import asyncio
import contextlib
import json
import random
import time
import uuid
from datetime import UTC, datetime

import asyncpg

from bench.common import loadavg, log, summary

CHECKIN = """
INSERT INTO checkins (id, company_id, user_id, customer_id, latitude, longitude, position_key,
    accuracy_m, submitted_crs, client_recorded_at, received_at, offline, flags,
    counts_as_followup, request_hash, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, 12.0, 'wgs84', $8, $8, false, '[]'::jsonb, true,
        'bench-tenant-keys', $8)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""
CLOCK = """
UPDATE customers AS c
SET last_followup_at = greatest(c.last_followup_at, $2::timestamptz),
    recycle_at = CASE WHEN c.owner_id IS NULL THEN NULL
                      WHEN p.no_followup_days > 0
                      THEN $2::timestamptz + make_interval(0, 0, 0, 0, p.no_followup_days * 24)
                 END,
    version = c.version + 1,
    updated_at = $2::timestamptz
FROM pools AS p
WHERE c.id = $1 AND p.id = c.pool_id
"""
FEED_ITEM = """
INSERT INTO feed_items (id, company_id, kind, subject_type, subject_id, customer_id, author_id,
                        summary, like_count, comment_count, created_at)
VALUES ($1, $2, 'checkin', 'checkin', $3, $4, $5, $6::jsonb, 0, 0, $7)
ON CONFLICT DO NOTHING
"""
NOTIFICATION = """
INSERT INTO notifications (id, company_id, user_id, kind, title, body, subject_type,
                           subject_id, customer_id, actor_id, dedupe_key, push_state,
                           created_at, updated_at)
VALUES ($1, $2, $3, 'checkin', 'Check-in', 'at a customer', 'checkin', $4, $5, $6, $7,
        'pending', $8, $8)
ON CONFLICT DO NOTHING
"""
LIST = """
SELECT id, name, status, owner_id, created_at FROM customers
WHERE company_id = $1 AND owner_id = $2 AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC LIMIT 21
"""
TARGETS = """
SELECT c.company_id, c.owner_id, c.id, c.latitude, c.longitude,
       (SELECT m.id FROM users m WHERE m.company_id = c.company_id AND m.role = 'manager'
        ORDER BY m.id LIMIT 1) AS manager_id
FROM customers c
WHERE c.owner_id IS NOT NULL AND c.deleted_at IS NULL AND c.latitude IS NOT NULL
  AND c.owner_id = ANY($1::uuid[])
"""
SIZES = """
SELECT t.relname, i.relname, pg_relation_size(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relnamespace = 'public'::regnamespace
"""


async def _targets(url: str, reps: int, seed: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        owners = [
            r["owner_id"]
            for r in await conn.fetch(
                "SELECT DISTINCT owner_id FROM customers WHERE owner_id IS NOT NULL"
                " ORDER BY owner_id LIMIT $1",
                reps,
            )
        ]
        rows = await conn.fetch(TARGETS, owners)
    finally:
        await conn.close()
    random.Random(seed).shuffle(rows)
    return rows


async def _checkin(conn: asyncpg.Connection, target: asyncpg.Record) -> None:
    at = datetime.now(UTC)
    checkin_id = uuid.uuid4()
    company, user, customer = target["company_id"], target["owner_id"], target["id"]
    lat, lng = target["latitude"], target["longitude"]
    async with conn.transaction():
        await conn.fetchval(CHECKIN, checkin_id, company, user, customer, lat, lng,
                            f"{lat:.6f},{lng:.6f}", at)  # fmt: skip
        await conn.execute(CLOCK, customer, at)
        await conn.execute(FEED_ITEM, uuid.uuid4(), company, checkin_id, customer, user,
                           json.dumps({"distance_m": 12}), at)  # fmt: skip
        if target["manager_id"] is not None:
            await conn.execute(NOTIFICATION, uuid.uuid4(), company, target["manager_id"],
                               checkin_id, customer, user, f"checkin:{checkin_id}", at)  # fmt: skip
        raise _Rollback


class _Rollback(Exception):
    """Leave the database as it was."""


async def _list(conn: asyncpg.Connection, target: asyncpg.Record) -> None:
    await conn.fetch(LIST, target["company_id"], target["owner_id"])


async def _segment(url: str, kind: str, targets: list, clients: int, seconds: float) -> list:
    work = _checkin if kind == "checkin" else _list
    conns = [await asyncpg.connect(url) for _ in range(clients)]
    samples: list[float] = []
    deadline = time.monotonic() + seconds

    async def client(n: int, conn: asyncpg.Connection) -> None:
        i = n
        while time.monotonic() < deadline:
            start = time.perf_counter()
            with contextlib.suppress(_Rollback):
                await work(conn, targets[i % len(targets)])
            samples.append((time.perf_counter() - start) * 1000)
            i += clients

    try:
        await asyncio.gather(*(client(n, c) for n, c in enumerate(conns)))
    finally:
        for conn in conns:
            await conn.close()
    return samples


async def _sizes(url: str) -> dict[tuple[str, str], int]:
    conn = await asyncpg.connect(url)
    try:
        return {(r[0], r[1]): r[2] for r in await conn.fetch(SIZES)}
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    sides = {"before": args.before_url, "after": args.after_url}
    targets = await _targets(args.before_url, args.reps, args.seed)
    log(f"{len(targets)} customers of {args.reps} reps; load {loadavg()}")
    for kind in args.phases:
        results: dict[str, list[float]] = {"before": [], "after": []}
        counts = {"before": 0.0, "after": 0.0}
        for side in sides:  # warm both caches
            await _segment(sides[side], kind, targets, args.clients, args.warmup)
        for round_ in range(args.rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for side in order:
                got = await _segment(sides[side], kind, targets, args.clients, args.duration)
                results[side] += got
                counts[side] += args.duration
        print(f"\n{kind} ({args.clients} clients, {args.rounds} × {args.duration:.0f} s each)")
        print(f"{'':8} {'n':>7} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
        figures = {}
        for side in sides:
            n, p50, p99, mean, _ = summary(results[side])
            figures[side] = (n / counts[side], p50, p99, mean)
            print(f"{side:8} {n:7d} {n / counts[side]:8.1f} {p50:8.2f} {p99:8.2f} {mean:8.2f}")
        b, a = figures["before"], figures["after"]
        print(
            f"after ÷ before: throughput {a[0] / b[0]:.3f}, p50 {a[1] / b[1]:.3f},"
            f" p99 {a[2] / b[2]:.3f}, mean {a[3] / b[3]:.3f}"
        )
    before, after = await _sizes(args.before_url), await _sizes(args.after_url)
    print("\nindexes 0009 added or rebuilt (after; before)")
    total_before = sum(before.values())
    total_after = sum(after.values())
    for key in sorted(after):
        if key not in before or after[key] != before[key] and key[1].startswith(("uq_", "pk_")):
            was = f"{before[key] / 2**20:8.1f} MiB" if key in before else "     new"
            print(f"  {key[0]:26} {key[1]:34} {after[key] / 2**20:8.1f} MiB  {was}")
    print(
        f"all indexes: {total_before / 2**20:.0f} MiB → {total_after / 2**20:.0f} MiB"
        f" (+{(total_after - total_before) / 2**20:.0f} MiB,"
        f" {100 * (total_after - total_before) / total_before:.1f} %); load {loadavg()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-url", required=True)
    parser.add_argument("--after-url", required=True)
    parser.add_argument("--phases", nargs="+", default=["checkin", "list"])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
