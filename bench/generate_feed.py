"""Add feed items (with likes and comments) to the benchmark dataset: by default 5,000,000.

    python -m bench.generate_feed \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench --items 5000000

Needs the dataset of `bench.generate_dataset` at the migrations' head. Two steps:

1. **A manager of a ~60-person department** (`--department-size`, default 60). The dataset's
   tree is root → 5 regions (~100 people each) → 34 teams (14–16 people), so no manager's
   subtree is near 60. Unless a manager with a subtree of 50–70 people exists already, the
   script inserts a department level the way an admin would with `PATCH /v1/departments`:
   a new department `<city>一部` under the first region (by path) whose teams can be grouped
   closest to the target, moves those teams under it (parent_id and the `path` of their
   subtree rewritten like `app.org.departments.update_department`), and adds its manager
   `feedmanager@bench.outfield.test` (password: the other bench users' hash). Nobody loses
   or gains visibility: the teams stay in their region's subtree, people stay in their
   teams; only a level (with one new manager) appears in between. Idempotent.
2. **Feed items**, in SQL (`INSERT … SELECT … FROM generate_series`, `--chunk` rows per
   statement, one progress line per chunk), in `created_at` order (as an append-only table
   fills up: the heap is correlated with time, as in production):
   * `created_at` spread over the last two years (`--days`), denser recently (the age is
     `days · u^1.3`, like the customers'), a few seconds of jitter;
   * kinds: 45 % followup, 30 % checkin, 15 % log, 10 % ownership (`claimed`);
   * followup / checkin / ownership: about a uniformly drawn owned, not deleted customer
     created before the item; the author is its owner (so the 500 reps, in proportion to
     their books); log: a uniformly drawn rep, no customer;
   * `summary` as `app.feed.publish` writes it: `{"author": {"id", "name"}, "customer":
     {"id", "name"}, …}` plus `followup_kind` + `text` (followup), `purpose`,
     `distance_m`, `flags`, `text` (checkin), `period` + `text` (log), `change`,
     `from_user_id`, `to_user_id`, `reason` (ownership); `subject_type` = kind,
     `subject_id` = gen_random_uuid();
   * 10 % of items get 1–5 likes (`--like-fraction`), 5 % get 1–4 comments
     (`--comment-fraction`), from people who can see the item (the author's team-mates and
     the managers above the author — so the ~60-person manager has liked some of their
     items); like_count / comment_count match the rows; comments are top-level, a few
     minutes to hours after the item, `request_hash` 'bench'.

For speed the secondary indexes of feed_items and feed_comments are dropped before the load
and re-created from their own definitions afterwards, and FK triggers are off for the loading
session; then VACUUM (ANALYZE). `--replace` first empties feed_items, feed_likes and
feed_comments (the bench database's feed is this script's); without it, existing feed items
make it stop.
"""

import argparse
import asyncio
import itertools
import sys
import time

import asyncpg

DOMAIN = "bench.outfield.test"
MANAGER_EMAIL = f"feedmanager@{DOMAIN}"

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", flush=True)


# ---------- 1. a manager of a ~60-person department ----------

SUBTREES = """
SELECT u.email, u.id, d.id AS department_id, d.path, d.name,
       (SELECT count(*) FROM users x JOIN departments dx ON dx.id = x.department_id
        WHERE x.company_id = u.company_id AND dx.path LIKE d.path || '%') AS people
FROM users u JOIN departments d ON d.id = u.department_id
WHERE u.role = 'manager' AND u.is_active AND u.email LIKE '%@' || $1::text
ORDER BY abs((SELECT count(*) FROM users x JOIN departments dx ON dx.id = x.department_id
              WHERE x.company_id = u.company_id AND dx.path LIKE d.path || '%') - $2::int),
         u.email
"""


