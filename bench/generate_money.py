"""Add money to the benchmark dataset: products, contracts with lines, instalments, payments.

    python -m bench.generate_money \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --contracts 200000

Needs the dataset of `bench.generate_dataset` (and ideally `bench.generate_pipeline`) at the
migrations' head (0012 or later: `DATABASE_URL=… .venv/bin/alembic upgrade head`). Everything
happens in SQL (`INSERT … SELECT … FROM generate_series`), `--chunk` contracts per statement,
with a progress line per chunk; every random figure of contract n is a hash of (n, a salt)
(`pg_temp.h`, as in `bench.generate_pipeline`), ids are md5 of a label and n, so the data is the
same on every run (dates are relative to today in Asia/Shanghai):

* 20 products in four lines (硬件, 软件, 服务, 耗材), list prices 800–48,000;
* contracts: on a uniformly drawn owned, not deleted customer, owned by its owner; signed over
  the last three years; 1–3 lines (product, quantity 1–10 at list price, discount 0 / 5 / 10 /
  15 %, amount = quantity × price × (1 − discount) rounded half-up to the fen) and the amount =
  Σ lines exactly; one-year term (`end_date` = signed + 365 days); 2 % draft (not signed), 3 %
  terminated, the others `completed` when their term is over, else `active`;
* three instalments per contract, due 30, 120 and 240 days after signing: 30 % / 30 % / the
  rest (Σ = the amount);
* payments on active and completed contracts: of the instalments already due, 88 % paid in
  full (received within −10…+20 days of the due date, never after today), 5 % partly (40 %),
  2 % recorded but not confirmed, 5 % nothing (overdue); of those not yet due 20 % paid early;
  1 % of the paid ones also carry a wrong payment and its reversal (the original `reversed`,
  the reversal row confirmed with the negative amount), as the payments service writes them;
  one allocation per payment row to its instalment (the reversal's negative);
* `contracts.received` and `committed` are then set from the payments (received = confirmed
  rows, reversals included; committed = rows neither reversed nor reversals), and the yearly
  number counters past the numbers used.

For speed the tables' secondary indexes are dropped before the load and re-created from their
own definitions afterwards, and FK triggers are off for the loading session; then VACUUM
(ANALYZE). `--replace` first removes the money data (all of it: the bench database has no
other). About 200k contracts → ~400k lines, 600k instalments, ~500k payments.
"""

import argparse
import asyncio
import sys
import time

import asyncpg

from bench.generate_pipeline import FUNCTIONS, _chunks, _drop_indexes, log

TABLES = ("contracts", "contract_lines", "payment_plans", "payments", "payment_allocations")
PRODUCT_LINES = ("硬件", "软件", "服务", "耗材")
DUE_AFTER = (30, 120, 240)  # days after signing, per instalment
ZONE = "Asia/Shanghai"

MONEY_FUNCTIONS = """
CREATE FUNCTION pg_temp.line_product(n bigint, i int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT 1 + floor(pg_temp.h(n * 4 + i, 'lp') * 20)::int $$;
CREATE FUNCTION pg_temp.line_quantity(n bigint, i int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT 1 + floor(pg_temp.h(n * 4 + i, 'lq') * 10)::int $$;
CREATE FUNCTION pg_temp.line_discount(n bigint, i int) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY[0, 0, 0, 0.05, 0.10, 0.15]::numeric[])
           [1 + floor(pg_temp.h(n * 4 + i, 'ld') * 6)::int]
$$;
CREATE FUNCTION pg_temp.line_amount(n bigint, i int, prices numeric[]) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT round(pg_temp.line_quantity(n, i) * prices[pg_temp.line_product(n, i)]
                 * (1 - pg_temp.line_discount(n, i)), 2)
$$;
"""

