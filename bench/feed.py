"""Benchmark GET /v1/feed for the manager of a ~60-person department, at 5,000,000 feed items.

    python -m bench.feed \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --redis-url redis://127.0.0.1:6379/12 --requests 200

Needs the dataset of `bench.generate_dataset` plus `bench.generate_feed` (which also makes the
manager: the one whose department subtree is closest to `--department-size` people is used,
or `--user EMAIL`). For `GET /v1/feed?limit=20` at pages `--pages` (1 = first page; the
deeper ones through the chain of `next_cursor`s, walked once before measuring) it reports:

* **API over HTTP** — the real app served by uvicorn in a subprocess (the Dockerfile's
  command: one worker, uvloop + httptools) on a free loopback port, one request in flight,
  a minimal keep-alive HTTP/1.1 client (`bench.common.HTTP`). The honest figure.
  `server` is the app's own duration_ms for the same requests (its JSON request log);
* **SQL feed query** — the page's main statement exactly as the app emitted it (captured),
  replayed on a bare asyncpg connection (prepared and cached like the app's); **SQL all
  stmts** — every statement of the request (caller lookup, feed, likes, first comments)
  replayed the same way, one after the other (no BEGIN/ROLLBACK, no pre-ping);
* **statements per page** — every SQL statement the app sends for one request, counted
  in-process (the same app through httpx.ASGITransport, a SQLAlchemy `before_cursor_execute`
  listener), and the asyncpg calls under them (≈ round trips: the pool's pre-ping is
  BEGIN + `;` + ROLLBACK, then BEGIN, the statements, ROLLBACK); at limit=20 and limit=100
  (the count must not depend on the page size). pg_stat_statements would need a server
  restart (shared_preload_libraries) on a shared PostgreSQL, so it is not used;
* `EXPLAIN (ANALYZE, BUFFERS)` of the main statement as emitted (custom plan, the first
  five executions of a prepared statement) and its generic plan (what a prepared statement
  may switch to from the sixth: `PREPARE` + `plan_cache_mode = force_generic_plan`).

Variants (`--variants`, each its own uvicorn, requests interleaved so machine noise hits
them alike; every variant must return the same items as `as-is`, checked first):

* `as-is` — the app unchanged (`app.main:app`);
* `owner-scoped` — the proposal for `app/feed/visibility.py`: the "customer's owner" arm
  `EXISTS (customers WHERE id = item.customer_id AND owner_id = me)` also says
  `company_id = my company AND deleted_at IS NULL` (like `customer_visibility`: deleted
  customers are invisible), so PostgreSQL can build its hashed subplan from the existing
  partial index `ix_customers_owner` instead of a sequential scan of all customers; served
  with `uvicorn --factory bench.feed:owner_scoped_app` (the app, with the feed service's
  `feed_visibility` replaced — nothing in app/ is edited);
* `owner-scoped+row-cursor` — plus the proposal for `app/core/pagination.py`: the cursor
  condition as a row comparison `(created_at, id) < (:t, :id)`, which is an index condition
  on `(company_id, created_at, id)`, instead of `created_at < :t OR (created_at = :t AND
  id < :id)`, which is only a filter (every newer row is read and discarded, so page n
  costs O(n)); `uvicorn --factory bench.feed:row_cursor_app`.

`--owner-index` adds `bench_ix_customers_owner_id ON customers (owner_id, id)` for the run
(the index alternative to the rewrite: the unchanged query can use it) and drops it at the
end unless `--keep-index`. It waits until no other benchmark runs before measuring and
prints the load average before and after.
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from bench.common import (
    DOMAIN,
    HTTP,
    REPO,
    Server,
    app_env,
    check_head,
    clear_login_limits,
    loadavg,
    log,
    login,
    other_benchmarks,
    pad,
    pct,
)

PASSWORD = "bench-password"
OWNER_INDEX = "bench_ix_customers_owner_id"


# ---------- the proposals, as app factories for `uvicorn --factory` ----------


def owner_scoped_visibility(principal):  # noqa: ANN001, ANN201 - mirrors feed_visibility
    """`app.feed.visibility.feed_visibility` with the owner arm scoped like the customer rule."""
    from sqlalchemy import exists, select

    from app.customers.access import subtree_user_ids
    from app.customers.models import Collaborator, Customer
    from app.feed.models import FeedItem
    from app.org.models import User

    same_company = FeedItem.company_id == principal.company_id
    if principal.is_admin:
        return same_company
    visible = FeedItem.author_id == principal.user_id
    if principal.department_id is not None:
        colleagues = select(User.id).where(
            User.company_id == principal.company_id, User.department_id == principal.department_id
        )
        visible = visible | FeedItem.author_id.in_(colleagues)
    if principal.is_manager and principal.department_path:
        visible = visible | FeedItem.author_id.in_(subtree_user_ids(principal))
    owns_customer = exists().where(
        Customer.id == FeedItem.customer_id,
        Customer.company_id == principal.company_id,  # new: lets ix_customers_owner serve it
        Customer.owner_id == principal.user_id,
        Customer.deleted_at.is_(None),  # new: the partial index's predicate
    )
    collaborates = exists().where(
        Collaborator.customer_id == FeedItem.customer_id, Collaborator.user_id == principal.user_id
    )
    return same_company & (visible | owns_customer | collaborates)


def row_cursor_paginate(stmt, created_column, id_column, params):  # noqa: ANN001, ANN201
    """`app.core.pagination.paginate` with the keyset condition as a row comparison."""
    from sqlalchemy import tuple_

    if params.after is not None:
        created_at, row_id = params.after
        stmt = stmt.where(tuple_(created_column, id_column) < tuple_(created_at, row_id))
    return stmt.order_by(created_column.desc(), id_column.desc()).limit(params.limit + 1)


def apply_variant(name: str) -> None:
    """Patch the feed service in this process (the functions look these names up per call)."""
    from app.core import pagination
    from app.feed import service, visibility

    service.feed_visibility = (
        visibility.feed_visibility if name == "as-is" else owner_scoped_visibility
    )
    service.paginate = row_cursor_paginate if name.endswith("row-cursor") else pagination.paginate


def owner_scoped_app():  # noqa: ANN201
    from app.main import app

    apply_variant("owner-scoped")
    return app


def row_cursor_app():  # noqa: ANN201
    from app.main import app

    apply_variant("owner-scoped+row-cursor")
    return app


VARIANT_APPS = {
    "as-is": ("app.main:app", False),
    "owner-scoped": ("bench.feed:owner_scoped_app", True),
    "owner-scoped+row-cursor": ("bench.feed:row_cursor_app", True),
}


class FactoryServer(Server):
    """bench.common.Server, optionally with `--factory`."""

    def __init__(self, app: str, env: dict[str, str], name: str, factory: bool) -> None:
        super().__init__(app, env, name)
        self.factory = factory

    def start(self) -> None:
        command = [sys.executable, "-m", "uvicorn", self.app, "--host", "127.0.0.1",
                   "--port", str(self.port)]  # fmt: skip
        if self.factory:
            command.append("--factory")
        self.process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **self.env}, stdout=subprocess.DEVNULL,
            stderr=self.log,
        )  # fmt: skip


# ---------- a quiet machine ----------


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


async def wait_until_quiet(sql, label: str, max_wait_s: float = 3600) -> None:  # noqa: ANN001
    """`bench.common.wait_for_quiet`, except that other benchmark processes which are only
    waiting themselves (no CPU, no active query in PostgreSQL for 15 s) do not count: two
    scripts waiting for each other would otherwise wait for ever."""
    started = time.monotonic()
    said = False
    idle_samples = 0
    while True:
        others = other_benchmarks()
        if not others:
            break
        pids = [int(entry.split(":", 1)[0]) for entry in others]
        before = sum(_cpu_seconds(pid) for pid in pids)
        active = 0
        for _ in range(5):
            await asyncio.sleep(1)
            active += await sql.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        busy = sum(_cpu_seconds(pid) for pid in pids) - before
        idle_samples = idle_samples + 1 if busy < 0.1 and active == 0 else 0
        if idle_samples >= 3:
            log(f"other benchmark processes idle for 15 s (waiting too?) {label}: going ahead")
            break
        if not said:
            log(f"waiting for other benchmark processes to finish {label}: " + "; ".join(others))
            said = True
        if time.monotonic() - started > max_wait_s:
            log("still not quiet after the maximum wait; measuring anyway (figures suspect)")
            break
    if said:
        await asyncio.sleep(5)
    log(f"quiet {label} — load average {loadavg()}")


# ---------- counting statements and asyncpg calls in-process ----------


@contextlib.contextmanager
def counting_asyncpg(counter: Counter):  # noqa: ANN201
    """Count calls of the asyncpg methods SQLAlchemy's dialect uses (≈ round trips)."""
    import asyncpg
    from asyncpg.prepared_stmt import PreparedStatement

    originals = []

    def wrap(cls: type, name: str, label: str) -> None:
        original = getattr(cls, name)

        async def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            counter[label] += 1
            return await original(self, *args, **kwargs)

        setattr(cls, name, wrapper)
        originals.append((cls, name, original))

    wrap(asyncpg.Connection, "execute", "simple query (BEGIN/ROLLBACK)")
    wrap(asyncpg.Connection, "fetchrow", "fetchrow (pre-ping ';')")
    wrap(asyncpg.Connection, "prepare", "prepare (statement cache miss)")
    wrap(PreparedStatement, "fetch", "execute prepared statement")
    try:
        yield
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)


