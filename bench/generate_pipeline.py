"""Add the sales pipeline to the benchmark dataset: opportunities, their stage history, leads.

    python -m bench.generate_pipeline \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --opportunities 1000000 --leads 1000000

Needs the dataset of `bench.generate_dataset` at the migrations' head (its company already has
the default pipeline: 第一次接触 → 找准需求 → 提供方案 → 商务谈判 → 赢单 / 输单). Everything
happens in SQL (`INSERT … SELECT … FROM generate_series`), `--chunk` rows per statement, with a
progress line per chunk. Every random figure of opportunity n is a hash of (n, a salt), so the
stage history is derived from the same draws as the opportunity and the data is the same on
every run (ids included: md5 of a label and n):

* opportunities: on a uniformly drawn owned, not deleted customer, owned by its owner; 60 % open
  (in stage 1–4, evenly), 20 % won, 20 % lost (from stage 1–4, with one of the company's lost
  reasons); created over the last two years; 90 % with an amount (1,000–500,000, skewed low),
  an expected close date (open: −60…+300 days from today; closed: the close date);
  an open one older than the pipeline's 42 days that the stale job would remind about has
  `stale_notified_at` set (it was reminded);
* stage history: the path into the current stage (one row per stage from the first), with
  "rework" loops (back one stage and forward again) on a quarter to a third of the
  opportunities past the first stage, then the won or lost stage: 5.0 rows per opportunity on
  average (5,000,000 for a million), with the names as they were, the time spent in the stage
  left and a `{"note": …}` feedback on some;
* lead pools: 北京区线索池 (members: the 北京 region department) and 制造业线索池 (members: the
  root department), both `round_robin`, cap 200, recycle after 30 days;
* leads: 60 % owned by a rep, 40 % in a pool; sources, campaigns, regions and industries spread;
  phones, e-mails and company names unique (normalised by the app's own `normalise_name`);
  10 % converted (to a drawn customer), 10 % disqualified, the rest new/contacted/qualified.

For speed the three tables' secondary indexes are dropped before the load and re-created from
their own definitions afterwards, and FK triggers are off for the loading session; then VACUUM
(ANALYZE). `--replace` first deletes what this script made before (request_hash = 'bench').
"""

import argparse
import asyncio
import sys
import time

import asyncpg

from app.customers.rules import normalise_name

_started = time.perf_counter()
LEAD_COMPANY = "华东线索科技X有限公司"  # X is replaced by the lead's number


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", flush=True)


# h(n, salt): a uniform draw in [0, 1) from n and a salt; the same on every run.
FUNCTIONS = """
CREATE FUNCTION pg_temp.h(n bigint, salt text) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT ('x' || substr(md5(n::text || salt), 1, 8))::bit(32)::bigint / 4294967296.0
$$;
CREATE FUNCTION pg_temp.hid(label text, n bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$ SELECT md5(label || ':' || n::text)::uuid $$;
-- Position of the i-th stage entered on a path that goes forward to open stage j, loops back
-- one stage and forward again `loops` times, then (terminal > 0) enters the terminal stage.
CREATE FUNCTION pg_temp.pos(i int, j int, loops int, terminal int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN i <= j THEN i
        WHEN i <= j + 2 * loops THEN CASE WHEN (i - j) % 2 = 1 THEN j - 1 ELSE j END
        ELSE terminal
    END
$$;
"""