# One row per contract n with every draw it needs (all later inserts read it).
DRAWS = """
CREATE TEMP TABLE bench_money_draws AS
SELECT n, d.signed, d.lines, d.k,
       CASE WHEN pg_temp.h(n, 'mst') < 0.02 THEN 'draft'
            WHEN pg_temp.h(n, 'mst') < 0.05 THEN 'terminated'
            WHEN d.signed + 365 < $2::date THEN 'completed'
            ELSE 'active' END AS status,
       (SELECT sum(pg_temp.line_amount(n, i, $3)) FROM generate_series(1, d.lines) AS i)
           AS amount
FROM generate_series(1::bigint, $1::bigint) AS n
CROSS JOIN LATERAL (
    SELECT $2::date - floor(pg_temp.h(n, 'ms') * 1095)::int AS signed,
           1 + floor(pg_temp.h(n, 'ml') * 3)::int AS lines,
           1 + floor(pg_temp.h(n, 'mc') * $4)::bigint AS k
) AS d
"""

INSERT_CONTRACTS = """
INSERT INTO contracts (
    id, company_id, customer_id, opportunity_id, owner_id, number, title, amount, currency,
    signed_on, start_date, end_date, status, received, committed, note, submitted_at,
    activated_at, completed_at, terminated_at, terminated_reason, created_by, request_hash,
    version, created_at, updated_at, deleted_at)
SELECT pg_temp.hid('contract', x.n), $3, t.customer_id, NULL, t.owner_id,
       'HT-' || extract(year FROM x.signed)::int || '-' || lpad(x.n::text, 6, '0'),
       '年度采购合同 ' || x.n, x.amount, 'CNY',
       CASE WHEN x.status <> 'draft' THEN x.signed END, x.signed, x.signed + 365, x.status,
       0, 0, NULL,
       CASE WHEN x.status <> 'draft' THEN x.at END,
       CASE WHEN x.status <> 'draft' THEN x.at END,
       CASE WHEN x.status = 'completed' THEN x.at + interval '365 days' END,
       CASE WHEN x.status = 'terminated' THEN x.at + interval '60 days' END,
       CASE WHEN x.status = 'terminated' THEN '客户取消' END,
       t.owner_id, 'bench', 1, x.at, x.at, NULL
FROM (
    SELECT dr.*, (dr.signed::timestamp + interval '10 hours') AT TIME ZONE 'Asia/Shanghai' AS at
    FROM bench_money_draws AS dr WHERE dr.n BETWEEN $1 AND $2
) AS x
JOIN bench_money_targets AS t ON t.k = x.k
"""

INSERT_LINES = """
INSERT INTO contract_lines (
    id, company_id, contract_id, product_id, description, quantity, unit_price, discount, amount,
    position)
SELECT pg_temp.hid('cline' || dr.n, i), $3, pg_temp.hid('contract', dr.n),
       ($4::uuid[])[pg_temp.line_product(dr.n, i)], NULL, pg_temp.line_quantity(dr.n, i),
       ($5::numeric[])[pg_temp.line_product(dr.n, i)], pg_temp.line_discount(dr.n, i),
       pg_temp.line_amount(dr.n, i, $5), i - 1
FROM bench_money_draws AS dr
CROSS JOIN LATERAL generate_series(1, dr.lines) AS i
WHERE dr.n BETWEEN $1 AND $2
"""

INSERT_PLANS = """
INSERT INTO payment_plans (
    id, company_id, contract_id, due_date, amount, note, request_hash, version, created_at,
    updated_at, deleted_at)
SELECT pg_temp.hid('plan' || dr.n, i), $3, pg_temp.hid('contract', dr.n),
       dr.signed + ($4::int[])[i],
       CASE WHEN i < 3 THEN round(dr.amount * 0.3, 2)
            ELSE dr.amount - 2 * round(dr.amount * 0.3, 2) END,
       NULL, 'bench', 1, dr.signed::timestamptz, dr.signed::timestamptz, NULL
FROM bench_money_draws AS dr
CROSS JOIN generate_series(1, 3) AS i
WHERE dr.n BETWEEN $1 AND $2
"""

