"""Generate the benchmark dataset: one company, a department tree, reps, and a million customers.

    python -m bench.generate_dataset \
        --database-url postgresql://postgres@127.0.0.1:5432/outfield_bench \
        --customers 1000000 --reps 500 --departments 40

What it does, in order:

1. Drops and re-creates the database (DROP DATABASE … WITH (FORCE)), creates PostGIS, and
   runs `alembic upgrade head` against it, so the schema is exactly the migrations'.
2. Inserts the organisation through the app's own models: one company (Asia/Shanghai), a
   department tree of `--departments` nodes (root → one region per city → teams, `path`
   materialised as '/<root>/<region>/<team>/' like app/org/departments.py), one admin,
   `--managers` managers (regions first, then teams) and `--reps` reps spread over the
   teams. Everyone has the same Argon2 hash of `--password` (default 'bench-password').
   The default pool and pool settings come from `ensure_company_pools`, the default sales
   pipeline and lost reasons from `create_default_pipeline` (as at signup); the holding cap is
   then raised to `--holding-cap` (default 2000): the generator bypasses the API and hands
   each rep ~1,400 customers, which the default cap of 20 would never allow.
3. Bulk-loads customers with asyncpg COPY (binary), generated in Python so names and phones
   go through the app's own `normalise_name` / `normalise_phone` and the recycle clock
   through `recycle_clock`. For speed the customers' secondary indexes are dropped before
   the load and re-created (from their own definitions) after it, and foreign-key triggers
   are off for the loading session (`session_replication_role = replica`); the data is
   consistent by construction.
4. Adds a few collaborators (2 % of owned customers get a team-mate), then VACUUM ANALYZE.

The data: `--pool-fraction` (default 30 %) of customers sit in the default pool, the rest are
owned by reps (mildly uneven load) in the rep's city; coordinates are a normal scatter
(σ 10 km, cut at 30 km) around Beijing, Shanghai, Guangzhou, Shenzhen and Chengdu;
12 industries with uneven weights; created_at spread over two years; owned customers were
claimed (or followed up / dealt with) recently enough that their recycle clock (15 days
without follow-up, 30 without a deal) is still running; won customers are exempt; ~1 % are
soft-deleted. Same `--seed`, same data (ids included) apart from the timestamps' anchor.
"""

import argparse
import asyncio
import json
import math
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

REPO = Path(__file__).resolve().parent.parent
DOMAIN = "bench.outfield.test"
DEFAULT_PASSWORD = "bench-password"
DAY = 86400.0

