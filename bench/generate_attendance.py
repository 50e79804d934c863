"""A month of attendance records (issue 17) for every active rep of the bench company:

    python -m bench.generate_attendance \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench [--month 2026-11]
        [--replace]

The month defaults to the previous full calendar month in company time. One `INSERT … SELECT …
generate_series` over (rep × working day of the company's settings): ~3 % of the days absent
(no rows), the others a clock-in and a clock-out — ~8 % late (09:01–09:50), ~3 % left early
(17:00–17:55), otherwise 08:20–08:59 in and 18:00–19:29 out — and ~0.5 % of records mocked
(`mock_location`, flagged as the app flags it). Flags as `app.attendance.rules` writes them
(`late` / `left_early` with minutes rounded up, `mock_location`); no work sites. Positions
within ~1 km of one of the rep's customers. Deterministic: everything (ids included) comes
from md5 of the rep's id, the day and the kind. Idempotent: skipped when the month already
has records; `--replace` deletes the month's generated records (`device_id = 'bench-gen'`)
first. Then `ANALYZE attendance_records`.
"""

import argparse
import asyncio
import json
import sys
import time
from datetime import date, timedelta

import asyncpg

from app.org.settings import CompanySettings
from bench.common import DOMAIN

DEVICE = "bench-gen"

# $1 company, $2 first day, $3 last day, $4 time zone, $5 working days (ISO), $6 workday start,
# $7 workday end. `h1` / `h2` / `h3` are deterministic numbers in [0, 1000).
INSERT = """
WITH reps AS (
    SELECT u.id, p.latitude AS lat, p.longitude AS lon
    FROM users u
    CROSS JOIN LATERAL (
        SELECT c.latitude, c.longitude FROM customers c
        WHERE c.company_id = u.company_id AND c.owner_id = u.id AND c.latitude IS NOT NULL
        ORDER BY c.id LIMIT 1
    ) p
    WHERE u.company_id = $1 AND u.role = 'rep' AND u.is_active
), days AS (
    SELECT r.id AS user_id, r.lat, r.lon, d::date AS day,
           ('x' || substr(md5(r.id::text || d::date::text), 1, 8))::bit(32)::bigint % 1000 AS h1,
           ('x' || substr(md5(r.id::text || d::date::text), 9, 8))::bit(32)::bigint % 1000 AS h2,
           ('x' || substr(md5(r.id::text || d::date::text), 17, 8))::bit(32)::bigint % 1000 AS h3
    FROM reps r
    CROSS JOIN generate_series($2::date, $3::date, interval '1 day') d
    WHERE extract(isodow FROM d)::int = ANY($5::int[])
), present AS (
    SELECT *,
           CASE WHEN h1 < 110 THEN interval '1 minute' * (1 + h2 % 50)          -- late
                ELSE interval '1 minute' * (-40 + h2 % 40) END AS in_offset,
           CASE WHEN h3 < 30 THEN interval '1 minute' * (-60 + h2 % 56)          -- left early
                ELSE interval '1 minute' * (h3 % 90) END AS out_offset
    FROM days WHERE h1 >= 30                                                   -- 3 % absent
), rec AS (
    SELECT p.user_id, p.day, k.kind, p.lat, p.lon,
           ((p.day + CASE k.kind WHEN 'in' THEN $6::time ELSE $7::time END)
               + CASE k.kind WHEN 'in' THEN p.in_offset ELSE p.out_offset END
               + interval '1 second' * (p.h3 % 60)) AT TIME ZONE $4 AS at,
           md5(p.user_id::text || p.day::text || k.kind) AS m
    FROM present p CROSS JOIN (VALUES ('in'), ('out')) k(kind)
), flagged AS (
    SELECT r.*,
           ('x' || substr(r.m, 1, 8))::bit(32)::bigint % 1000 < 5 AS mock,
           ceil(extract(epoch FROM r.at - ((r.day + $6::time) AT TIME ZONE $4)) / 60)::int
               AS late_min,
           ceil(extract(epoch FROM ((r.day + $7::time) AT TIME ZONE $4) - r.at) / 60)::int
               AS early_min
    FROM rec r
)
INSERT INTO attendance_records (
    id, company_id, user_id, kind, work_date, latitude, longitude, accuracy_m, submitted_crs,
    client_recorded_at, received_at, offline, mock_location, device_id, note, site_id,
    site_distance_m, flags, request_hash, created_at)
SELECT f.m::uuid, $1, f.user_id, f.kind, f.day,
       f.lat + (('x' || substr(f.m, 9, 4))::bit(16)::int - 32768) / 3600000.0,
       f.lon + (('x' || substr(f.m, 13, 4))::bit(16)::int - 32768) / 3600000.0,
       5 + ('x' || substr(f.m, 17, 2))::bit(8)::int % 26, 'wgs84',
       f.at, f.at + interval '2 seconds', false, f.mock, $8, NULL, NULL, NULL,
       (CASE WHEN f.mock THEN jsonb_build_array(jsonb_build_object('code', 'mock_location'))
             ELSE '[]'::jsonb END)
       || CASE WHEN f.kind = 'in' AND f.late_min > 0 THEN jsonb_build_array(jsonb_build_object(
                    'code', 'late', 'minutes', f.late_min,
                    'workday_start', to_char($6::time, 'HH24:MI')))
               WHEN f.kind = 'out' AND f.early_min > 0 THEN jsonb_build_array(jsonb_build_object(
                    'code', 'left_early', 'minutes', f.early_min,
                    'workday_end', to_char($7::time, 'HH24:MI')))
               ELSE '[]'::jsonb END,
       encode(sha256(convert_to(f.m, 'UTF8')), 'hex'), f.at + interval '2 seconds'
FROM flagged f
"""


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