# Every payment row (originals, wrong ones reversed, their reversals) with its instalment.
PAYS = """
CREATE TEMP TABLE bench_money_pays AS
WITH inst AS (
    SELECT dr.n, i, dr.signed, dr.status, pg_temp.hid('contract', dr.n) AS contract_id,
           pg_temp.hid('plan' || dr.n, i) AS plan_id, t.owner_id,
           dr.signed + ($2::int[])[i] AS due,
           CASE WHEN i < 3 THEN round(dr.amount * 0.3, 2)
                ELSE dr.amount - 2 * round(dr.amount * 0.3, 2) END AS amount,
           pg_temp.h(dr.n * 3 + i, 'pk') AS u
    FROM bench_money_draws AS dr
    JOIN bench_money_targets AS t ON t.k = dr.k
    CROSS JOIN generate_series(1, 3) AS i
    WHERE dr.status IN ('active', 'completed')
), kinds AS (
    SELECT inst.*,
           CASE WHEN due <= $1::date THEN
                    CASE WHEN u < 0.88 THEN 'paid' WHEN u < 0.93 THEN 'partial'
                         WHEN u < 0.95 THEN 'recorded' END
                WHEN u < 0.2 THEN 'early' END AS kind,
           CASE WHEN due <= $1::date
                THEN least($1::date, greatest(signed,
                         due - 10 + floor(pg_temp.h(n * 3 + i, 'pr') * 31)::int))
                ELSE least($1::date,
                         signed + floor(pg_temp.h(n * 3 + i, 'pr') * (due - signed))::int)
           END AS received_on,
           pg_temp.h(n * 3 + i, 'rv') < 0.01 AS wrong_first
    FROM inst
)
SELECT pg_temp.hid('pay' || n, i) AS id, contract_id, plan_id, owner_id, NULL::uuid AS reverses_id,
       CASE kind WHEN 'partial' THEN round(amount * 0.4, 2) ELSE amount END AS amount,
       received_on, CASE kind WHEN 'recorded' THEN 'recorded' ELSE 'confirmed' END AS status,
       CASE WHEN kind <> 'recorded'
            THEN (received_on::timestamp + interval '15 hours') AT TIME ZONE 'Asia/Shanghai'
       END AS confirmed_at,
       NULL::timestamptz AS reversed_at
FROM kinds WHERE kind IS NOT NULL
UNION ALL
SELECT pg_temp.hid('payx' || n, i), contract_id, plan_id, owner_id, NULL, amount,
       received_on, 'reversed',
       (received_on::timestamp + interval '11 hours') AT TIME ZONE 'Asia/Shanghai',
       (received_on::timestamp + interval '14 hours') AT TIME ZONE 'Asia/Shanghai'
FROM kinds WHERE kind IN ('paid', 'early') AND wrong_first
UNION ALL
SELECT pg_temp.hid('payr' || n, i), contract_id, plan_id, owner_id, pg_temp.hid('payx' || n, i),
       -amount, received_on, 'confirmed',
       (received_on::timestamp + interval '14 hours') AT TIME ZONE 'Asia/Shanghai', NULL
FROM kinds WHERE kind IN ('paid', 'early') AND wrong_first
"""