# key, name, lat, lng, share of pool customers, area code, districts
CITIES = [
    ("bj", "北京", 39.9042, 116.4074, 0.24, "010", ["朝阳", "海淀", "东城", "西城", "丰台"]),
    ("sh", "上海", 31.2304, 121.4737, 0.24, "021", ["浦东新", "黄浦", "徐汇", "静安", "闵行"]),
    ("gz", "广州", 23.1291, 113.2644, 0.18, "020", ["天河", "越秀", "海珠", "白云", "番禺"]),
    ("sz", "深圳", 22.5431, 114.0579, 0.20, "0755", ["南山", "福田", "罗湖", "宝安", "龙岗"]),
    ("cd", "成都", 30.5728, 104.0668, 0.14, "028", ["锦江", "青羊", "武侯", "成华", "金牛"]),
]
# name, weight, words used in company names
INDUSTRIES = [
    ("制造业", 0.17, ["机械", "精密制造", "模具", "电子"]),
    ("零售", 0.13, ["商贸", "百货", "便利", "商业"]),
    ("餐饮", 0.11, ["餐饮管理", "食品", "餐饮"]),
    ("信息技术", 0.10, ["科技", "网络科技", "信息技术", "软件"]),
    ("建筑工程", 0.08, ["建设工程", "建筑", "装饰工程"]),
    ("物流运输", 0.08, ["物流", "供应链", "运输"]),
    ("医疗健康", 0.07, ["医疗器械", "健康科技", "医药"]),
    ("教育培训", 0.06, ["教育科技", "培训", "文化传播"]),
    ("房地产", 0.06, ["置业", "房地产开发", "物业管理"]),
    ("金融服务", 0.05, ["投资管理", "融资租赁", "资产管理"]),
    ("能源化工", 0.05, ["新能源", "化工", "能源科技"]),
    ("农业", 0.04, ["农业科技", "生态农业", "农产品"]),
]
BRAND_CHARS = (
    "华中新金盛鑫达通瑞恒泰宏信德安康利丰源海天博远嘉和兴隆祥宇辰创智联科美佳鼎汇诚正永昌明"
    "光辉腾飞龙凯旭昊晟禾元方圆锦顺启力航星云峰益众合润泽鸿志蓝福万东南西北宁泓铭骏"
)
COMPANY_SUFFIXES = [
    "有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司",
]  # fmt: skip
SIZES = ["1-10", "11-50", "51-200", "201-1000", "1000+"]
SIZE_WEIGHTS = [0.25, 0.35, 0.22, 0.12, 0.06]
TIERS = ["A", "B", "C", None]
TIER_WEIGHTS = [0.1, 0.3, 0.4, 0.2]
SOURCES = ["地推", "转介绍", "展会", "电话营销", "官网", "老客户", "渠道合作"]
TAGS = ["重点", "待回访", "有预算", "价格敏感", "竞品客户", "大客户", "新开业"]
CHANNELS = ["线下", "线上", "代理"]
ROADS = ["建国", "人民", "解放", "中山", "和平", "长安", "科技", "创业", "滨河", "环城"]
RELEASE_REASONS = ["客户暂无需求", "联系不上", "预算不足", "已选竞品", "转交其他区域"]
MOBILE_PREFIXES = [f"1{d}{e}" for d in "3589" for e in "0123456789"] + ["166", "177", "199"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉玲建国红波宁浩宇"
OWNED_STATUS = (["prospect", "active", "won", "lost"], [0.45, 0.33, 0.15, 0.07])
POOL_STATUS = (["prospect", "active", "won", "lost"], [0.55, 0.15, 0.05, 0.25])
POOL_ENTRY = (["created", "released", "recycled"], [0.40, 0.25, 0.35])

CUSTOMER_COLUMNS = [
    "id", "company_id", "name", "name_normalized", "industry", "size", "tier", "source",
    "region", "address", "latitude", "longitude", "phone", "phone_normalized", "status",
    "tags", "custom_fields", "owner_id", "pool_id", "claimed_at", "last_followup_at",
    "next_followup_at", "last_deal_at", "recycle_at", "recycle_reason", "recycle_check_at",
    "pooled_at",
    "pool_reason", "pool_entry_kind", "previous_owner_id", "created_by", "version",
    "created_at", "updated_at", "deleted_at",
]  # fmt: skip
COLLABORATOR_COLUMNS = ["customer_id", "user_id", "company_id", "role", "added_by", "created_at"]

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", flush=True)


# ---------- database lifecycle ----------


def _split_url(url: str) -> tuple[str, str]:
    """(URL of the maintenance database 'postgres', name of the target database)."""
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://"))
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--database-url must name a database")
    return urlunsplit(parts._replace(path="/postgres")), name


def plain_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def recreate_database(url: str) -> None:
    maintenance, name = _split_url(url)
    if name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop {name}")
    conn = await asyncpg.connect(maintenance)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    finally:
        await conn.close()


def migrate(url: str, revision: str = "head") -> None:
    env = {**os.environ, "DATABASE_URL": plain_url(url), "OUTFIELD_ENV": "development"}
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", revision], cwd=REPO, env=env, check=True
    )


# ---------- the organisation ----------


@dataclass
class Rep:
    id: uuid.UUID
    city: int  # index into CITIES
    team: uuid.UUID


@dataclass
class Org:
    company_id: uuid.UUID
    pool_id: uuid.UUID
    reps: list[Rep]
    team_reps: dict[uuid.UUID, list[Rep]] = field(default_factory=dict)
    city_reps: list[list[Rep]] = field(default_factory=list)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