# One row per opportunity number n with every draw it needs, made once (both inserts read it).
DRAWS = """
CREATE TEMP TABLE bench_draws AS
SELECT n, d.kind, d.j, d.loops, d.terminal,
       d.j + 2 * d.loops + CASE WHEN d.terminal > 0 THEN 1 ELSE 0 END AS len,
       d.created_at
FROM generate_series(1::bigint, $1::bigint) AS n
CROSS JOIN LATERAL (
    SELECT k.kind,
           k.j,
           CASE WHEN k.j >= 2 THEN floor(pg_temp.h(n, 'l') * 3.25)::int ELSE 0 END AS loops,
           CASE k.kind WHEN 'won' THEN 5 WHEN 'lost' THEN 6 ELSE 0 END AS terminal,
           now() - make_interval(secs => pg_temp.h(n, 't') * 730 * 86400) AS created_at
    FROM (
        SELECT CASE WHEN pg_temp.h(n, 's') < 0.6 THEN 'open'
                    WHEN pg_temp.h(n, 's') < 0.8 THEN 'won' ELSE 'lost' END AS kind,
               CASE WHEN pg_temp.h(n, 's') >= 0.6 AND pg_temp.h(n, 's') < 0.8 THEN 4
                    ELSE 1 + floor(pg_temp.h(n, 'k') * 4)::int END AS j
    ) AS k
) AS d
"""

INSERT_OPPORTUNITIES = """
INSERT INTO opportunities (
    id, company_id, customer_id, pipeline_id, stage_id, name, amount, expected_close_date,
    contact_ids, competitors, source, description, lead_id, owner_id, status, lost_reason,
    stage_entered_at, closed_at, stale_notified_at, created_by, request_hash, version,
    created_at, updated_at, deleted_at)
SELECT pg_temp.hid('opp', x.n), $3, t.customer_id, $4, ($5::uuid[])[x.last_pos],
       '商机 ' || x.n,
       CASE WHEN pg_temp.h(x.n, 'na') < 0.1 THEN NULL
            ELSE round((1000 + pg_temp.h(x.n, 'a') ^ 2 * 499000)::numeric, 2) END,
       CASE WHEN x.kind = 'open'
            THEN (now() AT TIME ZONE 'Asia/Shanghai')::date
                 + (pg_temp.h(x.n, 'e') * 360 - 60)::int
            ELSE (x.entered AT TIME ZONE 'Asia/Shanghai')::date END,
       '{}', CASE WHEN pg_temp.h(x.n, 'cp') < 0.3 THEN ARRAY['竞品甲'] ELSE '{}' END,
       (ARRAY['展会', '转介绍', '官网', '电话营销'])[1 + floor(pg_temp.h(x.n, 'so') * 4)::int],
       NULL, NULL, t.owner_id, x.kind,
       CASE WHEN x.kind = 'lost'
            THEN ($6::text[])[1 + floor(pg_temp.h(x.n, 'r') * array_length($6::text[], 1))::int]
       END,
       x.entered,
       CASE WHEN x.kind <> 'open' THEN x.entered END,
       CASE WHEN x.kind = 'open' AND x.created_at < now() - interval '42 days'
            THEN x.created_at + interval '42 days' END,
       t.owner_id, 'bench', x.len, x.created_at, x.entered, NULL
FROM (
    SELECT dr.*, pg_temp.pos(dr.len, dr.j, dr.loops, dr.terminal) AS last_pos,
           dr.created_at + (dr.len - 1) * least(
               interval '20 days', (now() - dr.created_at) / (dr.len + 1)) AS entered
    FROM bench_draws AS dr WHERE dr.n BETWEEN $1 AND $2
) AS x
JOIN bench_opp_targets AS t ON t.k = 1 + floor(pg_temp.h(x.n, 'c') * $7)::bigint
"""