async def run(args: argparse.Namespace) -> int:
    conn = await asyncpg.connect(args.database_url)
    try:
        company = await conn.fetchrow(
            "SELECT c.id, c.time_zone, c.settings::text AS settings FROM companies c "
            "WHERE EXISTS (SELECT 1 FROM users u WHERE u.company_id = c.id AND u.email LIKE $1)"
            " ORDER BY c.created_at LIMIT 1",
            f"%@{DOMAIN}",
        )
        if company is None:
            raise SystemExit("no bench company: run python -m bench.generate_dataset first")
        settings = CompanySettings.of(company["time_zone"], json.loads(company["settings"]))
        today = await conn.fetchval("SELECT (now() AT TIME ZONE $1)::date", company["time_zone"])
        month = args.month or previous_month(today)
        first = date(int(month[:4]), int(month[5:7]), 1)
        end = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        bounds = (company["id"], first, end)
        have = await conn.fetchval(
            "SELECT count(*) FROM attendance_records WHERE company_id = $1 AND work_date >= $2 "
            "AND work_date < $3",
            *bounds,
        )
        if have and not args.replace:
            print(f"attendance {month}: {have:,} records already; skipped (--replace to redo)")
            return 0
        t0 = time.perf_counter()
        async with conn.transaction():
            if have:
                deleted = await conn.execute(
                    "DELETE FROM attendance_records WHERE company_id = $1 AND work_date >= $2 "
                    "AND work_date < $3 AND device_id = $4",
                    *bounds,
                    DEVICE,
                )
                print(f"attendance {month}: {deleted}")
            inserted = await conn.execute(
                INSERT,
                company["id"],
                first,
                end - timedelta(days=1),
                company["time_zone"],
                sorted(settings.working_days),
                settings.workday_start,
                settings.workday_end,
                DEVICE,
            )
        print(f"attendance {month}: {inserted} in {time.perf_counter() - t0:.1f} s")
        await conn.execute("ANALYZE attendance_records")
        summary = await conn.fetchrow(
            """
            SELECT count(DISTINCT user_id) AS reps, count(DISTINCT work_date) AS days,
                   count(*) FILTER (WHERE flags @> '[{"code": "late"}]') AS late,
                   count(*) FILTER (WHERE flags @> '[{"code": "left_early"}]') AS left_early,
                   count(*) FILTER (WHERE mock_location) AS mocked
            FROM attendance_records
            WHERE company_id = $1 AND work_date >= $2 AND work_date < $3
            """,
            *bounds,
        )
        print(
            f"  {summary['reps']} reps, {summary['days']} working days; late {summary['late']:,},"
            f" left early {summary['left_early']:,}, mocked {summary['mocked']:,}"
        )
    finally:
        await conn.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--month", help="YYYY-MM; default the previous full month")
    parser.add_argument("--replace", action="store_true", help="redo the month's records")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