async def create_org(url: str, args: argparse.Namespace, rng: random.Random, now: datetime) -> Org:
    """Company, department tree, users, default pool and settings — via the app's models."""
    from sqlalchemy import update
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    from app.auth.passwords import hash_password
    from app.customers.models import PoolSettings
    from app.customers.pools import ensure_company_pools
    from app.org.models import Company, Department, User
    from app.pipeline.defaults import create_default_pipeline

    if args.departments < 2:
        raise SystemExit("--departments must be at least 2 (a root and one team)")
    engine = create_async_engine(
        plain_url(url).replace("postgresql://", "postgresql+asyncpg://"), poolclass=NullPool
    )
    founded = now - timedelta(days=800)
    password_hash = hash_password(args.password)
    company_id = _uuid(rng)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        session.add(
            Company(
                id=company_id,
                name="Outfield 基准公司 Bench Co.",
                time_zone="Asia/Shanghai",
                version=1,
                created_at=founded,
                updated_at=founded,
            )
        )
        await session.flush()

        def department(name: str, parent: Department | None) -> Department:
            node = Department(
                id=_uuid(rng),
                company_id=company_id,
                parent_id=parent.id if parent else None,
                name=name,
                version=1,
                created_at=founded,
                updated_at=founded,
            )
            node.path = f"{parent.path if parent else '/'}{node.id}/"
            session.add(node)
            return node

        root = department("Outfield 基准公司 Bench Co.", None)
        n_regions = min(len(CITIES), args.departments - 1)
        regions = [department(f"{CITIES[c][1]}大区", root) for c in range(n_regions)]
        n_teams = args.departments - 1 - n_regions
        teams: list[tuple[Department, int]] = []  # (team, city index)
        for t in range(n_teams):
            city = t % n_regions
            number = t // n_regions + 1
            teams.append((department(f"{CITIES[city][1]}销售{number}组", regions[city]), city))
        if not teams:  # tiny trees: reps sit in the regions
            teams = [(region, c) for c, region in enumerate(regions)]
        await session.flush()

        def user(email: str, role: str, dept: Department) -> User:
            person = User(
                id=_uuid(rng),
                company_id=company_id,
                department_id=dept.id,
                email=email,
                name=_person(rng),
                role=role,
                locale="zh-CN",
                phone=None,
                password_hash=password_hash,
                token_version=1,
                is_active=True,
                version=1,
                created_at=founded,
                updated_at=founded,
            )
            session.add(person)
            return person

        user(f"admin@{DOMAIN}", "admin", root)
        manager_places = [r for r in regions] + [t for t, _ in teams]
        for m in range(args.managers):
            user(f"manager{m + 1:03d}@{DOMAIN}", "manager", manager_places[m % len(manager_places)])
        reps = []
        for r in range(args.reps):
            team, city = teams[r % len(teams)]
            person = user(f"rep{r + 1:03d}@{DOMAIN}", "rep", team)
            reps.append(Rep(person.id, city, team.id))
        await session.flush()
        pool = await ensure_company_pools(session, company_id)
        await create_default_pipeline(session, company_id)  # what signup gives a company
        await session.flush()
        await session.execute(
            update(PoolSettings)
            .where(PoolSettings.company_id == company_id)
            .values(holding_cap=args.holding_cap)
        )
        pool_id = pool.id
        await session.commit()
    await engine.dispose()
    org = Org(company_id, pool_id, reps)
    for rep in reps:
        org.team_reps.setdefault(rep.team, []).append(rep)
    org.city_reps = [[r for r in reps if r.city == c] for c in range(len(CITIES))]
    log(
        f"organisation: 1 company, {1 + n_regions + n_teams} departments "
        f"({n_regions} regions, {n_teams} teams), 1 admin, {args.managers} managers, "
        f"{args.reps} reps; holding_cap={args.holding_cap}"
    )
    return org


# ---------- customers ----------


