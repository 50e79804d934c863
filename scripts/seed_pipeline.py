"""Demo sales pipeline and leads, made through the services the API uses (gating included).

Called by scripts.seed_demo; idempotent (skips when the demo already has opportunities):

* the default pipeline gets exit requirements on its first three stages (a follow-up before
  leaving 第一次接触; the need and the budget when leaving 找准需求; amount and expected
  close date before leaving 提供方案), and every rep's first four customers get an
  opportunity — 40 in all, spread over the stages: some open in each stage (four of them
  stale: opened ten weeks ago), six won (the deal recorded on the customer), five lost with
  a reason from the company's list;
* two lead pools — 北京区线索池 (Beijing, both departments, round robin) and 制造业线索池
  (manufacturing, pull only, the whole company) — a campaign with its cost, leads from
  exhibitions, campaigns, referrals, the website and a purchased list; some handed out by the
  round robin, some claimed, four converted (two with an opportunity).
"""

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import ProblemError
from app.customers.models import Customer
from app.feed import service as feed
from app.feed.models import FeedItem
from app.feed.schemas import CommentCreate
from app.fieldwork.followups import service as followups
from app.fieldwork.followups.schemas import FollowupCreate
from app.leads.campaigns import service as campaigns
from app.leads.campaigns.schemas import CampaignCreate
from app.leads.conversion import service as conversion
from app.leads.conversion.schemas import ConvertIn, ConvertOpportunity
from app.leads.models import Lead
from app.leads.pools import service as lead_pools
from app.leads.pools.schemas import LeadPoolCreate, PoolMemberIn
from app.leads.records import service as leads
from app.leads.records.schemas import LeadCreate, LeadSource
from app.org.models import Department, User
from app.pipeline.models import Opportunity, Pipeline, Stage
from app.pipeline.opportunities import service as opportunities
from app.pipeline.opportunities.schemas import AdvanceIn, OpportunityCreate
from app.pipeline.pipelines import service as pipelines
from app.pipeline.pipelines.schemas import FeedbackQuestion, StageUpdate

DemoId = Callable[[str], uuid.UUID]

# Where each of the 40 opportunities ends: the position of its last open stage (1–4), or
# "won" / "lost"; stale ones are open ones made ten weeks ago.
PLAN: list[int | str] = [1, 2, 3, 4, "won", 1, 2, 3, "lost", 4] * 4
PLAN[35] = "won"  # six won, five lost (the pattern gives four of each)
PLAN[39] = "won"
PLAN[29] = "lost"
STALE = {0, 11, 22, 33}
LOST_REASONS = ("价格 price", "竞争对手 competitor", "预算取消 budget cancelled")
AMOUNTS = ("18000.00", "56000.00", "128000.00", "9800.50", "320000.00", "45000.00")

LEADS: list[tuple[str, str, LeadSource, str | None, str, str]] = [
    # name, company, source, campaign, region, industry
    ("赵敏", "北京星河精密制造有限公司", "exhibition", "2026春季展会", "北京", "制造业"),
    ("钱进", "北京朝阳餐饮管理有限公司", "campaign", "双十一线上推广", "北京", "餐饮"),
    ("孙丽", "天津滨海模具有限公司", "exhibition", "2026春季展会", "天津", "制造业"),
    ("李雷", "北京海淀软件科技有限公司", "website", None, "北京", "信息技术"),
    ("周强", "河北保定机械有限公司", "purchased_list", None, "河北", "制造业"),
    ("吴芳", "北京东城商贸有限公司", "referral", None, "北京", "零售"),
    ("郑浩", "北京丰台物流有限公司", "conference", "行业峰会", "北京", "物流运输"),
    ("王静", "廊坊电子制造有限公司", "advertising", None, "河北", "制造业"),
    ("冯军", "北京西城教育科技有限公司", "campaign", "双十一线上推广", "北京", "教育培训"),
    ("陈娟", "北京通州建筑工程有限公司", "exhibition", "2026春季展会", "北京", "建筑工程"),
    ("褚明", "唐山重工机械有限公司", "purchased_list", None, "河北", "制造业"),
    ("卫红", "北京顺义医疗器械有限公司", "website", None, "北京", "医疗健康"),
    ("蒋涛", "北京大兴食品有限公司", "referral", None, "北京", "餐饮"),
    ("沈玉", "沧州精密铸造有限公司", "exhibition", "2026春季展会", "河北", "制造业"),
    ("韩冰", "北京昌平新能源科技有限公司", "conference", "行业峰会", "北京", "能源化工"),
    ("杨帆", "北京石景山文化传播有限公司", "campaign", "双十一线上推广", "北京", "教育培训"),
]


