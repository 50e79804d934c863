"""Add check-ins to the benchmark dataset: by default 5,000,000, by the reps at their own customers.

    python -m bench.generate_checkins \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench --checkins 5000000

Needs the dataset of `bench.generate_dataset` at the migrations' head. Everything happens in
SQL (`INSERT … SELECT … FROM generate_series`), `--chunk` rows per statement, with a progress
line per chunk:

* who and where: a uniformly drawn owned, not deleted customer with a location; the check-in
  is by its owner (one of the 500 reps), at a point near the customer — 95 % within ~120 m
  (most within 30 m), 5 % 400 m – 3 km away (flagged `far_from_customer`, like the app does
  at its default 300 m threshold, and not counted as a follow-up);
* when: `client_recorded_at` between the customer's creation and now (so over the last two
  years, as the customers are), moved into working hours (09:00–18:00 Asia/Shanghai);
  `received_at` = `created_at` a second or two later (3 % sent offline, minutes to hours
  later); 70 % checked out after 10–90 minutes;
* the rest: `position_key` = the 6-decimal "lat,lng" of `app.fieldwork.checkins.rules.position_key`
  (`to_char(x, 'FM990.000000')`), `accuracy_m` 5–50 m (2 % 100–500 m, flagged
  `low_accuracy`), 0.2 % `mock_location` (flagged), `submitted_crs` 'wgs84', `request_hash`
  'bench', flags '[]' for the rest, a purpose, a note on 40 %; `location` is the generated
  column (not inserted).

For speed the check-ins' secondary indexes are dropped before the load and re-created from
their own definitions afterwards, and FK triggers are off for the loading session; then
VACUUM (ANALYZE). `--replace` first deletes the check-ins this script made before
(request_hash = 'bench'); without it, existing bench check-ins make it stop. Feed items are
not generated for these historical check-ins.
"""

import argparse
import asyncio
import sys
import time

import asyncpg

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", flush=True)


TARGETS = """
CREATE TEMP TABLE bench_checkin_targets AS
SELECT row_number() OVER (ORDER BY id) AS n, id, company_id, owner_id, latitude, longitude,
       created_at
FROM customers
WHERE owner_id IS NOT NULL AND deleted_at IS NULL
  AND latitude IS NOT NULL AND longitude IS NOT NULL
"""