async def ensure_manager(conn: asyncpg.Connection, size: int) -> asyncpg.Record:
    """The manager whose subtree is closest to `size` people, making one if none is near."""
    best = await conn.fetchrow(SUBTREES, DOMAIN, size)
    if best is not None and abs(best["people"] - size) <= max(3, size // 6):
        log(
            f"manager {best['email']} heads {best['name']} ({best['people']} people in the "
            "subtree): using it"
        )
        return best
    # Regions: departments with child departments; their children with their subtree sizes.
    regions = await conn.fetch(
        """
        SELECT p.id, p.company_id, p.path, p.name
        FROM departments p
        WHERE p.deactivated_at IS NULL AND p.parent_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM departments c WHERE c.parent_id = p.id)
        ORDER BY p.path
        """
    )
    choice = None
    for region in regions:
        children = await conn.fetch(
            """
            SELECT c.id, c.path, c.name,
                   (SELECT count(*) FROM users x JOIN departments dx ON dx.id = x.department_id
                    WHERE dx.path LIKE c.path || '%') AS people
            FROM departments c WHERE c.parent_id = $1 ORDER BY c.path
            """,
            region["id"],
        )
        # Keep at least one team in the region: the new level is a part of it, not all of it.
        for k in range(1, len(children)):
            for group in itertools.combinations(children, k):
                people = sum(c["people"] for c in group) + 1  # + the new manager
                score = (abs(people - size), k)
                if choice is None or score < choice[0]:
                    choice = (score, region, group, people)
        if choice is not None and choice[0][0] <= 1:
            break
    if choice is None:
        raise SystemExit("no region with teams to group: is this the bench dataset?")
    _, region, group, people = choice
    city = region["name"].removesuffix("大区")
    async with conn.transaction():
        dept_id = await conn.fetchval("SELECT gen_random_uuid()")
        path = f"{region['path']}{dept_id}/"
        await conn.execute(
            """
            INSERT INTO departments (id, company_id, parent_id, name, path, version,
                                     created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, 1, now(), now())
            """,
            dept_id, region["company_id"], region["id"], f"{city}一部", path,
        )  # fmt: skip
        for team in group:
            old_path = team["path"]
            new_path = f"{path}{team['id']}/"
            await conn.execute(
                """
                UPDATE departments SET path = $2 || substr(path, length($1) + 1),
                                       version = version + 1, updated_at = now()
                WHERE company_id = $3 AND path LIKE $1 || '%'
                """,
                old_path, new_path, region["company_id"],
            )  # fmt: skip
            await conn.execute(
                "UPDATE departments SET parent_id = $2 WHERE id = $1", team["id"], dept_id
            )
        await conn.execute(
            """
            INSERT INTO users (id, company_id, department_id, email, name, role, locale,
                               password_hash, token_version, is_active, version,
                               created_at, updated_at)
            SELECT gen_random_uuid(), company_id, $1, $2, '周一鸣', 'manager', 'zh-CN',
                   password_hash, 1, true, 1, now(), now()
            FROM users WHERE email LIKE '%@' || $3::text AND role = 'manager'
            ORDER BY email LIMIT 1
            """,
            dept_id, MANAGER_EMAIL, DOMAIN,
        )  # fmt: skip
    log(
        f"made department {city}一部 under {region['name']}: moved "
        f"{', '.join(t['name'] for t in group)} ({people - 1} people) under it, added its "
        f"manager {MANAGER_EMAIL} → {people} people in the subtree"
    )
    best = await conn.fetchrow(SUBTREES, DOMAIN, size)
    assert best is not None and best["email"] == MANAGER_EMAIL, best
    return best


# ---------- 2. feed items ----------

SETUP = [
    # owned, not deleted customers, numbered in creation order (n ≤ N(t): created before t)
    """
    CREATE TEMP TABLE bench_feed_targets AS
    SELECT row_number() OVER (ORDER BY created_at, id)::int AS n, id, company_id, owner_id,
           name, created_at
    FROM customers WHERE owner_id IS NOT NULL AND deleted_at IS NULL
    """,
    "CREATE UNIQUE INDEX ON bench_feed_targets (n)",
    "CREATE INDEX ON bench_feed_targets (created_at, n)",
    """
    CREATE TEMP TABLE bench_feed_reps AS
    SELECT row_number() OVER (ORDER BY email)::int AS n, id, company_id, name
    FROM users WHERE role = 'rep' AND is_active AND email LIKE '%@' || $1::text
    """,
    "CREATE UNIQUE INDEX ON bench_feed_reps (n)",
    "CREATE TEMP TABLE bench_feed_people AS SELECT id, name FROM users",
    "CREATE UNIQUE INDEX ON bench_feed_people (id)",
    # who may like / comment on an author's items: team-mates and the managers above
    """
    CREATE TEMP TABLE bench_feed_audience AS
    SELECT a.id AS author_id,
           (row_number() OVER (PARTITION BY a.id ORDER BY u.id) - 1)::int AS k,
           u.id AS user_id
    FROM users a
    JOIN departments ad ON ad.id = a.department_id
    JOIN users u ON u.company_id = a.company_id AND u.id <> a.id AND u.is_active
    JOIN departments ud ON ud.id = u.department_id
    WHERE a.role = 'rep'
      AND (u.department_id = a.department_id
           OR (u.role = 'manager' AND ad.path LIKE ud.path || '%'))
    """,
    "CREATE UNIQUE INDEX ON bench_feed_audience (author_id, k)",
    """
    CREATE TEMP TABLE bench_feed_audience_size AS
    SELECT author_id, count(*)::int AS size FROM bench_feed_audience GROUP BY author_id
    """,
    "CREATE UNIQUE INDEX ON bench_feed_audience_size (author_id)",
    "ANALYZE bench_feed_targets",
    "ANALYZE bench_feed_reps",
    "ANALYZE bench_feed_people",
    "ANALYZE bench_feed_audience",
    "ANALYZE bench_feed_audience_size",
]

# One chunk: $1 first g, $2 last g, $3 total items, $4 days, $5 number of reps,
# $6 like fraction, $7 comment fraction. g ascending = created_at ascending.
INSERT_ITEMS = """
INSERT INTO feed_items (id, company_id, kind, subject_type, subject_id, customer_id,
                        author_id, summary, like_count, comment_count, created_at)
SELECT gen_random_uuid(), x.company_id, x.kind, x.kind, gen_random_uuid(), x.customer_id,
       x.author_id,
       jsonb_build_object('author', jsonb_build_object('id', x.author_id::text,
                                                       'name', p.name))
       || CASE WHEN x.customer_id IS NOT NULL THEN jsonb_build_object('customer',
              jsonb_build_object('id', x.customer_id::text, 'name', x.customer_name))
          ELSE '{}'::jsonb END
       || CASE x.kind
          WHEN 'followup' THEN jsonb_build_object(
              'followup_kind', (ARRAY['call', 'visit', 'message', 'meeting', 'other'])
                               [1 + floor(x.r3 * 5)::int],
              'text', (ARRAY['电话沟通了报价，客户考虑中', '约了下周二上门拜访',
                             '发了产品资料和案例', '客户反馈预算要等下季度',
                             '确认了采购流程和决策人', '催了合同回签',
                             '介绍了新产品线，客户有兴趣', '客户投诉交货延迟，已协调'])
                      [1 + floor(x.r4 * 8)::int])
          WHEN 'checkin' THEN jsonb_build_object(
              'purpose', (ARRAY['拜访', '回访', '送样', '签约', '售后服务', '需求调研', '催款',
                                '产品演示'])[1 + floor(x.r3 * 8)::int],
              'distance_m', round((120 * x.r4 * x.r4)::numeric, 1),
              'flags', '[]'::jsonb,
              'text', CASE WHEN x.r5 < 0.4 THEN (ARRAY['客户对报价有疑问，下周再约',
                          '见到采购负责人', '送样品并演示', '老板不在，留了资料', '已签意向书',
                          '了解明年预算', '处理售后问题', '介绍新产品线'])
                          [1 + floor(x.r5 * 20)::int] ELSE '' END)
          WHEN 'log' THEN jsonb_build_object(
              'period', CASE WHEN x.r3 < 0.8 THEN 'daily' WHEN x.r3 < 0.95 THEN 'weekly'
                             ELSE 'monthly' END,
              'text', (ARRAY['今天拜访了三家客户，两家有意向', '本周完成回访12家，签约1家',
                             '整理了区域客户名单，明天重点跟进', '参加了行业展会，收集线索20条',
                             '本月目标完成85%，下月重点攻大客户'])[1 + floor(x.r4 * 5)::int])
          ELSE jsonb_build_object('change', 'claimed', 'from_user_id', NULL,
                                  'to_user_id', x.author_id::text, 'reason', NULL)
          END,
       CASE WHEN x.r6 < $6 THEN 1 + floor(x.r7 * 5)::int ELSE 0 END,
       CASE WHEN x.r8 < $7 THEN 1 + floor(x.r9 * 4)::int ELSE 0 END,
       x.at
FROM (
    SELECT s.g, s.at, s.kind, s.r3, s.r4, s.r5, s.r6, s.r7, s.r8, s.r9,
           coalesce(t.company_id, rp.company_id) AS company_id,
           coalesce(t.owner_id, rp.id) AS author_id,
           t.id AS customer_id, t.name AS customer_name
    FROM (
        SELECT g,
               now() - make_interval(secs => $4::float8 * 86400
                                     * power(1 - (g - random()) / $3::float8, 1.3)) AS at,
               CASE WHEN r0 < 0.45 THEN 'followup' WHEN r0 < 0.75 THEN 'checkin'
                    WHEN r0 < 0.90 THEN 'log' ELSE 'ownership' END AS kind,
               r1, random() AS r3, random() AS r4, random() AS r5, random() AS r6,
               random() AS r7, random() AS r8, random() AS r9
        FROM (SELECT g, random() AS r0, random() AS r1
              FROM generate_series($1::bigint, $2::bigint) AS g) AS s00
    ) AS s
    LEFT JOIN LATERAL (
        SELECT coalesce((SELECT c.n FROM bench_feed_targets c WHERE c.created_at <= s.at
                         ORDER BY c.created_at DESC, c.n DESC LIMIT 1), 1) AS available
        WHERE s.kind <> 'log'
    ) AS a ON true
    LEFT JOIN bench_feed_targets t
           ON s.kind <> 'log' AND t.n = 1 + floor(s.r1 * a.available)::int
    LEFT JOIN bench_feed_reps rp ON s.kind = 'log' AND rp.n = 1 + floor(s.r1 * $5)::int
) AS x
JOIN bench_feed_people p ON p.id = x.author_id
ORDER BY x.g
"""

ENGAGED = """
CREATE TEMP TABLE bench_feed_engaged AS
SELECT row_number() OVER ()::int AS n, i.id, i.company_id, i.author_id, i.created_at,
       i.like_count, i.comment_count, random() AS r1, random() AS r2
FROM feed_items i WHERE i.like_count > 0 OR i.comment_count > 0
"""

# $1, $2: range of bench_feed_engaged.n. Likers: consecutive audience positions from a random
# start (distinct as long as like_count ≤ audience size, which the check below verifies).
INSERT_LIKES = """
INSERT INTO feed_likes (item_id, user_id, company_id, created_at)
SELECT e.id, a.user_id, e.company_id,
       least(e.created_at + make_interval(secs => 60 + random() * 172800), now())
FROM bench_feed_engaged e
JOIN bench_feed_audience_size z ON z.author_id = e.author_id
CROSS JOIN LATERAL generate_series(0, least(e.like_count, z.size) - 1) AS j
JOIN bench_feed_audience a
  ON a.author_id = e.author_id AND a.k = (floor(e.r1 * z.size)::int + j) % z.size
WHERE e.n BETWEEN $1 AND $2 AND e.like_count > 0
"""

INSERT_COMMENTS = """
INSERT INTO feed_comments (id, company_id, item_id, author_id, parent_id, mentions, body,
                           request_hash, version, created_at, updated_at, deleted_at)
SELECT gen_random_uuid(), e.company_id, e.id, a.user_id, NULL, '{}',
       (ARRAY['不错，继续跟进', '这个客户我之前接触过，可以聊聊', '报价记得抄送我',
              '下次拜访带上技术同事', '好消息！', '注意回款节点', '合同模板用新版的',
              '客户负责人换了，注意一下'])[1 + floor(random() * 8)::int],
       'bench', 1, w.at, w.at, NULL
FROM bench_feed_engaged e
JOIN bench_feed_audience_size z ON z.author_id = e.author_id
CROSS JOIN LATERAL generate_series(0, e.comment_count - 1) AS j
JOIN bench_feed_audience a
  ON a.author_id = e.author_id AND a.k = (floor(e.r2 * z.size)::int + 3 * j) % z.size
CROSS JOIN LATERAL (
    SELECT least(e.created_at + make_interval(secs => 120 + (j + random()) * 7200),
                 now()) AS at
) AS w
WHERE e.n BETWEEN $1 AND $2 AND e.comment_count > 0
"""

SECONDARY_INDEXES = """
SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = i.oid
WHERE x.indrelid = $1::regclass AND c.oid IS NULL
ORDER BY i.relname
"""


async def run(args: argparse.Namespace) -> int:  # noqa: C901 - a script
    url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('feed_items')") is None:
            raise SystemExit(
                "no feed_items table: run `DATABASE_URL=… .venv/bin/alembic upgrade head` first"
            )
        manager = await ensure_manager(conn, args.department_size)

        existing = await conn.fetchval("SELECT count(*) FROM feed_items")
        if existing:
            if not args.replace:
                raise SystemExit(
                    f"{existing:,} feed items exist already; --replace to make them again"
                )
            t0 = time.perf_counter()
            await conn.execute("TRUNCATE feed_comments, feed_likes, feed_items")
            log(f"emptied the feed ({existing:,} items) in {time.perf_counter() - t0:.1f}s")

        await conn.execute("SET session_replication_role = replica")  # no FK triggers
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET work_mem = '64MB'")
        await conn.execute("SET synchronous_commit = off")  # this session only: a bulk load
        await conn.execute("SELECT setseed($1)", args.seed)
        t0 = time.perf_counter()
        for statement in SETUP:
            if "$1" in statement:
                await conn.execute(statement, DOMAIN)
            else:
                await conn.execute(statement)
        targets = await conn.fetchval("SELECT count(*) FROM bench_feed_targets")
        reps = await conn.fetchval("SELECT count(*) FROM bench_feed_reps")
        audience = await conn.fetchrow(
            "SELECT min(size) AS lo, max(size) AS hi FROM bench_feed_audience_size"
        )
        log(
            f"{targets:,} owned customers, {reps} reps, audiences of {audience['lo']}–"
            f"{audience['hi']} people per author ({time.perf_counter() - t0:.1f}s)"
        )

        dropped: dict[str, list[asyncpg.Record]] = {}
        for table in ("feed_items", "feed_comments"):
            dropped[table] = await conn.fetch(SECONDARY_INDEXES, table)
            for index in dropped[table]:
                await conn.execute(f'DROP INDEX "{index["name"]}"')
        log(
            "dropped secondary indexes for the load: "
            + ", ".join(i["name"] for rows in dropped.values() for i in rows)
        )

        load_started = time.perf_counter()
        done = 0
        while done < args.items:
            count = min(args.chunk, args.items - done)
            t0 = time.perf_counter()
            await conn.execute(
                INSERT_ITEMS, done + 1, done + count, args.items, args.days, reps,
                args.like_fraction, args.comment_fraction,
            )  # fmt: skip
            done += count
            elapsed = time.perf_counter() - t0
            log(f"feed_items: {done:>9,} / {args.items:,} ({count / elapsed:,.0f} rows/s)")
        items_s = time.perf_counter() - load_started

        t0 = time.perf_counter()
        await conn.execute(ENGAGED)
        await conn.execute("CREATE UNIQUE INDEX ON bench_feed_engaged (n)")
        await conn.execute("ANALYZE bench_feed_engaged")
        engaged = await conn.fetchval("SELECT count(*) FROM bench_feed_engaged")
        log(f"{engaged:,} items with likes or comments ({time.perf_counter() - t0:.1f}s)")
        step = max(1, args.chunk // 4)
        for label, statement in (("feed_likes", INSERT_LIKES), ("feed_comments", INSERT_COMMENTS)):
            made = 0
            for first in range(1, engaged + 1, step):
                t0 = time.perf_counter()
                status = await conn.execute(statement, first, first + step - 1)
                made += int(status.split()[-1])
                last = min(first + step - 1, engaged)
                log(
                    f"{label}: {made:>9,} rows (items {last:,} / {engaged:,}, "
                    f"{time.perf_counter() - t0:.1f}s)"
                )
        engagement_s = time.perf_counter() - load_started - items_s
        short = await conn.fetchval(
            """
            SELECT count(*) FROM bench_feed_engaged e
            JOIN bench_feed_audience_size z ON z.author_id = e.author_id
            WHERE e.like_count > z.size
            """
        )
        if short:  # not with the bench tree (audiences of 14+), but keep the counts true
            await conn.execute(
                """
                UPDATE feed_items i SET like_count = (SELECT count(*) FROM feed_likes l
                                                      WHERE l.item_id = i.id)
                WHERE i.id IN (SELECT e.id FROM bench_feed_engaged e
                               JOIN bench_feed_audience_size z ON z.author_id = e.author_id
                               WHERE e.like_count > z.size)
                """
            )
            log(f"like_count capped to the audience on {short:,} items")

        index_started = time.perf_counter()
        for rows in dropped.values():
            for index in rows:
                t0 = time.perf_counter()
                await conn.execute(index["definition"])
                log(f"index {index['name']} ({time.perf_counter() - t0:.1f}s)")
        index_s = time.perf_counter() - index_started
        await conn.execute("RESET session_replication_role")
        t0 = time.perf_counter()
        for table in ("feed_items", "feed_likes", "feed_comments"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        vacuum_s = time.perf_counter() - t0
        log(f"VACUUM (ANALYZE) feed_items, feed_likes, feed_comments ({vacuum_s:.1f}s)")

        info = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM feed_items) AS items,
                   (SELECT count(DISTINCT author_id) FROM feed_items) AS authors,
                   (SELECT min(created_at) FROM feed_items) AS first,
                   (SELECT max(created_at) FROM feed_items) AS last,
                   (SELECT count(*) FROM feed_likes) AS likes,
                   (SELECT count(*) FROM feed_comments) AS comments,
                   (SELECT sum(like_count) FROM feed_items) AS like_sum,
                   (SELECT sum(comment_count) FROM feed_items) AS comment_sum,
                   pg_size_pretty(pg_table_size('feed_items')) AS heap,
                   pg_size_pretty(pg_indexes_size('feed_items')) AS indexes,
                   pg_size_pretty(pg_total_relation_size('feed_likes')
                                  + pg_total_relation_size('feed_comments')) AS engagement
            """
        )
        kinds = await conn.fetch(
            "SELECT kind, count(*) AS n FROM feed_items GROUP BY kind ORDER BY count(*) DESC"
        )
        log(
            f"feed_items: {info['items']:,} by {info['authors']} authors, "
            f"{info['first']:%Y-%m-%d} … {info['last']:%Y-%m-%d}; "
            + ", ".join(f"{k['kind']} {k['n'] / info['items']:.0%}" for k in kinds)
            + f"; table {info['heap']}, indexes {info['indexes']}"
        )
        log(
            f"feed_likes: {info['likes']:,} (Σ like_count {info['like_sum']:,}), "
            f"feed_comments: {info['comments']:,} (Σ comment_count {info['comment_sum']:,}); "
            f"{info['engagement']} with indexes"
        )
        visible = await conn.fetchrow(
            """
            SELECT count(*) AS items,
                   count(*) FILTER (WHERE l.user_id IS NOT NULL) AS liked
            FROM feed_items i
            LEFT JOIN feed_likes l ON l.item_id = i.id AND l.user_id = $2
            WHERE i.author_id IN (SELECT u.id FROM users u JOIN departments d
                                  ON d.id = u.department_id WHERE d.path LIKE $1 || '%')
            """,
            manager["path"], manager["id"],
        )  # fmt: skip
        log(
            f"{manager['email']} ({manager['people']} people in the subtree): "
            f"{visible['items']:,} items by the subtree ({visible['items'] / info['items']:.1%}), "
            f"{visible['liked']:,} of them liked by the manager"
        )
        log(
            f"timings: items {items_s:.1f}s, likes + comments {engagement_s:.1f}s, "
            f"indexes {index_s:.1f}s, vacuum {vacuum_s:.1f}s, "
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
    parser.add_argument("--items", type=int, default=5_000_000)
    parser.add_argument("--chunk", type=int, default=500_000, help="rows per INSERT … SELECT")
    parser.add_argument("--days", type=float, default=730, help="items span this many days")
    parser.add_argument("--like-fraction", type=float, default=0.10)
    parser.add_argument("--comment-fraction", type=float, default=0.05)
    parser.add_argument(
        "--department-size", type=int, default=60, help="people under the benchmark's manager"
    )
    parser.add_argument("--seed", type=float, default=0.17, help="setseed() value, -1…1")
    parser.add_argument("--replace", action="store_true", help="empty the feed first")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
