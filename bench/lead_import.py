"""Benchmark a 50,000-row lead import end to end: the POST, then the real job body.

    eval "$(bash scripts/services.sh)"
    .venv/bin/python -m bench.lead_import --rows 50000

Makes a scratch database (`--database`, default `outfield_bench_import`, dropped and migrated
at head unless `--keep`), a company with `--reps` reps in a round-robin lead pool, a webhook
subscribed to `lead.created` and `lead.assigned`, and `--existing` customers and leads (so
the duplicate check has something to find). Then it writes a GBK CSV with Chinese headers —
~2 % bad rows (no name, bad e-mail, unknown source), ~1 % duplicates of existing leads and
~1 % of earlier rows — POSTs it to `/v1/leads/import` in-process (httpx on the ASGI app), and
runs `app.leads.imports.job.run_pending` (what the worker's `imports` job runs: claim, then
batches of 1,000 rows, each in its own transaction) timed from here.

Prints: the file's size, the POST's time (decode, parse, count, store), the job's wall
time, rows per second, and the import's final counts, and checks them against the leads,
events, assignments and webhook deliveries in the database.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base.replace("postgresql+asyncpg://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/" + name))


async def _recreate(base: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(
        _database_url(base, urlsplit(base).path.lstrip("/") or "postgres")
    )
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


SOURCES = ("展会", "推广活动", "会议", "广告", "外部购买", "转介绍", "官网", "其他")
REGIONS = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京")
INDUSTRIES = ("制造业", "贸易", "电子", "物流", "医药", "教育", "能源", "金融")


def make_csv(rows: int, existing_phones: list[str], seed: int = 7) -> tuple[bytes, int]:
    """The file, and how many of its rows should import."""
    rng = random.Random(seed)
    lines = ["姓名,公司,手机,邮箱,来源,活动,地区,行业"]
    good = 0
    for n in range(rows):
        phone = f"15{n:09d}"
        email = f"lead{n}@example.com"
        name = f"联系人{n}"
        source = SOURCES[n % len(SOURCES)]
        kind = rng.random()
        if kind < 0.007:
            name = ""
        elif kind < 0.014:
            email = "not-an-email"
        elif kind < 0.02:
            source = "路边"
        elif kind < 0.03 and existing_phones:
            phone = rng.choice(existing_phones)  # an existing lead's phone
        elif kind < 0.04 and n > 10:
            phone = f"15{rng.randrange(n):09d}"  # an earlier row's phone (maybe a bad row's)
        else:
            good += 1
        lines.append(
            f"{name},测试公司{n}有限公司,{phone},{email},{source},2027春季展,"
            f"{REGIONS[n % len(REGIONS)]},{INDUSTRIES[n % len(INDUSTRIES)]}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("gb18030"), good


async def main(args: argparse.Namespace) -> None:
    from sqlalchemy import text

    from app.db import dispose_engine, get_engine
    from app.leads.imports import job
    from tests.helpers import client, signup
    from tests.leads.h4_helpers import make_pool, subscribe

    async with client() as http:
        company = await signup(http, "Bench Import Co")
        rep_ids = [(await company.user("rep"))[0] for _ in range(args.reps)]
        pool_id = await make_pool(
            company.id, name="导入线索池", assignment="round_robin", member_user_ids=tuple(rep_ids)
        )
        await subscribe(company.id, "lead.created", "lead.assigned")
        existing_phones = [f"13{n:09d}" for n in range(args.existing)]
        async with get_engine().begin() as connection:
            await connection.execute(
                text("""
                INSERT INTO leads (id, company_id, pool_id, name, phone, phone_normalized,
                                   company_name, company_name_normalized, source, status,
                                   version, created_at, updated_at)
                SELECT gen_random_uuid(), :c, :p, '旧线索' || n, '13' || lpad(n::text, 9, '0'),
                       '13' || lpad(n::text, 9, '0'), '旧公司' || n, '旧公司' || n, 'other',
                       'new', 1, now(), now()
                FROM generate_series(0, :k - 1) AS n
                """),
                {"c": company.id, "p": pool_id, "k": args.existing},
            )
            await connection.execute(text("ANALYZE leads"))
        content, expected_good = make_csv(args.rows, existing_phones)
        print(f"file: {args.rows} rows, {len(content) / 1e6:.2f} MB (GB18030)")

        began = time.perf_counter()
        posted = await http.post(
            "/v1/leads/import",
            files={"file": ("leads.csv", content, "text/csv")},
            data={"pool_id": pool_id},
            headers=company.admin,
        )
        post_s = time.perf_counter() - began
        assert posted.status_code == 202, posted.text
        import_id = posted.json()["id"]
        print(
            f"POST /v1/leads/import: {post_s * 1000:.0f} ms → 202 "
            f"({posted.json()['total_rows']} rows)"
        )

        counts: dict[str, int] = {}
        began = time.perf_counter()
        await job.run_pending(counts)
        job_s = time.perf_counter() - began
        state = (await http.get(f"/v1/imports/{import_id}", headers=company.admin)).json()
        print(
            f"job: {job_s:.1f} s wall ({args.rows / job_s:,.0f} rows/s); status {state['status']}, "
            f"imported {state['imported']}, failed {state['failed']}, "
            f"errors listed {len(state['errors'])}"
        )
        async with get_engine().begin() as connection:
            facts = (
                await connection.execute(
                    text("""
                    SELECT
                      (SELECT count(*) FROM leads WHERE import_id = :i) AS leads,
                      (SELECT count(*) FROM leads WHERE import_id = :i AND owner_id IS NOT NULL)
                        AS assigned,
                      (SELECT count(*) FROM lead_events e JOIN leads l ON l.id = e.lead_id
                       WHERE l.import_id = :i AND e.kind = 'created') AS created_events,
                      (SELECT count(*) FROM webhook_deliveries WHERE company_id = :c
                       AND event_type = 'lead.created') AS created_hooks,
                      (SELECT count(*) FROM webhook_deliveries WHERE company_id = :c
                       AND event_type = 'lead.assigned') AS assigned_hooks,
                      (SELECT max(n) - min(n) FROM (SELECT count(*) AS n FROM leads
                       WHERE import_id = :i GROUP BY owner_id) AS per_rep) AS spread
                    """),
                    {"i": import_id, "c": company.id},
                )
            ).one()
        print(
            f"check: leads {facts.leads}, assigned {facts.assigned} (spread between reps "
            f"{facts.spread}), created events {facts.created_events}, webhook deliveries "
            f"{facts.created_hooks} created + {facts.assigned_hooks} assigned"
        )
        assert facts.leads == state["imported"]
        assert state["imported"] + state["failed"] == args.rows
        # Rows repeating a bad row's phone import (only valid rows claim their keys).
        print(f"expected at least {expected_good} imported")
        assert state["imported"] >= expected_good
    await dispose_engine()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--existing", type=int, default=20_000)
    parser.add_argument("--database", default="outfield_bench_import")
    parser.add_argument("--keep", action="store_true", help="Reuse the database as it is.")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "postgresql://outfield@127.0.0.1:5432/outfield")
    url = _database_url(base, args.database)
    if not args.keep:
        asyncio.run(_recreate(base, args.database))
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            env={**os.environ, "DATABASE_URL": url},
            cwd=REPO,
            check=True,
            capture_output=True,
        )
    os.environ.update(DATABASE_URL=url, OUTFIELD_ENV="test", OUTFIELD_LOG_LEVEL="WARNING")
    asyncio.run(main(args))