# One chunk: $1 = first row number, $2 = last; $3 = number of targets.
# r: the drawn customer; the other randoms drawn once per row in the inner query.
INSERT_CHUNK = """
INSERT INTO checkins (
    id, company_id, user_id, customer_id, latitude, longitude, position_key, accuracy_m,
    submitted_crs, client_recorded_at, received_at, offline, purpose, note, mock_location,
    device_id, distance_m, flags, counts_as_followup, checked_out_at, duration_s,
    request_hash, created_at
)
SELECT
    gen_random_uuid(), company_id, owner_id, customer_id, lat, lng,
    to_char(lat, 'FM990.000000') || ',' || to_char(lng, 'FM990.000000'),
    accuracy_m, 'wgs84', recorded_at, received_at, offline, purpose, note, mock,
    device_id, distance_m,
    (CASE WHEN far THEN jsonb_build_array(jsonb_build_object(
         'code', 'far_from_customer', 'distance_m', distance_m, 'threshold_m', 300))
     ELSE '[]'::jsonb END)
    || (CASE WHEN accuracy_m > 100 THEN jsonb_build_array(jsonb_build_object(
         'code', 'low_accuracy', 'accuracy_m', accuracy_m, 'threshold_m', 100))
        ELSE '[]'::jsonb END)
    || (CASE WHEN mock THEN '[{"code": "mock_location"}]'::jsonb ELSE '[]'::jsonb END),
    NOT far AND NOT mock,
    CASE WHEN checked_out THEN recorded_at + make_interval(secs => duration_s) END,
    CASE WHEN checked_out THEN duration_s END,
    'bench', received_at
FROM (
    SELECT p.*, t.company_id, t.owner_id, t.id AS customer_id,
           round((t.latitude + p.dist * cos(p.angle) / 111320.0)::numeric, 6)::float8 AS lat,
           round((t.longitude + p.dist * sin(p.angle)
                  / (111320.0 * cos(radians(t.latitude))))::numeric, 6)::float8 AS lng,
           w.recorded_at,
           w.recorded_at + CASE WHEN p.offline THEN make_interval(secs => 300 + p.r6 * 21300)
                                ELSE make_interval(secs => 0.3 + p.r6 * 2.5) END AS received_at,
           t.latitude AS customer_lat, t.longitude AS customer_lng,
           'bench-' || left(md5(t.owner_id::text), 12) AS device_id
    FROM (
        SELECT g,
               1 + floor(random() * $3)::int AS pick,
               random() < 0.05 AS far,
               random() < 0.002 AS mock,
               random() < 0.03 AS offline,
               random() < 0.70 AS checked_out,
               2 * pi() * random() AS angle,
               random() AS r1, random() AS r2, random() AS r3, random() AS r4,
               random() AS r5, random() AS r6,
               (600 + floor(random() * 4800))::int AS duration_s
        FROM generate_series($1::bigint, $2::bigint) AS g
    ) AS s0
    CROSS JOIN LATERAL (
        SELECT s0.*,
               CASE WHEN s0.far THEN 400 + 2600 * s0.r1 ELSE 120 * s0.r1 * s0.r1 END AS dist,
               CASE WHEN s0.r2 < 0.02 THEN round((100 + 400 * s0.r3)::numeric, 1)::float8
                    ELSE round((5 + 45 * s0.r3 * s0.r3)::numeric, 1)::float8 END AS accuracy_m,
               (ARRAY['拜访', '回访', '送样', '签约', '售后服务', '需求调研', '催款', '产品演示'])
                   [1 + floor(s0.r4 * 8)::int] AS purpose,
               CASE WHEN s0.r5 < 0.4 THEN (ARRAY['客户对报价有疑问，下周再约', '见到采购负责人',
                   '送样品并演示', '老板不在，留了资料', '已签意向书', '了解明年预算',
                   '处理售后问题', '介绍新产品线'])[1 + floor(s0.r5 * 20)::int] END AS note
    ) AS p
    JOIN bench_checkin_targets AS t ON t.n = p.pick
    CROSS JOIN LATERAL (
        -- a moment between the customer's creation and now, moved into 09:00–18:00 Shanghai
        SELECT least(
            CASE WHEN v.at < t.created_at THEN v.at + interval '1 day' ELSE v.at END,
            now() - interval '1 minute') AS recorded_at
        FROM (SELECT (date_trunc('day', (t.created_at + (now() - t.created_at) * p.r6)
                                        AT TIME ZONE 'Asia/Shanghai')
                      + make_interval(secs => 32400 + p.r2 * 32400))
                     AT TIME ZONE 'Asia/Shanghai' AS at) AS v
    ) AS w
) AS x0
CROSS JOIN LATERAL (
    -- app.core.geo.haversine_m between the stored check-in point and the customer
    SELECT round((2 * 6371008.8 * asin(least(1.0, sqrt(
        sin(radians(x0.lat - x0.customer_lat) / 2) ^ 2
        + cos(radians(x0.customer_lat)) * cos(radians(x0.lat))
          * sin(radians(x0.lng - x0.customer_lng) / 2) ^ 2))))::numeric, 1)::float8 AS distance_m
) AS h
"""