INSERT_HISTORY = """
INSERT INTO stage_history (
    id, company_id, opportunity_id, from_stage_id, to_stage_id, from_stage_name, to_stage_name,
    actor_id, at, seconds_in_previous, feedback, note)
SELECT pg_temp.hid('hist' || x.n, i), $3, pg_temp.hid('opp', x.n),
       CASE WHEN i > 1 THEN ($5::uuid[])[pg_temp.pos(i - 1, x.j, x.loops, x.terminal)] END,
       ($5::uuid[])[pg_temp.pos(i, x.j, x.loops, x.terminal)],
       CASE WHEN i > 1 THEN ($4::text[])[pg_temp.pos(i - 1, x.j, x.loops, x.terminal)] END,
       ($4::text[])[pg_temp.pos(i, x.j, x.loops, x.terminal)],
       t.owner_id,
       x.created_at + (i - 1) * x.step,
       CASE WHEN i > 1 THEN extract(epoch FROM x.step)::bigint END,
       CASE WHEN i > 1 AND pg_temp.h(x.n * 10 + i, 'fb') < 0.3
            THEN jsonb_build_object('note', '客户反馈 ' || i) ELSE '{}'::jsonb END,
       NULL
FROM (
    SELECT dr.*, least(interval '20 days', (now() - dr.created_at) / (dr.len + 1)) AS step
    FROM bench_draws AS dr WHERE dr.n BETWEEN $1 AND $2
) AS x
JOIN bench_opp_targets AS t ON t.k = 1 + floor(pg_temp.h(x.n, 'c') * $6)::bigint
CROSS JOIN LATERAL generate_series(1, x.len) AS i
"""

INSERT_LEADS = """
INSERT INTO leads (
    id, company_id, pool_id, owner_id, name, title, company_name, company_name_normalized,
    phone, phone_normalized, email, email_normalized, source, campaign, region, industry,
    address, note, custom_fields, status, claimed_at, last_followup_at, first_followup_at,
    followup_count, converted_customer_id, converted_at, converted_by, created_by,
    request_hash, version, created_at, updated_at)
SELECT pg_temp.hid('lead', n), $3,
       ($4::uuid[])[1 + floor(pg_temp.h(n, 'lp') * 2)::int],
       x.owner_id,
       (ARRAY['王', '李', '张', '刘', '陈'])[1 + floor(pg_temp.h(n, 'ln') * 5)::int] || '经理',
       NULL,
       replace($5, 'X', n::text), replace($6, 'x', n::text),
       '138' || lpad(n::text, 8, '0'), '138' || lpad(n::text, 8, '0'),
       'lead' || n || '@example.cn', 'lead' || n || '@example.cn',
       (ARRAY['exhibition', 'campaign', 'conference', 'advertising', 'purchased_list',
              'referral', 'website', 'other'])[1 + floor(pg_temp.h(n, 'src') * 8)::int],
       (ARRAY['春季展会', '双十一推广', '行业峰会', NULL])[1 + floor(pg_temp.h(n, 'cm') * 4)::int],
       (ARRAY['北京', '上海', '广州', '深圳', '成都'])[1 + floor(pg_temp.h(n, 'rg') * 5)::int],
       (ARRAY['制造业', '零售', '信息技术', '物流运输'])[1 + floor(pg_temp.h(n, 'in') * 4)::int],
       NULL, NULL, '{}'::jsonb, x.status,
       CASE WHEN x.owner_id IS NOT NULL THEN x.created_at END,
       CASE WHEN x.status <> 'new' THEN x.created_at + interval '2 days' END,
       CASE WHEN x.status <> 'new' THEN x.created_at + interval '1 day' END,
       CASE WHEN x.status <> 'new' THEN 1 + floor(pg_temp.h(n, 'fc') * 5)::int ELSE 0 END,
       CASE WHEN x.status = 'converted' THEN t.customer_id END,
       CASE WHEN x.status = 'converted' THEN x.created_at + interval '10 days' END,
       CASE WHEN x.status = 'converted' THEN x.owner_id END,
       x.owner_id, 'bench', 1, x.created_at, x.created_at
FROM generate_series($1::bigint, $2::bigint) AS n
CROSS JOIN LATERAL (
    SELECT CASE WHEN pg_temp.h(n, 'ow') < 0.6 THEN r.id END AS owner_id,
           CASE WHEN pg_temp.h(n, 'st') < 0.1 THEN 'disqualified'
                WHEN pg_temp.h(n, 'st') < 0.2 AND pg_temp.h(n, 'ow') < 0.6 THEN 'converted'
                WHEN pg_temp.h(n, 'st') < 0.5 THEN 'new'
                WHEN pg_temp.h(n, 'st') < 0.8 THEN 'contacted' ELSE 'qualified' END AS status,
           now() - make_interval(secs => pg_temp.h(n, 'lt') * 365 * 86400) AS created_at
    FROM bench_lead_reps AS r WHERE r.k = 1 + floor(pg_temp.h(n, 'rp') * $7)::bigint
) AS x
LEFT JOIN bench_opp_targets AS t ON t.k = 1 + floor(pg_temp.h(n, 'lc') * $8)::bigint
"""