async def principal_of(session: AsyncSession, user_id: uuid.UUID) -> Principal:
    """The Principal the API would build for this user."""
    row = (
        await session.execute(
            select(User.id, User.company_id, User.role, User.department_id, Department.path)
            .join(Department, Department.id == User.department_id, isouter=True)
            .where(User.id == user_id)
        )
    ).one()
    return Principal(row[0], row[1], row[2], row[3], row[4], "zh-CN")


async def _stages(session: AsyncSession, company_id: uuid.UUID) -> tuple[Pipeline, list[Stage]]:
    pipeline = await session.scalar(
        select(Pipeline).where(
            Pipeline.company_id == company_id,
            Pipeline.is_default.is_(True),
            Pipeline.deleted_at.is_(None),
        )
    )
    assert pipeline is not None, "the demo company has its default pipeline"
    stages = list(
        (
            await session.scalars(
                select(Stage)
                .where(Stage.pipeline_id == pipeline.id, Stage.retired_at.is_(None))
                .order_by(Stage.position)
            )
        ).all()
    )
    return pipeline, stages


async def _require(
    session: AsyncSession, admin: Principal, pipeline: Pipeline, stages: list[Stage]
) -> None:
    asks = {
        1: StageUpdate(required_evidence=["followup"]),
        2: StageUpdate(
            required_feedback=[
                FeedbackQuestion(key="need", label="客户需求 The need", type="text"),
                FeedbackQuestion(key="budget", label="预算 Budget (CNY)", type="number"),
            ]
        ),
        3: StageUpdate(required_fields=["amount", "expected_close_date"]),
    }
    for stage in stages:
        if stage.position in asks:
            await pipelines.update_stage(
                session, admin, pipeline.id, stage.id, asks[stage.position], f'"{stage.version}"'
            )


async def _walk(
    session: AsyncSession,
    rep: Principal,
    opportunity: Opportunity,
    stages: list[Stage],
    goal: int | str,
    n: int,
) -> None:
    """Advance one step at a time to `goal`, giving what each stage asks."""
    open_stages = [s for s in stages if s.kind == "open"]
    last_open = goal if isinstance(goal, int) else len(open_stages)
    if goal == "lost":
        last_open = 1 + n % 3
    for position in range(2, last_open + 1):
        if position == 2:  # leaving 第一次接触 needs a follow-up since it was entered
            await followups.create_followup(
                session,
                rep,
                FollowupCreate(
                    customer_id=opportunity.customer_id,
                    kind="visit",
                    text="初次拜访，了解客户现状 First visit: how they work today.",
                ),
            )
        feedback: dict[str, str | int | float | bool | None] = {
            "need": "提升门店巡检效率 Faster store audits",
            "budget": 50000 + n * 1000,
        }
        await opportunities.advance(
            session,
            rep,
            opportunity.id,
            AdvanceIn(
                to_stage_id=open_stages[position - 1].id,
                feedback=feedback if position == 3 else {},
            ),
            None,
        )
    if goal in ("won", "lost"):
        terminal = next(s for s in stages if s.kind == goal)
        await opportunities.advance(
            session,
            rep,
            opportunity.id,
            AdvanceIn(
                to_stage_id=terminal.id,
                lost_reason=LOST_REASONS[n % len(LOST_REASONS)] if goal == "lost" else None,
                note="签约成功 Signed." if goal == "won" else "客户选择了其他方案 Went elsewhere.",
            ),
            None,
        )