class CustomerFactory:
    """Makes customer rows (tuples in CUSTOMER_COLUMNS order), unique names and phones."""

    def __init__(
        self, rng: random.Random, org: Org, now: datetime, pool_fraction: float, deleted: float
    ) -> None:
        from app.customers import rules

        self.rules = rules
        self.recycle = rules.RecycleRules(no_followup_days=15, no_deal_days=30, won_exempt=True)
        self.warning_days = 3  # the default pool's, as ensure_company_pools makes it
        self.rng = rng
        self.org = org
        self.now = now
        self.pool_fraction = pool_fraction
        self.deleted = deleted
        self.names: set[str] = set()
        self.phones: set[str] = set()
        self.rep_weights = list(
            _cumulative([rng.uniform(0.5, 1.5) for _ in org.reps])
        )  # mildly uneven load
        self.city_weights = list(_cumulative([c[4] for c in CITIES]))
        self.industry_weights = list(_cumulative([i[1] for i in INDUSTRIES]))
        self.collaborators: list[tuple] = []

    def _when(self, earliest: datetime, latest: datetime) -> datetime:
        span = max((latest - earliest).total_seconds(), 0.0)
        return earliest + timedelta(seconds=self.rng.random() * span)

    def _name(self, city: int, industry: int) -> tuple[str, str]:
        rng = self.rng
        words = INDUSTRIES[industry][2]
        while True:
            brand = "".join(rng.choice(BRAND_CHARS) for _ in range(rng.choice((2, 3, 3))))
            prefix = CITIES[city][1] if rng.random() < 0.7 else ""
            name = f"{prefix}{brand}{rng.choice(words)}{rng.choice(COMPANY_SUFFIXES)}"
            key = self.rules.normalise_name(name)
            if key not in self.names:
                self.names.add(key)
                return name, key

    def _phone(self, city: int) -> tuple[str | None, str | None]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.72:
            while True:
                digits = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
                style = rng.random()
                if style < 0.6:
                    shown = digits
                elif style < 0.85:
                    shown = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
                else:
                    shown = f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
                key = self.rules.normalise_phone(shown)
                if key not in self.phones:
                    self.phones.add(key)
                    return shown, key
        if roll < 0.80:
            code = CITIES[city][5]
            while True:
                shown = f"{code}-{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
                key = self.rules.normalise_phone(shown)
                if key not in self.phones:
                    self.phones.add(key)
                    return shown, key
        return None, None

    def _point(self, city: int) -> tuple[float, float]:
        rng = self.rng
        _, _, lat0, lng0, *_ = CITIES[city]
        while True:
            dn, de = rng.gauss(0.0, 10.0), rng.gauss(0.0, 10.0)  # km
            if dn * dn + de * de <= 900.0:
                lat = lat0 + dn / 111.0
                lng = lng0 + de / (111.0 * math.cos(math.radians(lat0)))
                return round(lat, 6), round(lng, 6)

    def make(self, count: int) -> list[tuple]:
        rng, org, now = self.rng, self.org, self.now
        reps = org.reps
        owners = rng.choices(reps, cum_weights=self.rep_weights, k=count)
        cities = rng.choices(range(len(CITIES)), cum_weights=self.city_weights, k=count)
        industries = rng.choices(range(len(INDUSTRIES)), cum_weights=self.industry_weights, k=count)
        rows = []
        for n in range(count):
            owned = rng.random() >= self.pool_fraction
            owner = owners[n] if owned else None
            city = owner.city if owner else cities[n]
            industry = industries[n]
            age = 730.0 * DAY * rng.random() ** 1.3  # more recent customers than old ones
            created_at = now - timedelta(seconds=age)
            name, name_key = self._name(city, industry)
            phone, phone_key = self._phone(city)
            lat, lng = self._point(city)
            district = rng.choice(CITIES[city][6])
            address = (
                f"{CITIES[city][1]}市{district}区{rng.choice(ROADS)}路{rng.randrange(1, 999)}号"
            )
            tags = rng.sample(TAGS, rng.choice((1, 1, 2))) if rng.random() < 0.3 else []
            custom = (
                json.dumps(
                    {"渠道": rng.choice(CHANNELS), "员工数": rng.randrange(3, 3000)},
                    ensure_ascii=False,
                )
                if rng.random() < 0.4
                else "{}"
            )
            city_reps = org.city_reps[city] or reps
            claimed_at = last_followup_at = next_followup_at = last_deal_at = None
            recycle_at = recycle_reason = pooled_at = pool_reason = pool_entry_kind = None
            previous_owner_id = None
            if owner is not None:
                status = rng.choices(*OWNED_STATUS)[0]
                if status == "won":
                    claimed_at = self._when(created_at, now)
                    last_deal_at = self._when(claimed_at, now)
                else:
                    # Owned and not won: the clock (15 d no follow-up, 30 d no deal) runs.
                    claimed_at = max(created_at, now - timedelta(days=28 * rng.random()))
                    if status == "active" and rng.random() < 0.3:
                        last_deal_at = self._when(claimed_at, now)
                if (now - claimed_at).days >= 3 or rng.random() < 0.5:
                    floor = max(claimed_at, now - timedelta(days=14))
                    last_followup_at = self._when(floor, now)
                if rng.random() < 0.6:
                    next_followup_at = now + timedelta(seconds=rng.random() * 14 * DAY)
                clock = self.rules.recycle_clock(
                    owned=True,
                    status=status,
                    claimed_at=claimed_at,
                    last_followup_at=last_followup_at,
                    last_deal_at=last_deal_at,
                    rules=self.recycle,
                )
                recycle_at, recycle_reason = clock.recycle_at, clock.recycle_reason
                created_by = owner.id if claimed_at == created_at else rng.choice(city_reps).id
                if rng.random() < 0.1:
                    previous_owner_id = rng.choice(city_reps).id
            else:
                status = rng.choices(*POOL_STATUS)[0]
                pooled_at = self._when(created_at, now)
                pool_entry_kind = rng.choices(*POOL_ENTRY)[0]
                created_by = rng.choice(city_reps).id
                if pool_entry_kind != "created":
                    previous_owner_id = rng.choice(city_reps).id
                    last_followup_at = self._when(created_at, pooled_at)
                    if pool_entry_kind == "released":
                        pool_reason = rng.choice(RELEASE_REASONS)
                else:
                    pooled_at = created_at
            deleted_at = None
            if rng.random() < self.deleted:
                deleted_at = self._when(created_at, now)
                recycle_at = recycle_reason = None
            updated_at = max(
                t
                for t in (created_at, claimed_at, last_followup_at, last_deal_at, pooled_at)
                if t is not None
            )
            if deleted_at is not None:
                updated_at = max(updated_at, deleted_at)
            customer_id = _uuid(rng)
            if owner is not None and deleted_at is None and rng.random() < 0.02:
                mates = [r for r in org.team_reps[owner.team] if r.id != owner.id]
                if mates:
                    self.collaborators.append(
                        (
                            customer_id,
                            rng.choice(mates).id,
                            org.company_id,
                            rng.choice(("技术支持", "售后", "协同销售")),
                            owner.id,
                            self._when(claimed_at, now),
                        )
                    )
            rows.append(
                (
                    customer_id,
                    org.company_id,
                    name,
                    name_key,
                    INDUSTRIES[industry][0],
                    rng.choices(SIZES, SIZE_WEIGHTS)[0],
                    rng.choices(TIERS, TIER_WEIGHTS)[0],
                    rng.choice(SOURCES),
                    CITIES[city][1],
                    address,
                    lat,
                    lng,
                    phone,
                    phone_key,
                    status,
                    tags,
                    custom,
                    owner.id if owner else None,
                    org.pool_id,
                    claimed_at,
                    last_followup_at,
                    next_followup_at,
                    last_deal_at,
                    recycle_at,
                    recycle_reason,
                    self.rules.recycle_check_at(recycle_at, self.warning_days),
                    pooled_at,
                    pool_reason,
                    pool_entry_kind,
                    previous_owner_id,
                    created_by,
                    1,
                    created_at,
                    updated_at,
                    deleted_at,
                )
            )
        return rows


