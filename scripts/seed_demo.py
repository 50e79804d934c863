"""Seed (idempotently) the demo company: a department tree, an admin, managers, ten reps,
a few hundred customers around Beijing (owned and in the pool) with contacts and collaborators,
and three weeks of field work (scripts/seed_fieldwork.py).

`make run` calls it; re-running it changes nothing. Refuses to run in production.
"""

import asyncio
import random
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.auth.passwords import hash_password
from app.auth.principal import Principal
from app.config import get_settings
from app.core.clock import now
from app.customers import deals, rules, transitions
from app.customers.models import Collaborator, Contact, Customer, Deal
from app.customers.pools import ensure_company_pools, pool_settings, recycle_rules
from app.db import dispose_engine, session_factory
from app.org.models import Company, Department, User
from app.pipeline.defaults import create_default_pipeline
from scripts.seed_attendance import seed_attendance
from scripts.seed_fieldwork import seed_fieldwork
from scripts.seed_money import seed_money
from scripts.seed_pipeline import seed_pipeline
from scripts.seed_privacy import seed_privacy
from scripts.seed_targets import seed_targets
from scripts.seed_tasks_tickets import seed_tasks_tickets

DEMO_DOMAIN = "demo.outfield.test"
DEMO_PASSWORD = "outfield-demo"
# Fixed ids so the demo is the same on every machine.
NAMESPACE = uuid.UUID("6f1f3c1e-8d1a-4b8e-9b1e-0d3c5a7e9f10")


def demo_id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


TREE = [  # (key, name, parent key)
    ("head", "总部 Head office", None),
    ("east", "北京东区 Beijing East", "head"),
    ("west", "北京西区 Beijing West", "head"),
    ("east-1", "东区一组 East Team 1", "east"),
    ("east-2", "东区二组 East Team 2", "east"),
    ("west-1", "西区一组 West Team 1", "west"),
]
PEOPLE = [
    ("admin", "管理员 Admin", "admin", "head"),
    ("manager01", "张经理 Manager Zhang", "manager", "east"),
    ("manager02", "李经理 Manager Li", "manager", "west"),
]
PEOPLE += [
    (f"rep{n:02d}", f"销售{n:02d} Rep {n:02d}", "rep", ("east-1", "east-2", "west-1")[(n - 1) % 3])
    for n in range(1, 11)
]


async def seed() -> list[str]:
    """Create what is missing; return the demo logins."""
    company_id = demo_id("company")
    async with session_factory()() as session:
        if await session.get(Company, company_id) is None:
            session.add(
                Company(id=company_id, name="Outfield 演示公司 Demo Co.", time_zone="Asia/Shanghai")
            )
            await session.flush()
            await create_default_pipeline(session, company_id)  # what signup gives a company
        paths: dict[str, str] = {}
        for key, name, parent in TREE:
            department_id = demo_id(f"department:{key}")
            paths[key] = (paths[parent] if parent else "/") + f"{department_id}/"
            if await session.get(Department, department_id) is None:
                session.add(
                    Department(
                        id=department_id,
                        company_id=company_id,
                        name=name,
                        parent_id=demo_id(f"department:{parent}") if parent else None,
                        path=paths[key],
                        version=1,
                    )
                )
                await session.flush()
        existing = set(
            (
                await session.execute(select(User.email).where(User.company_id == company_id))
            ).scalars()
        )
        password_hash = None
        for key, name, role, department in PEOPLE:
            email = f"{key}@{DEMO_DOMAIN}"
            if email in existing:
                continue
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            session.add(
                User(
                    id=demo_id(f"user:{key}"),
                    company_id=company_id,
                    department_id=demo_id(f"department:{department}"),
                    email=email,
                    name=name,
                    role=role,
                    locale="zh-CN",
                    password_hash=password_hash,
                    token_version=1,
                    is_active=True,
                    version=1,
                )
            )
        await session.commit()
        await seed_customers(session, company_id)
        await seed_fieldwork(session, company_id, demo_id)
        await seed_deals(session, company_id)
        await seed_pipeline(session, company_id, demo_id)
        await seed_money(session, company_id, demo_id)
        await seed_targets(session, company_id, demo_id)
        await seed_attendance(session, company_id, demo_id)
        await seed_tasks_tickets(session, company_id, demo_id)
        await seed_privacy(session, company_id)
    await dispose_engine()
    return [f"{key}@{DEMO_DOMAIN}" for key, *_ in PEOPLE]


DEAL_AMOUNTS = ("12800.00", "56000.00", "3980.50", "220000.00", "8800.00")


async def seed_deals(session, company_id: uuid.UUID) -> None:  # noqa: ANN001 - an AsyncSession
    """A few closed deals, recorded through the one deal door (clock, deal_won, webhook)."""
    at = now()
    for n, amount in enumerate(DEAL_AMOUNTS):
        deal_id = demo_id(f"deal:{n}")
        if await session.get(Deal, deal_id) is not None:
            continue
        customer = await session.get_one(Customer, demo_id(f"customer:{n}"))
        assert customer.owner_id is not None, "the first demo customers are owned"
        owner = Principal(customer.owner_id, company_id, "rep", None, None, "zh-CN")
        await deals.close_deal(
            session,
            owner,
            customer,
            deal_id=deal_id,
            amount=Decimal(amount),
            note="演示订单 demo order",
            at=at - timedelta(days=n),
        )
    await session.commit()