async def run(args: argparse.Namespace) -> int:
    url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('checkins')") is None:
            raise SystemExit(
                "no checkins table: run `DATABASE_URL=… .venv/bin/alembic upgrade head` first"
            )
        existing = await conn.fetchval("SELECT count(*) FROM checkins WHERE request_hash = 'bench'")
        if existing:
            if not args.replace:
                raise SystemExit(
                    f"{existing:,} bench check-ins exist already; --replace to make them again"
                )
            t0 = time.perf_counter()
            others = await conn.fetchval("SELECT count(*) FROM checkins")
            if others == existing:
                await conn.execute("TRUNCATE checkins CASCADE")
            else:
                await conn.execute("DELETE FROM checkins WHERE request_hash = 'bench'")
            log(f"removed {existing:,} earlier bench check-ins ({time.perf_counter() - t0:.1f}s)")

        await conn.execute("SET session_replication_role = replica")  # no FK triggers
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET synchronous_commit = off")  # this session only: a bulk load
        await conn.execute("SELECT setseed($1)", args.seed)
        await conn.execute(TARGETS)
        await conn.execute("CREATE UNIQUE INDEX ON bench_checkin_targets (n)")
        await conn.execute("ANALYZE bench_checkin_targets")
        targets = await conn.fetchval("SELECT count(*) FROM bench_checkin_targets")
        reps = await conn.fetchval("SELECT count(DISTINCT owner_id) FROM bench_checkin_targets")
        log(f"{targets:,} owned customers (of {reps} reps) to check in at")

        indexes = await conn.fetch(
            """
            SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            LEFT JOIN pg_constraint c ON c.conindid = i.oid
            WHERE x.indrelid = 'checkins'::regclass AND c.oid IS NULL
            ORDER BY i.relname
            """
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["name"]}"')
        log(f"dropped {len(indexes)} secondary indexes of checkins for the load")

        load_started = time.perf_counter()
        done = 0
        while done < args.checkins:
            count = min(args.chunk, args.checkins - done)
            t0 = time.perf_counter()
            await conn.execute(INSERT_CHUNK, done + 1, done + count, targets)
            done += count
            elapsed = time.perf_counter() - t0
            log(f"checkins: {done:>9,} / {args.checkins:,} ({count / elapsed:,.0f} rows/s)")
        load_s = time.perf_counter() - load_started
        log(f"check-ins inserted in {load_s:.1f}s ({args.checkins / load_s:,.0f} rows/s)")

        index_started = time.perf_counter()
        for index in indexes:
            t0 = time.perf_counter()
            await conn.execute(index["definition"])
            log(f"index {index['name']} ({time.perf_counter() - t0:.1f}s)")
        index_s = time.perf_counter() - index_started
        await conn.execute("RESET session_replication_role")
        t0 = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) checkins")
        log(f"VACUUM (ANALYZE) checkins ({time.perf_counter() - t0:.1f}s)")
        info = await conn.fetchrow(
            """
            SELECT count(*) AS total,
                   count(DISTINCT user_id) AS reps,
                   count(*) FILTER (WHERE jsonb_array_length(flags) > 0) AS flagged,
                   count(*) FILTER (WHERE checked_out_at IS NOT NULL) AS checked_out,
                   min(client_recorded_at) AS first, max(client_recorded_at) AS last,
                   pg_size_pretty(pg_table_size('checkins')) AS heap,
                   pg_size_pretty(pg_indexes_size('checkins')) AS indexes
            FROM checkins
            """
        )
        log(
            f"checkins: {info['total']:,} by {info['reps']} reps, {info['flagged']:,} flagged, "
            f"{info['checked_out']:,} checked out; recorded {info['first']:%Y-%m-%d} … "
            f"{info['last']:%Y-%m-%d}; table {info['heap']}, indexes {info['indexes']}"
        )
        log(
            f"timings: insert {load_s:.1f}s, indexes {index_s:.1f}s, "
            f"total {time.perf_counter() - _started:.1f}s"
        )
    finally:
        await conn.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--checkins", type=int, default=5_000_000)
    parser.add_argument("--chunk", type=int, default=500_000, help="rows per INSERT … SELECT")
    parser.add_argument("--seed", type=float, default=0.42, help="setseed() value, -1…1")
    parser.add_argument(
        "--replace", action="store_true", help="delete earlier bench check-ins first"
    )
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