def _cumulative(weights: list[float]):  # noqa: ANN202
    total = 0.0
    for weight in weights:
        total += weight
        yield total


async def load_customers(
    url: str, args: argparse.Namespace, rng: random.Random, org: Org, now: datetime
) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute("SET session_replication_role = replica")  # no FK triggers
        await conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = await conn.fetch(
            """
            SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            LEFT JOIN pg_constraint c ON c.conindid = i.oid
            WHERE x.indrelid = 'customers'::regclass AND c.oid IS NULL
            ORDER BY i.relname
            """
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["name"]}"')
        log(f"dropped {len(indexes)} secondary indexes of customers for the load")

        factory = CustomerFactory(rng, org, now, args.pool_fraction, args.deleted_fraction)
        done = 0
        generated_s = copied_s = 0.0
        while done < args.customers:
            count = min(args.chunk, args.customers - done)
            t0 = time.perf_counter()
            rows = factory.make(count)
            t1 = time.perf_counter()
            await conn.copy_records_to_table("customers", records=rows, columns=CUSTOMER_COLUMNS)
            t2 = time.perf_counter()
            generated_s += t1 - t0
            copied_s += t2 - t1
            done += count
            log(f"customers: {done:>9,} / {args.customers:,}")
        log(f"customers loaded (generate {generated_s:.1f}s in Python, COPY {copied_s:.1f}s)")

        await conn.copy_records_to_table(
            "customer_collaborators", records=factory.collaborators, columns=COLLABORATOR_COLUMNS
        )
        log(f"collaborators: {len(factory.collaborators):,}")

        for index in indexes:
            t0 = time.perf_counter()
            await conn.execute(index["definition"])
            log(f"index {index['name']} ({time.perf_counter() - t0:.1f}s)")
        await conn.execute("RESET session_replication_role")
        for table in ("customers", "customer_collaborators", "users", "departments", "pools"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        log("VACUUM ANALYZE done")
        summary = await conn.fetchrow(
            """
            SELECT count(*) AS total,
                   count(*) FILTER (WHERE owner_id IS NULL AND deleted_at IS NULL) AS in_pool,
                   count(*) FILTER (WHERE owner_id IS NOT NULL AND deleted_at IS NULL) AS owned,
                   count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
                   pg_size_pretty(pg_table_size('customers')) AS heap,
                   pg_size_pretty(pg_indexes_size('customers')) AS indexes
            FROM customers
            """
        )
        log(
            f"customers: {summary['total']:,} total, {summary['owned']:,} owned, "
            f"{summary['in_pool']:,} in the pool, {summary['deleted']:,} deleted; "
            f"table {summary['heap']}, indexes {summary['indexes']}"
        )
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(microsecond=0)
    log(f"re-creating database {_split_url(args.database_url)[1]}")
    await recreate_database(args.database_url)
    log(f"running alembic upgrade {args.revision}")
    migrate(args.database_url, args.revision)
    log("migrations applied")
    org = await create_org(args.database_url, args, rng, now)
    await load_customers(args.database_url, args, rng, org, now)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/outfield_bench"
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--departments", type=int, default=40)
    parser.add_argument("--managers", type=int, default=20)
    parser.add_argument("--pool-fraction", type=float, default=0.30)
    parser.add_argument("--deleted-fraction", type=float, default=0.01)
    parser.add_argument("--holding-cap", type=int, default=2000)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--chunk", type=int, default=50_000, help="rows per COPY")
    parser.add_argument(
        "--revision", default="head", help="migrate to this revision (a before/after base)"
    )
    args = parser.parse_args()
    if args.reps < 1:
        raise SystemExit("--reps must be at least 1")
    os.environ.setdefault("OUTFIELD_ENV", "development")
    asyncio.run(run(args))
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
