"""Benchmark the two hot customer lists at scale, through the API and as bare SQL, in one run.

    python -m bench.customer_lists \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --redis-url redis://127.0.0.1:6379/12 --requests 300

Needs the dataset of `bench.generate_dataset`. Measures, sequentially (one request in flight),
for `GET /v1/customers?owner=me&limit=20` and `GET /v1/pool/customers?industry=…&limit=20`,
first page, rotating over `--users` reps:

* API in-process — the real app through httpx.ASGITransport (no sockets, no HTTP parsing);
* API over HTTP  — the app served by uvicorn in a subprocess (the Dockerfile's command: one
  worker, uvloop + httptools, uvicorn access log on), called over loopback TCP with a
  minimal keep-alive HTTP/1.1 client so the client adds as little as possible. This is the
  honest figure. `server` is the app's own duration_ms for those same requests (its
  request-log line: from the outermost app middleware in to the last body byte out);
* ORM            — `service.list_customers` / `list_pool_customers` called directly on an
  AsyncSession (the statement the API runs, with SQLAlchemy's ORM overhead, no HTTP/auth);
* SQL            — the same SELECT written by hand, on a bare asyncpg connection (prepared,
  same parameters, same `ORDER BY created_at DESC, id DESC LIMIT 21`);
* SQL auth+list  — the two queries a request really issues: the caller lookup
  (users ⟕ departments) that `current_principal` runs, then the list.

The ratio is API ÷ SQL (the list query alone), p50 to p50 and p99 to p99. The API figures
include everything a client pays for: JWT decode, the user lookup query, the pool pre-ping,
the list query, ORM loading, Pydantic validation and JSON serialisation, middleware and the
JSON request log. Modes are interleaved request by request (their order rotating) so drift
on a shared machine hits them alike. At the end it prints EXPLAIN (ANALYZE, BUFFERS) of both
hand-written queries and the SQL the app actually emitted, for comparison.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
DOMAIN = "bench.outfield.test"

# The select list is the model's (so it follows new columns, as the service's does);
# `location` is read through ST_AsBinary as GeoAlchemy2 does. Filled in by `build_sql`.
CUSTOMER_SELECT = "SELECT {columns}\nFROM customers\n"
# customer_visibility() for a rep: own + collaborating + the pool, company, not deleted.
REP_VISIBILITY = """
customers.company_id = $1::UUID AND customers.deleted_at IS NULL
AND (customers.owner_id = $2::UUID OR customers.owner_id IS NULL
     OR (EXISTS (SELECT * FROM customer_collaborators
                 WHERE customer_collaborators.customer_id = customers.id
                   AND customer_collaborators.user_id = $3::UUID)))
"""
# list_customers + filtered(owner=me) + paginate (first page, limit 20 → LIMIT 21)
OWNER_ME_SQL = (
    CUSTOMER_SELECT
    + "WHERE"
    + REP_VISIBILITY
    + "AND customers.owner_id = $4::UUID\n"
    + "ORDER BY customers.created_at DESC, customers.id DESC\nLIMIT $5::INTEGER"
)
# list_pool_customers + filtered(industry=…) + paginate
POOL_INDUSTRY_SQL = (
    CUSTOMER_SELECT
    + "WHERE"
    + REP_VISIBILITY
    + "AND customers.owner_id IS NULL AND customers.industry = $4::VARCHAR\n"
    + "ORDER BY customers.created_at DESC, customers.id DESC\nLIMIT $5::INTEGER"
)


def build_sql(template: str) -> str:
    """A hand-written statement with the model's select list."""
    from app.customers.models import Customer

    columns = ", ".join(
        "ST_AsBinary(customers.location) AS location"
        if column.name == "location"
        else f"customers.{column.name}"
        for column in Customer.__table__.columns
    )
    return template.replace("{columns}", columns, 1)


# current_principal's lookup of the caller
AUTH_SQL = """
SELECT {columns}, departments.path
FROM users LEFT OUTER JOIN departments ON departments.id = users.department_id
WHERE users.id = $1::UUID AND users.company_id = $2::UUID
"""