INSERT_PAYMENTS = """
INSERT INTO payments (
    id, company_id, contract_id, plan_id, reverses_id, amount, received_on, method, note,
    attachment_ids, status, recorded_by, confirmed_by, confirmed_at, reversed_by, reversed_at,
    reverse_reason, request_hash, version, created_at, updated_at)
SELECT p.id, $1, p.contract_id, p.plan_id, p.reverses_id, p.amount, p.received_on,
       (ARRAY['bank_transfer', 'bank_transfer', 'bank_transfer', 'online', 'cheque', 'cash'])
           [1 + floor(pg_temp.h(hashtext(p.id::text), 'pm') * 6)::int],
       NULL, '{}', p.status, p.owner_id,
       CASE WHEN p.confirmed_at IS NOT NULL THEN $2::uuid END, p.confirmed_at,
       CASE WHEN p.reversed_at IS NOT NULL THEN $2::uuid END, p.reversed_at,
       CASE WHEN p.reversed_at IS NOT NULL THEN '金额录错' END,
       'bench', 1,
       coalesce(p.confirmed_at,
                (p.received_on::timestamp + interval '12 hours') AT TIME ZONE 'Asia/Shanghai'),
       coalesce(p.reversed_at, p.confirmed_at,
                (p.received_on::timestamp + interval '12 hours') AT TIME ZONE 'Asia/Shanghai')
FROM bench_money_pays AS p
"""

INSERT_ALLOCATIONS = """
INSERT INTO payment_allocations (payment_id, plan_id, company_id, amount)
SELECT id, plan_id, $1, amount FROM bench_money_pays
"""

TOTALS = """
UPDATE contracts AS c SET received = s.received, committed = s.committed
FROM (
    SELECT contract_id,
           coalesce(sum(amount) FILTER (WHERE confirmed_at IS NOT NULL), 0) AS received,
           coalesce(sum(amount) FILTER (WHERE reverses_id IS NULL AND status <> 'reversed'), 0)
               AS committed
    FROM bench_money_pays GROUP BY contract_id
) AS s
WHERE c.company_id = $1 AND c.id = s.contract_id
"""