def literal(value: Any) -> str:
    """A SQL literal for EXECUTE of a prepared statement (uuid, str, int, datetime)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, uuid.UUID):
        return f"'{value}'::uuid"
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    return "'" + str(value).replace("'", "''") + "'"


def first_line(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= 110 else text[:107] + "…"


# ---------- the run ----------


async def run(args: argparse.Namespace) -> int:  # noqa: C901 - a script
    import asyncpg
    import httpx
    from sqlalchemy import event

    from app.db import dispose_engine, get_engine
    from bench.generate_feed import SUBTREES

    database_url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    sql = await asyncpg.connect(database_url)
    servers: dict[str, FactoryServer] = {}
    index_made = False
    try:
        await check_head(sql)
        if args.user:
            user = await sql.fetchrow(
                """
                SELECT u.email, u.id, d.id AS department_id, d.path, d.name,
                       (SELECT count(*) FROM users x JOIN departments dx
                        ON dx.id = x.department_id WHERE dx.path LIKE d.path || '%') AS people
                FROM users u JOIN departments d ON d.id = u.department_id WHERE u.email = $1
                """,
                args.user,
            )
        else:
            user = await sql.fetchrow(SUBTREES, DOMAIN, args.department_size)
        if user is None:
            log("no such user / no manager: run python -m bench.generate_feed first")
            return 1
        info = await sql.fetchrow(
            """
            SELECT version() AS version, current_setting('shared_buffers') AS shared_buffers,
                   current_setting('work_mem') AS work_mem,
                   current_setting('max_parallel_workers_per_gather') AS parallel,
                   (SELECT count(*) FROM feed_items) AS items,
                   (SELECT count(*) FROM feed_likes) AS likes,
                   (SELECT count(*) FROM feed_comments) AS comments,
                   (SELECT count(*) FROM customers) AS customers,
                   pg_size_pretty(pg_table_size('feed_items')) AS heap,
                   pg_size_pretty(pg_indexes_size('feed_items')) AS indexes,
                   pg_size_pretty(pg_table_size('customers')) AS customers_heap
            """
        )
        visible = await sql.fetchval(
            """
            SELECT count(*) FROM feed_items i
            WHERE i.author_id = $1
               OR i.author_id IN (SELECT id FROM users WHERE department_id = $2)
               OR i.author_id IN (SELECT u.id FROM users u JOIN departments d
                                  ON d.id = u.department_id WHERE d.path LIKE $3 || '%')
               OR i.customer_id IN (SELECT id FROM customers WHERE owner_id = $1)
               OR i.customer_id IN (SELECT customer_id FROM customer_collaborators
                                    WHERE user_id = $1)
            """,
            user["id"], user["department_id"], user["path"],
        )  # fmt: skip
        role = await sql.fetchval("SELECT role FROM users WHERE id = $1", user["id"])
        print(
            f"PostgreSQL: {info['version'].split(' on ')[0]}; shared_buffers "
            f"{info['shared_buffers']}, work_mem {info['work_mem']}, "
            f"max_parallel_workers_per_gather {info['parallel']}"
        )
        print(
            f"dataset: {info['items']:,} feed items (table {info['heap']}, indexes "
            f"{info['indexes']}), {info['likes']:,} likes, {info['comments']:,} comments; "
            f"{info['customers']:,} customers (table {info['customers_heap']})"
        )
        print(
            f"as {user['email']} ({role}, {user['name']}: {user['people']} people in the "
            f"subtree) — {visible:,} visible items ({visible / info['items']:.1%})"
        )
        pages = sorted(set(args.pages))
        print(
            f"GET /v1/feed?limit={args.limit} at pages {', '.join(map(str, pages))}; variants: "
            f"{', '.join(args.variants)}; {args.requests} requests per page and variant "
            f"(after {args.warmup} warm-up)"
        )

        if args.owner_index:
            t0 = time.perf_counter()
            await sql.execute(
                f"CREATE INDEX IF NOT EXISTS {OWNER_INDEX} ON customers (owner_id, id)"
            )
            index_made = True
            print(f"created {OWNER_INDEX} ON customers (owner_id, id) "
                  f"({time.perf_counter() - t0:.1f}s)")  # fmt: skip

        # ---------- servers, login, the cursor chain ----------
        # Also wait here: our idle servers would otherwise hold up another benchmark's wait.
        await wait_until_quiet(sql, "before starting the servers")
        env = app_env(database_url, args.redis_url)
        for name in args.variants:
            app, factory = VARIANT_APPS[name]
            servers[name] = FactoryServer(app, env, f"feed-{name}", factory)
            servers[name].start()
        for server in servers.values():
            await server.wait_ready()
        await clear_login_limits(args.redis_url)
        first = servers[args.variants[0]]
        token = (await login(first.port, [user["email"]], args.password))[user["email"]]
        auth = {"Authorization": f"Bearer {token}"}

        def target(page: int, limit: int | None = None) -> str:
            query = {"limit": str(limit or args.limit)}
            if cursors[page]:
                query["cursor"] = cursors[page]
            return "/v1/feed?" + urlencode(query)

        cursors: dict[int, str | None] = {1: None}
        http = HTTP("127.0.0.1", first.port)
        await http.connect()
        reference: dict[int, list[str]] = {}
        t0 = time.perf_counter()
        for page in range(1, max(pages) + 1):
            await http.ready()
            status, body = await http.get(target(page), auth)
            if status != 200:
                log(f"page {page}: {status} {body[:300]!r}")
                return 1
            data = json.loads(body)
            reference[page] = [item["id"] for item in data["items"]]
            if page < max(pages):
                if not data["next_cursor"]:
                    log(f"the feed ends at page {page}: lower --pages")
                    return 1
                cursors[page + 1] = data["next_cursor"]
        await http.close()
        print(f"walked pages 1–{max(pages)} once through next_cursor "
              f"({time.perf_counter() - t0:.1f}s)")  # fmt: skip

        # Every variant must return exactly what the app returns.
        for name, server in servers.items():
            client = HTTP("127.0.0.1", server.port)
            await client.connect()
            for page in pages:
                status, body = await client.get(target(page), auth)
                ids = [item["id"] for item in json.loads(body)["items"]] if status == 200 else []
                if ids != reference[page]:
                    log(f"{name} returns other items than the app at page {page} ({status})")
                    return 1
            await client.close()
        print("every variant returns the app's items at every measured page: checked")

        # ---------- statements per page, in-process ----------
        import logging

        from app.main import app as asgi_app

        devnull = open(os.devnull, "w")  # noqa: SIM115, ASYNC230 - the in-process request log
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        captured: list[tuple[str, Any]] = []

        def before_cursor_execute(conn, cursor, statement, parameters, context, many):  # noqa: ANN001
            captured.append((statement, parameters))

        event.listen(get_engine().sync_engine, "before_cursor_execute", before_cursor_execute)
        inproc = httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi_app), base_url="http://x")
        counts: dict[tuple[str, int, int], tuple[list[tuple[str, Any]], Counter]] = {}
        for name in args.variants:
            apply_variant(name)
            for page in pages:
                for limit in (args.limit, 100) if page == 1 else (args.limit,):
                    for _attempt in range(2):  # the second: warm caches (prepared statements)
                        captured.clear()
                        calls: Counter = Counter()
                        with counting_asyncpg(calls):
                            response = await inproc.get(target(page, limit), headers=auth)
                            await asyncio.sleep(0.05)  # the session's teardown after the body
                        assert response.status_code == 200, response.text
                    counts[(name, page, limit)] = (list(captured), calls)
        apply_variant("as-is")
        await inproc.aclose()
        event.remove(get_engine().sync_engine, "before_cursor_execute", before_cursor_execute)
        await dispose_engine()
        from app.core.redis import close_redis

        await close_redis()

        def feed_statement(name: str, page: int) -> tuple[str, Any]:
            for statement, parameters in counts[(name, page, args.limit)][0]:
                if "FROM feed_items" in statement and "ORDER BY feed_items.created_at" in statement:
                    return statement, parameters
            raise SystemExit("no feed statement captured")

        print("\nstatements per request (in-process, second request of each kind):")
        for (name, page, limit), (statements, calls) in counts.items():
            print(
                f"  {name:<24} page {page:>3} limit {limit:>3}: {len(statements)} SQL statements; "
                "asyncpg calls "
                + ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
                + f" = {sum(calls.values())}"
            )
        print(f"  the statements of page 1 ({args.variants[0]}):")
        for statement, _ in counts[(args.variants[0], 1, args.limit)][0]:
            print(f"    - {first_line(statement)}")

        # ---------- measure ----------
        await wait_until_quiet(sql, "before measuring")
        print(f"\nload average before: {loadavg()}")
        clients = {}
        for name, server in servers.items():
            clients[name] = HTTP("127.0.0.1", server.port)
            await clients[name].connect()
        samples: dict[tuple[int, str, str], list[float]] = {}

        def record(page: int, name: str, mode: str, seconds: float) -> None:
            samples.setdefault((page, name, mode), []).append(seconds * 1000)

        statements = {(n, p): feed_statement(n, p) for n in args.variants for p in pages}
        jobs = [(page, name) for page in pages for name in args.variants]
        for phase, rounds in (("w", args.warmup), ("m", args.requests)):
            log(f"{'warm-up' if phase == 'w' else 'measuring'}: {rounds} rounds of {len(jobs)}")
            for i in range(rounds):
                k = i % len(jobs)
                for page, name in jobs[k:] + jobs[:k]:
                    client = clients[name]
                    await client.ready()  # outside the timing: a reconnect is not the app's
                    tag = f"{phase}-v{args.variants.index(name)}-{page}-{i}"
                    headers = {**auth, "X-Request-ID": tag}
                    t0 = time.perf_counter()
                    status, body = await client.get(target(page), headers)
                    elapsed = time.perf_counter() - t0
                    assert status == 200, body[:300]
                    statement, parameters = statements[(name, page)]
                    t1 = time.perf_counter()
                    await sql.fetch(statement, *parameters)
                    sql_elapsed = time.perf_counter() - t1
                    t2 = time.perf_counter()
                    for other, other_parameters in counts[(name, page, args.limit)][0]:
                        await sql.fetch(other, *other_parameters)
                    all_elapsed = time.perf_counter() - t2
                    if phase == "m":
                        record(page, name, "API over HTTP", elapsed)
                        record(page, name, "SQL feed query", sql_elapsed)
                        record(page, name, "SQL all stmts", all_elapsed)
        for client in clients.values():
            await client.close()
        print(f"load average after: {loadavg()}")
        for name, server in servers.items():
            with open(server.log.name, encoding="utf-8") as lines:  # noqa: ASYNC230
                for line in lines:
                    if not line.startswith("{"):
                        continue
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    request_id = str(entry.get("request_id", ""))
                    if request_id.startswith(f"m-v{args.variants.index(name)}-"):
                        page = int(request_id.rsplit("-", 2)[1])
                        samples.setdefault((page, name, "  server side"), []).append(
                            entry["duration_ms"]
                        )

        # ---------- report ----------
        header = (
            f"{'page':>4}  {'variant':<24} {'mode':<16} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'mean':>7} {'max':>7}  {'SQL/page':>8}"
        )
        print("\n" + header)
        print("-" * len(header))
        for page in pages:
            for name in args.variants:
                for mode in ("API over HTTP", "  server side", "SQL all stmts", "SQL feed query"):
                    values = samples.get((page, name, mode))
                    if not values:
                        continue
                    per_page = (
                        str(len(counts[(name, page, args.limit)][0]))
                        if mode == "API over HTTP"
                        else ""
                    )
                    print(
                        f"{page:>4}  {pad(name, 24)} {mode:<16} {len(values):>4} "
                        f"{pct(values, 50):>8.2f} {pct(values, 99):>8.2f} "
                        f"{statistics.fmean(values):>7.2f} {max(values):>7.2f}  {per_page:>8}"
                    )
            print()
        for name in args.variants:
            p50 = pct(samples[(1, name, "API over HTTP")], 50)
            worst = max(pct(samples[(p, name, "API over HTTP")], 50) for p in pages)
            verdict = "met" if worst < args.target_ms else "MISSED"
            print(
                f"target (over HTTP, p50 < {args.target_ms:g} ms): {name}: first page "
                f"{p50:.2f} ms, worst measured page {worst:.2f} ms [{verdict}]; "
                f"{len(counts[(name, 1, args.limit)][0])} SQL statements per page"
            )

        # ---------- plans ----------
        for name in args.variants:
            for page in sorted({pages[0], pages[-1]}):
                statement, parameters = statements[(name, page)]
                plan = await sql.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *parameters)
                print(f"\n=== EXPLAIN (ANALYZE, BUFFERS) — {name}, page {page}, custom plan")
                print("\n".join(r[0] for r in plan))
        statement, parameters = statements[(args.variants[0], pages[0])]
        custom = await sql.fetchval("EXPLAIN (FORMAT JSON) " + statement, *parameters)
        async with sql.transaction():
            await sql.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await sql.execute("PREPARE bench_feed_generic AS " + statement)
            try:
                plan = await sql.fetch(
                    "EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_feed_generic("
                    + ", ".join(literal(p) for p in parameters)
                    + ")"
                )
            finally:
                await sql.execute("DEALLOCATE bench_feed_generic")
        print(f"\n=== EXPLAIN (ANALYZE, BUFFERS) — {args.variants[0]}, page {pages[0]}, "
              "generic plan (a prepared statement from its 6th execution, if cheaper)")  # fmt: skip
        print("\n".join(r[0] for r in plan))
        custom_cost = json.loads(custom)[0]["Plan"]["Total Cost"]
        generic_cost = float(plan[0][0].split("..", 1)[1].split(" ", 1)[0])
        print(
            f"(estimated cost: custom plan {custom_cost:,.0f}, generic plan {generic_cost:,.0f} "
            f"— the plan cache keeps custom plans while they are the cheaper)"
        )
        if args.show_sql:
            for name in args.variants:
                statement, parameters = statements[(name, pages[-1])]
                print(f"\n--- {name}, page {pages[-1]}: the main statement as emitted\n{statement}")
                print("  params:", parameters)
    finally:
        for server in servers.values():
            server.stop()
        if index_made and not args.keep_index:
            await sql.execute(f"DROP INDEX IF EXISTS {OWNER_INDEX}")
            print(f"\ndropped {OWNER_INDEX}")
        await sql.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--requests", type=int, default=200, help="per page and variant")
    parser.add_argument("--warmup", type=int, default=20, help="rounds before measuring")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument(
        "--pages", type=int, nargs="+", default=[1, 2, 10, 50], help="which pages (1 = first)"
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["as-is", "owner-scoped", "owner-scoped+row-cursor"],
        choices=list(VARIANT_APPS),
    )
    parser.add_argument("--department-size", type=int, default=60)
    parser.add_argument("--user", help="measure as this user instead of the ~60-person manager")
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument("--target-ms", type=float, default=25.0)
    parser.add_argument(
        "--owner-index",
        action="store_true",
        help=f"create {OWNER_INDEX} ON customers (owner_id, id) for the run",
    )
    parser.add_argument("--keep-index", action="store_true", help="do not drop it afterwards")
    parser.add_argument("--show-sql", action="store_true", help="print the main statements")
    args = parser.parse_args()
    if args.variants[0] != "as-is" and "as-is" in args.variants:
        args.variants.remove("as-is")
        args.variants.insert(0, "as-is")
    # The app reads its settings on import: set them first.
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["OUTFIELD_ENV"] = "development"
    os.environ.setdefault("OUTFIELD_ACCESS_TOKEN_TTL_S", "7200")
    sys.path.insert(0, str(REPO))
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run(args))
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