async def seed_opportunities(session: AsyncSession, company_id: uuid.UUID, demo_id: DemoId) -> int:
    admin = await principal_of(session, demo_id("user:admin"))
    pipeline, stages = await _stages(session, company_id)
    await _require(session, admin, pipeline, stages)
    await session.flush()
    stages = (await _stages(session, company_id))[1]
    made = 0
    for rep_number in range(1, 11):
        rep = await principal_of(session, demo_id(f"user:rep{rep_number:02d}"))
        customers = list(
            (
                await session.scalars(
                    select(Customer.id)
                    .where(Customer.owner_id == rep.user_id, Customer.deleted_at.is_(None))
                    .order_by(Customer.created_at, Customer.id)
                    .limit(4)
                )
            ).all()
        )
        for k, customer_id in enumerate(customers):
            n = (rep_number - 1) * 4 + k
            goal = PLAN[n]
            needs_money = goal in ("won", "lost") or (isinstance(goal, int) and goal >= 4)
            opportunity, _ = await opportunities.create_opportunity(
                session,
                rep,
                OpportunityCreate(
                    id=demo_id(f"opportunity:{n}"),
                    customer_id=customer_id,
                    name=f"门店巡检系统 {n + 1:02d} Store audit system",
                    amount=Decimal(AMOUNTS[n % len(AMOUNTS)]) if needs_money or n % 2 else None,
                    expected_close_date=(now() + timedelta(days=20 + 9 * n)).date()
                    if needs_money or n % 3
                    else None,
                    competitors=["竞品甲 Rival A"] if n % 4 == 0 else [],
                    source="展会 exhibition" if n % 2 else "转介绍 referral",
                ),
            )
            await _walk(session, rep, opportunity, stages, goal, n)
            made += 1
    await session.flush()
    # Four open ones were opened ten weeks ago: past the pipeline's 42 days, so stale.
    stale_ids = [demo_id(f"opportunity:{n}") for n in STALE]
    back = timedelta(days=70)
    await session.execute(
        text(
            "UPDATE opportunities SET created_at = created_at - make_interval(days => :days), "
            "stage_entered_at = stage_entered_at - make_interval(days => :days) "
            "WHERE id = ANY(:ids)"
        ),
        {"days": back.days, "ids": stale_ids},
    )
    await session.execute(
        text(
            "UPDATE stage_history SET at = at - make_interval(days => :days) "
            "WHERE opportunity_id = ANY(:ids)"
        ),
        {"days": back.days, "ids": stale_ids},
    )
    return made