async def run(args: argparse.Namespace) -> int:  # noqa: PLR0915 - a script
    url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        company = await conn.fetchrow(
            "SELECT c.id, (SELECT u.id FROM users u WHERE u.company_id = c.id AND u.role = 'admin'"
            " ORDER BY u.email LIMIT 1) AS admin_id FROM companies c ORDER BY c.created_at LIMIT 1"
        )
        if company is None:
            raise SystemExit("no company: run bench.generate_dataset first")
        if await conn.fetchval("SELECT to_regclass('contracts')") is None:
            raise SystemExit("no money tables: `alembic upgrade head` the bench database first")
        existing = await conn.fetchval("SELECT count(*) FROM contracts")
        if existing:
            if not args.replace:
                raise SystemExit(f"{existing:,} contracts exist; --replace to redo")
            await conn.execute(
                "TRUNCATE payment_allocations, payments, payment_plans, contract_lines, contracts,"
                " contract_counters, products"
            )
            log("removed the earlier money data")
        today = await conn.fetchval(f"SELECT (now() AT TIME ZONE '{ZONE}')::date")
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET synchronous_commit = off")
        await conn.execute(FUNCTIONS)
        await conn.execute(MONEY_FUNCTIONS)
        products, prices = [], []
        for k in range(20):
            line = PRODUCT_LINES[k % 4]
            price = 800 + (k * 7919) % 48 * 1000
            products.append(
                await conn.fetchval(
                    "INSERT INTO products (id, company_id, name, code, unit, list_price,"
                    " product_line, active, request_hash, version, created_at, updated_at)"
                    " VALUES (md5('product:' || $2)::uuid, $1, $3, $4, '套', $5, $6, true,"
                    " 'bench', 1, now(), now()) RETURNING id",
                    company["id"],
                    str(k + 1),
                    f"{line}产品 {k + 1:02d}",
                    f"BP-{k + 1:03d}",
                    price,
                    line,
                )
            )
            prices.append(price)
        await conn.execute(
            "CREATE TEMP TABLE bench_money_targets AS"
            " SELECT row_number() OVER (ORDER BY id) AS k, id AS customer_id, owner_id"
            " FROM customers WHERE owner_id IS NOT NULL AND deleted_at IS NULL"
            f" AND company_id = '{company['id']}'"
        )
        await conn.execute("CREATE UNIQUE INDEX ON bench_money_targets (k)")
        targets = await conn.fetchval("SELECT count(*) FROM bench_money_targets")
        t0 = time.perf_counter()
        await conn.execute(DRAWS, args.contracts, today, prices, targets)
        await conn.execute("CREATE UNIQUE INDEX ON bench_money_draws (n)")
        log(
            f"drew {args.contracts:,} contracts on {targets:,} customers "
            f"({time.perf_counter() - t0:.1f}s)"
        )
        dropped = {table: await _drop_indexes(conn, table) for table in TABLES}
        try:
            cid = company["id"]
            await _chunks(conn, "contracts", INSERT_CONTRACTS, args.contracts, args.chunk, cid)
            await _chunks(
                conn, "lines", INSERT_LINES, args.contracts, args.chunk, cid, products, prices
            )
            await _chunks(
                conn, "instalments", INSERT_PLANS, args.contracts, args.chunk, cid, list(DUE_AFTER)
            )
            t0 = time.perf_counter()
            await conn.execute(PAYS, today, list(DUE_AFTER))
            log(f"drew the payments ({time.perf_counter() - t0:.1f}s)")
            for label, statement, params in (
                ("payments", INSERT_PAYMENTS, (cid, company["admin_id"])),
                ("allocations", INSERT_ALLOCATIONS, (cid,)),
                ("contract totals", TOTALS, (cid,)),
            ):
                t0 = time.perf_counter()
                status = await conn.execute(statement, *params)
                log(f"{label}: {status} ({time.perf_counter() - t0:.1f}s)")
            await conn.execute(
                "INSERT INTO contract_counters (company_id, year, last)"
                " SELECT $1, y, $2 FROM generate_series(2000, 2100) AS y",
                cid,
                args.contracts,
            )
        finally:
            for indexes in dropped.values():
                for index in indexes:
                    t0 = time.perf_counter()
                    await conn.execute(index["definition"])
                    log(f"index {index['name']} ({time.perf_counter() - t0:.1f}s)")
        await conn.execute("RESET session_replication_role")
        for table in (*TABLES, "products"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        info = await conn.fetchrow(
            """
            WITH lines AS (
                SELECT contract_id, sum(amount) AS amount FROM contract_lines
                WHERE company_id = $2 GROUP BY contract_id
            ), got AS (
                SELECT contract_id, sum(amount) AS received FROM payments
                WHERE company_id = $2 AND confirmed_at IS NOT NULL GROUP BY contract_id
            )
            SELECT (SELECT count(*) FROM contracts) AS contracts,
                   (SELECT count(*) FROM contract_lines) AS lines,
                   (SELECT count(*) FROM payment_plans) AS plans,
                   (SELECT count(*) FROM payments) AS payments,
                   (SELECT count(*) FROM payment_allocations) AS allocations,
                   (SELECT count(*) FROM contracts c JOIN lines l ON l.contract_id = c.id
                    WHERE c.amount <> l.amount) AS amount_mismatch,
                   (SELECT count(*) FROM contracts c LEFT JOIN got g ON g.contract_id = c.id
                    WHERE c.received <> coalesce(g.received, 0)) AS received_mismatch,
                   (SELECT pg_size_pretty(sum(pg_total_relation_size(t::regclass)))
                    FROM unnest($1::text[]) AS t) AS size
            """,
            list(TABLES),
            company["id"],
        )
        log(
            f"contracts {info['contracts']:,}, lines {info['lines']:,}, instalments "
            f"{info['plans']:,}, payments {info['payments']:,}, allocations "
            f"{info['allocations']:,} ({info['size']}); amount ≠ Σ lines: "
            f"{info['amount_mismatch']}, received ≠ Σ received payments: "
            f"{info['received_mismatch']}"
        )
    finally:
        await conn.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--contracts", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=50_000, help="contracts per INSERT … SELECT")
    parser.add_argument("--replace", action="store_true", help="delete earlier money data first")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