async def _drop_indexes(conn: asyncpg.Connection, table: str) -> list[asyncpg.Record]:
    indexes = await conn.fetch(
        """
        SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint c ON c.conindid = i.oid
        WHERE x.indrelid = $1::regclass AND c.oid IS NULL
        ORDER BY i.relname
        """,
        table,
    )
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["name"]}"')
    log(f"dropped {len(indexes)} secondary indexes of {table} for the load")
    return list(indexes)


async def _chunks(
    conn: asyncpg.Connection, label: str, statement: str, total: int, chunk: int, *args: object
) -> None:
    done = 0
    started = time.perf_counter()
    while done < total:
        count = min(chunk, total - done)
        await conn.execute(statement, done + 1, done + count, *args)
        done += count
        log(f"{label}: {done:>9,} / {total:,} ({done / (time.perf_counter() - started):,.0f}/s)")


async def run(args: argparse.Namespace) -> int:
    url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        company = await conn.fetchrow(
            "SELECT c.id, p.id AS pipeline_id FROM companies c"
            " JOIN pipelines p ON p.company_id = c.id AND p.is_default AND p.deleted_at IS NULL"
            " ORDER BY c.created_at LIMIT 1"
        )
        if company is None:
            raise SystemExit("no company with a default pipeline: run bench.generate_dataset first")
        existing = await conn.fetchval(
            "SELECT count(*) FROM opportunities WHERE request_hash = 'bench'"
        )
        if existing:
            if not args.replace:
                raise SystemExit(f"{existing:,} bench opportunities exist; --replace to redo")
            await conn.execute("TRUNCATE stage_history, opportunities, lead_events, leads CASCADE")
            await conn.execute("DELETE FROM lead_pool_members")
            await conn.execute("DELETE FROM lead_pools")
            log("removed the earlier pipeline data")
        stages = await conn.fetch(
            "SELECT id, name FROM pipeline_stages WHERE pipeline_id = $1 AND retired_at IS NULL"
            " ORDER BY position",
            company["pipeline_id"],
        )
        stage_ids = [s["id"] for s in stages]
        stage_names = [s["name"] for s in stages]
        reasons = [
            r["label"]
            for r in await conn.fetch(
                "SELECT label FROM lost_reasons WHERE company_id = $1 AND deleted_at IS NULL"
                " ORDER BY position",
                company["id"],
            )
        ]
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET synchronous_commit = off")
        await conn.execute(FUNCTIONS)
        await conn.execute(
            "CREATE TEMP TABLE bench_opp_targets AS"
            " SELECT row_number() OVER (ORDER BY id) AS k, id AS customer_id, owner_id"
            " FROM customers WHERE owner_id IS NOT NULL AND deleted_at IS NULL"
            " AND company_id = $1".replace("$1", f"'{company['id']}'")
        )
        await conn.execute("CREATE UNIQUE INDEX ON bench_opp_targets (k)")
        targets = await conn.fetchval("SELECT count(*) FROM bench_opp_targets")
        await conn.execute(
            "CREATE TEMP TABLE bench_lead_reps AS"
            " SELECT row_number() OVER (ORDER BY email) AS k, id FROM users"
            f" WHERE role = 'rep' AND is_active AND company_id = '{company['id']}'"
        )
        await conn.execute("CREATE UNIQUE INDEX ON bench_lead_reps (k)")
        reps = await conn.fetchval("SELECT count(*) FROM bench_lead_reps")
        log(f"{targets:,} owned customers, {reps} reps, {len(stage_ids)} stages")

        t0 = time.perf_counter()
        await conn.execute(DRAWS, args.opportunities)
        await conn.execute("CREATE UNIQUE INDEX ON bench_draws (n)")
        log(f"drew {args.opportunities:,} opportunities ({time.perf_counter() - t0:.1f}s)")
        dropped = {
            table: await _drop_indexes(conn, table)
            for table in ("opportunities", "stage_history", "leads")
        }
        try:
            await _load(conn, args, company, stage_ids, stage_names, reasons, targets, reps)
        finally:
            for indexes in dropped.values():
                for index in indexes:
                    t0 = time.perf_counter()
                    await conn.execute(index["definition"])
                    log(f"index {index['name']} ({time.perf_counter() - t0:.1f}s)")
        await conn.execute("RESET session_replication_role")
        for table in ("opportunities", "stage_history", "leads", "lead_pools"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        info = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM opportunities) AS opportunities,
                   (SELECT count(*) FROM stage_history) AS history,
                   (SELECT count(*) FROM leads) AS leads,
                   pg_size_pretty(pg_total_relation_size('opportunities')) AS opp_size,
                   pg_size_pretty(pg_total_relation_size('stage_history')) AS history_size,
                   pg_size_pretty(pg_total_relation_size('leads')) AS lead_size
            """
        )
        log(
            f"opportunities {info['opportunities']:,} ({info['opp_size']}), stage history "
            f"{info['history']:,} ({info['history_size']}), leads {info['leads']:,} "
            f"({info['lead_size']})"
        )
    finally:
        await conn.close()
    return 0


async def _load(  # noqa: PLR0913
    conn: asyncpg.Connection,
    args: argparse.Namespace,
    company: asyncpg.Record,
    stage_ids: list[object],
    stage_names: list[str],
    reasons: list[str],
    targets: int,
    reps: int,
) -> None:
    await _chunks(
        conn,
        "opportunities",
        INSERT_OPPORTUNITIES,
        args.opportunities,
        args.chunk,
        company["id"],
        company["pipeline_id"],
        stage_ids,
        reasons,
        targets,
    )
    await _chunks(
        conn,
        "stage history (by opportunity)",
        INSERT_HISTORY,
        args.opportunities,
        args.chunk // 2,
        company["id"],
        stage_names,
        stage_ids,
        targets,
    )
    pools = []
    departments = await conn.fetch(
        "SELECT id, name, path FROM departments WHERE company_id = $1 ORDER BY path",
        company["id"],
    )
    root = departments[0]["id"]
    beijing = next((d["id"] for d in departments if "北京" in d["name"]), root)
    for name, member in (("北京区线索池", beijing), ("制造业线索池", root)):
        pool_id = await conn.fetchval(
            "INSERT INTO lead_pools (id, company_id, name, region, industry, mode, assignment,"
            " daily_claim_limit, holding_cap, recycle_after_days, request_hash, version,"
            " created_at, updated_at) VALUES (gen_random_uuid(), $1, $2, $3, $4, 'both',"
            " 'round_robin', 50, 200, 30, 'bench', 1, now(), now()) RETURNING id",
            company["id"],
            name,
            "北京" if "北京" in name else None,
            "制造业" if "制造" in name else None,
        )
        await conn.execute(
            "INSERT INTO lead_pool_members (id, company_id, pool_id, department_id)"
            " VALUES (gen_random_uuid(), $1, $2, $3)",
            company["id"],
            pool_id,
            member,
        )
        pools.append(pool_id)
    await _chunks(
        conn,
        "leads",
        INSERT_LEADS,
        args.leads,
        args.chunk,
        company["id"],
        pools,
        LEAD_COMPANY,
        normalise_name(LEAD_COMPANY),
        reps,
        targets,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=200_000, help="rows per INSERT … SELECT")
    parser.add_argument("--replace", action="store_true", help="delete earlier pipeline data first")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