async def seed_leads(session: AsyncSession, company_id: uuid.UUID, demo_id: DemoId) -> int:
    admin = await principal_of(session, demo_id("user:admin"))
    beijing, _ = await lead_pools.create_pool(
        session,
        admin,
        LeadPoolCreate(
            id=demo_id("lead-pool:beijing"),
            name="北京区线索池 Beijing leads",
            region="北京",
            members=[
                PoolMemberIn(department_id=demo_id("department:east")),
                PoolMemberIn(department_id=demo_id("department:west")),
            ],
            mode="both",
            assignment="round_robin",
            daily_claim_limit=10,
            holding_cap=30,
            recycle_after_days=14,
        ),
    )
    await lead_pools.create_pool(
        session,
        admin,
        LeadPoolCreate(
            id=demo_id("lead-pool:manufacturing"),
            name="制造业线索池 Manufacturing leads",
            industry="制造业",
            members=[PoolMemberIn(department_id=demo_id("department:head"))],
            mode="pull",
            assignment="manual",
            daily_claim_limit=5,
            holding_cap=20,
            recycle_after_days=21,
        ),
    )
    campaign_list: tuple[tuple[str, LeadSource, str], ...] = (
        ("2026春季展会", "exhibition", "36000.00"),
        ("双十一线上推广", "campaign", "12500.00"),
        ("行业峰会", "conference", "8000.00"),
    )
    for name, source, cost in campaign_list:
        await campaigns.create_campaign(
            session,
            admin,
            CampaignCreate(
                id=demo_id(f"campaign:{name}"), name=name, source=source, cost=Decimal(cost)
            ),
        )
    made: list[Lead] = []
    for n, (person, company_name, source, campaign, region, industry) in enumerate(LEADS):
        lead, _ = await leads.create_lead(
            session,
            admin,
            LeadCreate(
                id=demo_id(f"lead:{n}"),
                name=person,
                company_name=company_name,
                phone=f"1390100{n:04d}",
                email=f"lead{n:02d}@example.cn",
                source=source,
                campaign=campaign,
                region=region,
                industry=industry,
                in_pool=True,
            ),
        )
        made.append(lead)
    await session.flush()
    # The manufacturing pool is pull only: two reps claim from it.
    rep01 = await principal_of(session, demo_id("user:rep01"))
    rep04 = await principal_of(session, demo_id("user:rep04"))
    pulled = [lead for lead in made if lead.owner_id is None][:4]
    for k, lead in enumerate(pulled):
        await lead_pools.claim_lead(session, rep01 if k % 2 == 0 else rep04, lead.pool_id, lead.id)
    await session.flush()
    # Four converted by their owners: two with an opportunity in the first stage.
    owned = list(
        (
            await session.scalars(
                select(Lead)
                .where(Lead.company_id == company_id, Lead.owner_id.is_not(None))
                .order_by(Lead.created_at, Lead.id)
                .limit(4)
            )
        ).all()
    )
    for k, lead in enumerate(owned):
        assert lead.owner_id is not None
        owner = await principal_of(session, lead.owner_id)
        await conversion.convert_lead(
            session,
            owner,
            lead.id,
            ConvertIn(
                opportunity=ConvertOpportunity(
                    name=f"{lead.company_name} 首单 First order", amount=Decimal("26000.00")
                )
                if k < 2
                else None
            ),
        )
    return len(made)


async def _sees(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> bool:
    try:
        await feed.visible_item(session, principal, item_id)
    except ProblemError:
        return False
    return True


async def cheer_the_wins(session: AsyncSession, company_id: uuid.UUID, demo_id: DemoId) -> None:
    """The managers like the latest stage moves on the feed and congratulate the wins."""
    items = list(
        (
            await session.scalars(
                select(FeedItem)
                .where(FeedItem.company_id == company_id, FeedItem.kind == "opportunity")
                .order_by(FeedItem.created_at.desc(), FeedItem.id)
                .limit(12)
            )
        ).all()
    )
    managers = [await principal_of(session, demo_id(f"user:manager0{n}")) for n in (1, 2)]
    for index, item in enumerate(items):
        seeing = [m for m in managers if await _sees(session, m, item.id)]
        if not seeing:
            continue
        manager = seeing[0]
        await feed.like(session, manager, item.id)
        if index % 3 == 0:
            await feed.create_comment(
                session,
                manager,
                item.id,
                CommentCreate(
                    body="推进得好，继续跟进决策人 Well done: keep the decision maker close"
                ),
            )


async def seed_pipeline(session: AsyncSession, company_id: uuid.UUID, demo_id: DemoId) -> int:
    """Insert the demo pipeline and leads once (commits); returns the opportunities made."""
    if await session.scalar(
        select(Opportunity.id).where(Opportunity.company_id == company_id).limit(1)
    ):
        return 0
    made = await seed_opportunities(session, company_id, demo_id)
    await seed_leads(session, company_id, demo_id)
    await cheer_the_wins(session, company_id, demo_id)
    await session.commit()
    return made