# Real places around Beijing (WGS-84): business districts the demo reps visit.
PLACES = [
    ("国贸 CBD", 39.9087, 116.4605),
    ("三里屯 Sanlitun", 39.9335, 116.4550),
    ("中关村 Zhongguancun", 39.9835, 116.3162),
    ("望京 Wangjing", 39.9968, 116.4703),
    ("金融街 Financial Street", 39.9155, 116.3590),
    ("亦庄 Yizhuang", 39.7950, 116.5060),
    ("西单 Xidan", 39.9070, 116.3740),
    ("上地 Shangdi", 40.0330, 116.3070),
    ("通州 Tongzhou", 39.9090, 116.6570),
    ("丰台科技园 Fengtai Science Park", 39.8260, 116.2870),
]
INDUSTRIES = [
    "零售 retail",
    "金融 finance",
    "制造 manufacturing",
    "医疗 healthcare",
    "教育 education",
    "物流 logistics",
    "餐饮 catering",
    "软件 software",
]
SURNAMES = "王李张刘陈杨赵黄周吴"
CUSTOMER_COUNT = 300
OWNED_PER_REP = 15


async def seed_customers(session, company_id: uuid.UUID) -> None:
    """Create the demo customers that are missing (deterministic ids, names and places)."""
    existing = set(
        (
            await session.execute(select(Customer.id).where(Customer.company_id == company_id))
        ).scalars()
    )
    if len(existing) >= CUSTOMER_COUNT:
        return
    pool = await ensure_company_pools(session, company_id)
    settings = await pool_settings(session, company_id)
    randomness = random.Random(20261123)  # noqa: S311 - demo data, not security
    at = now()
    for n in range(CUSTOMER_COUNT):
        place, lat, lng = PLACES[n % len(PLACES)]
        industry = INDUSTRIES[n % len(INDUSTRIES)]
        tier = "ABC"[n % 3]
        jitter_lat, jitter_lng = randomness.gauss(0, 0.01), randomness.gauss(0, 0.012)
        customer_id = demo_id(f"customer:{n}")
        if customer_id in existing:
            continue
        rep_number = n % 10 + 1 if n < OWNED_PER_REP * 10 else None
        owner_id = demo_id(f"user:rep{rep_number:02d}") if rep_number else None
        name = f"{place.split()[0]}{industry.split()[0]}客户{n + 1:03d}有限公司"
        claimed_at = at - timedelta(days=randomness.randint(0, 12)) if owner_id else None
        last_followup = (
            claimed_at + timedelta(days=randomness.randint(0, 2)) if claimed_at else None
        )
        clock = rules.recycle_clock(
            owned=owner_id is not None,
            status="active",
            claimed_at=claimed_at,
            last_followup_at=last_followup,
            last_deal_at=None,
            rules=recycle_rules(pool, settings),
        )
        customer = Customer(
            id=customer_id,
            company_id=company_id,
            name=name,
            name_normalized=rules.normalise_name(name),
            industry=industry,
            size=randomness.choice(["1-50", "51-200", "201-1000", "1000+"]),
            tier=tier,
            source=randomness.choice(
                ["展会 fair", "转介绍 referral", "官网 website", "陌拜 cold visit"]
            ),
            region="北京",
            address=f"北京市 {place}",
            latitude=lat + jitter_lat,
            longitude=lng + jitter_lng,
            phone=f"1380000{n:04d}",
            phone_normalized=f"1380000{n:04d}",
            status="active",
            tags=[],
            custom_fields={"demo": True},
            owner_id=owner_id,
            pool_id=pool.id,
            claimed_at=claimed_at,
            last_followup_at=last_followup,
            recycle_at=clock.recycle_at,
            recycle_check_at=rules.recycle_check_at(clock.recycle_at, pool.warning_days),
            recycle_reason=clock.recycle_reason,
            pooled_at=None if owner_id else at,
            pool_entry_kind=None if owner_id else "created",
            created_by=demo_id("user:admin"),
            version=1,
            created_at=at - timedelta(minutes=n),
            updated_at=at,
        )
        session.add(customer)
        await session.flush()
        await transitions.publish(
            session,
            "created",
            [transitions.Changed.of(customer)],
            at=customer.created_at,
            actor_id=demo_id("user:admin"),
        )
        session.add(
            Contact(
                id=demo_id(f"contact:{n}"),
                company_id=company_id,
                customer_id=customer_id,
                name=f"{SURNAMES[n % 10]}总",
                title="总经理 General manager",
                phones=[f"1390000{n:04d}"],
                birthday=date(1970 + n % 30, n % 12 + 1, n % 28 + 1),
                is_primary=True,
                version=1,
            )
        )
        if owner_id and n % 7 == 0:
            helper = demo_id(f"user:rep{(rep_number % 10) + 1:02d}")
            session.add(
                Collaborator(
                    customer_id=customer_id,
                    user_id=helper,
                    company_id=company_id,
                    role="technical",
                    added_by=owner_id,
                    created_at=at,
                )
            )
    await session.commit()


def main() -> int:
    if get_settings().is_production:
        print("refusing to seed demo data with OUTFIELD_ENV=production", file=sys.stderr)
        return 1
    logins = asyncio.run(seed())
    print(f"demo data ready: {len(logins)} logins, password '{DEMO_PASSWORD}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