def build_auth_sql() -> str:
    from app.org.models import User

    columns = ", ".join(f"users.{column.name}" for column in User.__table__.columns)
    return AUTH_SQL.replace("{columns}", columns, 1)


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# ---------- statistics ----------


def pad(text: str, width: int) -> str:
    """Left-justify for a terminal: CJK characters take two columns."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


# ---------- a minimal keep-alive HTTP/1.1 client ----------


class RawHTTP:
    """GET over one keep-alive connection; the least client overhead asyncio allows."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def ready(self) -> None:
        """Reconnect if the server closed the idle connection (uvicorn: after 5 s)."""
        if self.reader is None or self.reader.at_eof():
            await self.close()
            await self.connect()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None

    async def get(self, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        lines = [f"GET {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = None, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is not None:
            return status, await self.reader.readexactly(length)
        body = bytearray()
        if chunked:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                body += await self.reader.readexactly(size)
                await self.reader.readline()
        return status, bytes(body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------- the run ----------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.samples: dict[tuple[str, str], list[float]] = {}
        self.inproc_durations: dict[str, float] = {}

    def record(self, endpoint: str, mode: str, seconds: float) -> None:
        self.samples.setdefault((endpoint, mode), []).append(seconds * 1000)


async def run(args: argparse.Namespace) -> int:  # noqa: C901 - a script
    import asyncpg
    import httpx
    from sqlalchemy import event

    from app.auth.principal import Principal
    from app.core.pagination import PageParams
    from app.core.redis import get_redis
    from app.customers import service
    from app.customers.filters import CustomerFilters, PoolFilters
    from app.db import get_engine, session_factory
    from app.main import app

    bench = Bench(args)
    database_url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")

    # The app logs one JSON line per request to stderr: keep the cost, drop the output,
    # and keep the durations it measured.
    devnull = open(os.devnull, "w")  # noqa: SIM115, ASYNC230 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)

    class Durations(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            request_id = getattr(record, "request_id", "")
            if request_id.startswith("m-"):
                bench.inproc_durations[request_id] = record.duration_ms  # type: ignore[attr-defined]

    logging.getLogger("outfield.access").addHandler(Durations())

    sql = await asyncpg.connect(database_url)
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(Config(str(REPO / "alembic.ini"))).get_heads())
    current = {r[0] for r in await sql.fetch("SELECT version_num FROM alembic_version")}
    if current != heads:
        log(
            f"the bench database is at {sorted(current)}, the code at {sorted(heads)}: run "
            "`DATABASE_URL=… alembic upgrade head` against it (or regenerate the dataset)"
        )
        await sql.close()
        return 1
    info = await sql.fetchrow(
        """
        SELECT version() AS version, current_setting('shared_buffers') AS shared_buffers,
               current_setting('work_mem') AS work_mem,
               (SELECT count(*) FROM customers) AS customers,
               (SELECT count(*) FROM users WHERE role = 'rep') AS reps,
               pg_size_pretty(pg_table_size('customers')) AS heap,
               pg_size_pretty(pg_indexes_size('customers')) AS indexes
        """
    )
    rows = await sql.fetch(
        """
        SELECT u.id, u.email, u.company_id, u.department_id, d.path,
               (SELECT count(*) FROM customers c
                WHERE c.owner_id = u.id AND c.deleted_at IS NULL) AS owned
        FROM users u LEFT JOIN departments d ON d.id = u.department_id
        WHERE u.role = 'rep' AND u.email LIKE $1 ORDER BY u.email
        """,
        f"%@{DOMAIN}",
    )
    if not rows:
        log(f"no reps @{DOMAIN}: run python -m bench.generate_dataset first")
        return 1
    step = max(1, len(rows) // args.users)
    users = [rows[i] for i in range(0, len(rows), step)][: args.users]
    industry = args.industry
    pool_size = await sql.fetchval(
        "SELECT count(*) FROM customers WHERE owner_id IS NULL AND deleted_at IS NULL"
        " AND industry = $1",
        industry,
    )
    print(
        f"PostgreSQL: {info['version'].split(' on ')[0]}; shared_buffers "
        f"{info['shared_buffers']}, work_mem {info['work_mem']}"
    )
    print(
        f"dataset: {info['customers']:,} customers (table {info['heap']}, indexes "
        f"{info['indexes']}), {info['reps']} reps; measuring as {len(users)} reps "
        f"owning {min(u['owned'] for u in users)}–{max(u['owned'] for u in users)} customers; "
        f"pool customers with industry={industry}: {pool_size:,}"
    )
    print(f"requests per mode and endpoint: {args.requests} (after {args.warmup} warm-up)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    # Login (rate limit: 10 per window per user and IP — clear our own counters first).
    redis = get_redis()
    async for key in redis.scan_iter(match=f"outfield:login:*@{DOMAIN}"):
        await redis.delete(key)
    transport = httpx.ASGITransport(app=app)
    inproc = httpx.AsyncClient(transport=transport, base_url="http://bench")
    tokens: dict[uuid.UUID, str] = {}
    for user in users:
        response = await inproc.post(
            "/v1/auth/token", data={"username": user["email"], "password": args.password}
        )
        if response.status_code != 200:
            log(f"login failed for {user['email']}: {response.status_code} {response.text}")
            return 1
        tokens[user["id"]] = response.json()["access_token"]

    # Uvicorn in a subprocess: the Dockerfile's command on a free loopback port.
    port = free_port()
    server_log = tempfile.NamedTemporaryFile(  # noqa: SIM115
        prefix="outfield-bench-uvicorn-", suffix=".log", delete=False
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "OUTFIELD_ENV": "development",
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port",
         str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=server_log,
    )  # fmt: skip
    http = RawHTTP("127.0.0.1", port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                await http.connect()
                status, _ = await http.get("/healthz", {})
                if status == 200:
                    break
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                log("uvicorn did not come up; its log: " + server_log.name)
                return 1
            await asyncio.sleep(0.2)

        # The principal each user gets, for the ORM mode.
        principals = {
            u["id"]: Principal(u["id"], u["company_id"], "rep", u["department_id"], u["path"],
                               "zh-CN")
            for u in users
        }  # fmt: skip

        # What the app really sends, captured once per endpoint.
        emitted: dict[str, list[tuple[str, object]]] = {}
        capture: list[tuple[str, object]] | None = None

        def before_execute(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            if capture is not None:
                capture.append((statement, parameters))

        event.listen(get_engine().sync_engine, "before_cursor_execute", before_execute)

        endpoints: dict[str, dict] = {
            "GET /v1/customers?owner=me": {
                "key": "owner",
                "path": "/v1/customers",
                "query": {"owner": "me", "limit": "20"},
                "sql": build_sql(OWNER_ME_SQL),
                "sql_args": lambda u: (u["company_id"], u["id"], u["id"], u["id"], 21),
                "orm": lambda s, p: service.list_customers(
                    s, p, PageParams(20, None), CustomerFilters(owner="me")
                ),
            },
            f"GET /v1/pool/customers?industry={industry}": {
                "key": "pool",
                "path": "/v1/pool/customers",
                "query": {"industry": industry, "limit": "20"},
                "sql": build_sql(POOL_INDUSTRY_SQL),
                "sql_args": lambda u: (u["company_id"], u["id"], u["id"], industry, 21),
                "orm": lambda s, p: service.list_pool_customers(
                    s, p, PageParams(20, None), CustomerFilters(industry=industry), PoolFilters()
                ),
            },
        }

        endpoints = {
            name: spec for name, spec in endpoints.items() if spec["key"] in args.endpoints
        }
        for name, spec in endpoints.items():
            target = spec["path"] + "?" + urlencode(spec["query"])
            spec["target"] = target
            capture = []
            user = users[0]
            response = await inproc.get(
                target, headers={"Authorization": f"Bearer {tokens[user['id']]}"}
            )
            emitted[name] = capture
            capture = None
            if response.status_code != 200:
                log(f"{name}: {response.status_code} {response.text}")
                return 1
            api_ids = [item["id"] for item in response.json()["items"]]
            sql_ids = [str(r["id"]) for r in await sql.fetch(spec["sql"], *spec["sql_args"](user))]
            if api_ids != sql_ids[:20]:
                log(f"{name}: the hand-written SQL does not return what the API returns")
                return 1
        event.remove(get_engine().sync_engine, "before_cursor_execute", before_execute)

        async def one_inproc(name: str, spec: dict, user, tag: str) -> None:  # noqa: ANN001
            headers = {"Authorization": f"Bearer {tokens[user['id']]}", "X-Request-ID": tag}
            t0 = time.perf_counter()
            response = await inproc.get(spec["target"], headers=headers)
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200, response.text
            if tag.startswith("m-"):
                bench.record(name, "API in-process", elapsed)

        async def one_http(name: str, spec: dict, user, tag: str) -> None:  # noqa: ANN001
            headers = {"Authorization": f"Bearer {tokens[user['id']]}", "X-Request-ID": tag}
            await http.ready()  # outside the timing: a reconnect is not the app's latency
            t0 = time.perf_counter()
            status, body = await http.get(spec["target"], headers)
            elapsed = time.perf_counter() - t0
            assert status == 200, body[:500]
            if tag.startswith("m-"):
                bench.record(name, "API over HTTP", elapsed)

        async def one_orm(name: str, spec: dict, user, tag: str) -> None:  # noqa: ANN001
            t0 = time.perf_counter()
            async with session_factory()() as session:
                await spec["orm"](session, principals[user["id"]])
            elapsed = time.perf_counter() - t0
            if tag.startswith("m-"):
                bench.record(name, "ORM (service call)", elapsed)

        async def one_sql(name: str, spec: dict, user, tag: str) -> None:  # noqa: ANN001
            params = spec["sql_args"](user)
            t0 = time.perf_counter()
            await sql.fetch(spec["sql"], *params)
            elapsed = time.perf_counter() - t0
            if tag.startswith("m-"):
                bench.record(name, "SQL (asyncpg)", elapsed)

        async def one_sql_auth(name: str, spec: dict, user, tag: str) -> None:  # noqa: ANN001
            params = spec["sql_args"](user)
            t0 = time.perf_counter()
            await sql.fetchrow(auth_sql, user["id"], user["company_id"])
            await sql.fetch(spec["sql"], *params)
            elapsed = time.perf_counter() - t0
            if tag.startswith("m-"):
                bench.record(name, "SQL auth+list", elapsed)

        auth_sql = build_auth_sql()
        modes: list[Callable[..., Awaitable[None]]] = [
            one_inproc, one_http, one_orm, one_sql, one_sql_auth,
        ]  # fmt: skip
        for e, (name, spec) in enumerate(endpoints.items()):
            log(f"{name}: warm-up")
            for i in range(args.warmup):
                for mode in modes:
                    await mode(name, spec, users[i % len(users)], f"w-{e}-{i}")
            log(f"{name}: measuring")
            for i in range(args.requests):
                user = users[i % len(users)]
                k = i % len(modes)
                for mode in modes[k:] + modes[:k]:
                    await mode(name, spec, user, f"m-{e}-{i}")

        # The server's own view of the HTTP requests (its JSON request log).
        server_durations: dict[str, float] = {}
        with open(server_log.name, encoding="utf-8") as lines:  # noqa: ASYNC230
            for line in lines:
                if line.startswith("{"):
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if str(entry.get("request_id", "")).startswith("m-"):
                        server_durations[entry["request_id"]] = entry["duration_ms"]
        for e, name in enumerate(endpoints):
            for source, durations in (
                ("  server side (HTTP)", server_durations),
                ("  server side (in-process)", bench.inproc_durations),
            ):
                values = [
                    durations[f"m-{e}-{i}"]
                    for i in range(args.requests)
                    if f"m-{e}-{i}" in durations
                ]
                if values:
                    bench.samples[(name, source)] = values

        # ---------- report ----------
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print()
        header = f"{'endpoint':<44} {'mode':<26} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'mean':>7}"
        header += f" {'p50 ÷ SQL':>10} {'p99 ÷ SQL':>10}"
        print(header)
        print("-" * len(header))
        order = [
            "API over HTTP", "  server side (HTTP)", "API in-process", "  server side (in-process)",
            "ORM (service call)", "SQL auth+list", "SQL (asyncpg)",
        ]  # fmt: skip
        verdicts = []
        for name in endpoints:
            base = bench.samples[(name, "SQL (asyncpg)")]
            b50, b99 = pct(base, 50), pct(base, 99)
            label = name
            for mode in order:
                values = bench.samples.get((name, mode))
                if not values:
                    continue
                p50, p99 = pct(values, 50), pct(values, 99)
                print(
                    f"{pad(label, 44)} {mode:<26} {len(values):>4} {p50:>8.2f} {p99:>8.2f} "
                    f"{statistics.fmean(values):>7.2f} {p50 / b50:>9.1f}× {p99 / b99:>9.1f}×"
                )
                label = ""
            p50 = pct(bench.samples[(name, "API over HTTP")], 50)
            verdicts.append((p50, p50 / b50))
            print()
        for (p50, ratio), name in zip(verdicts, endpoints, strict=True):
            print(
                f"target (over HTTP): p50 {p50:.2f} ms {'<' if p50 < 20 else '≥'} 20 ms "
                f"[{'met' if p50 < 20 else 'MISSED'}], ratio {ratio:.1f}× "
                f"{'<' if ratio < 3 else '≥'} 3× [{'met' if ratio < 3 else 'MISSED'}] — {name}"
            )

        # ---------- plans ----------
        user = users[0]
        for name, spec in endpoints.items():
            print(f"\n=== EXPLAIN (ANALYZE, BUFFERS) — {name}")
            print(f"    (the hand-written SQL, as {user['email']})")
            plan = await sql.fetch(
                "EXPLAIN (ANALYZE, BUFFERS) " + spec["sql"], *spec["sql_args"](user)
            )
            print("\n".join(r[0] for r in plan))
            if args.show_sql:
                print(f"\n--- SQL the app emitted for {name} ({len(emitted[name])} statements):")
                for statement, parameters in emitted[name]:
                    print(statement.strip(), "\n  params:", parameters)
        await inproc.aclose()
    finally:
        await http.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        os.unlink(server_log.name)
        await sql.close()
        from app.core.redis import close_redis
        from app.db import dispose_engine

        await dispose_engine()
        await close_redis()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--requests", type=int, default=300, help="per mode and endpoint")
    parser.add_argument("--warmup", type=int, default=30, help="per mode and endpoint")
    parser.add_argument("--users", type=int, default=20, help="how many reps to rotate over")
    parser.add_argument("--industry", default="制造业")
    parser.add_argument("--password", default="bench-password")
    parser.add_argument(
        "--endpoints",
        nargs="+",
        default=["owner", "pool"],
        choices=("owner", "pool"),
        help="owner: /v1/customers?owner=me; pool: /v1/pool/customers?industry=…",
    )
    parser.add_argument("--show-sql", action="store_true", help="print the SQL the app emitted")
    args = parser.parse_args()
    # The app reads its settings on import: set them first.
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["OUTFIELD_ENV"] = "development"
    os.environ.setdefault("OUTFIELD_ACCESS_TOKEN_TTL_S", "7200")  # outlive a long run
    sys.path.insert(0, str(REPO))
    try:
        import uvloop  # the event loop uvicorn uses, for a like-for-like in-process figure
    except ImportError:
        return asyncio.run(run(args))
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
