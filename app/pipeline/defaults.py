"""What a new company starts with: the default pre-sale pipeline (guidance on every stage, no
exit requirements until an admin adds them) and the list of lost reasons.

Migration 0011 gave every existing company the same, from the same figures (copied there,
as a migration never imports the app)."""

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.org.models import Company, User
from app.pipeline.models import LostReason, Pipeline, Stage

DEFAULT_PIPELINE_NAME = "售前流程"


@dataclass(frozen=True)
class StageDefault:
    name: str
    probability: int
    kind: str
    guidance: str
    cautions: str


DEFAULT_STAGES: tuple[StageDefault, ...] = (
    StageDefault(
        "第一次接触",
        10,
        "open",
        "First contact: introduce yourself and the company, find who decides and who uses.",
        "Do not quote yet: the need is not known.",
    ),
    StageDefault(
        "找准需求",
        30,
        "open",
        "Needs found: what problem, how big, by when, with what budget.",
        "Confirm the need with the person who decides, not only the one who uses.",
    ),
    StageDefault(
        "提供方案",
        60,
        "open",
        "Proposal: a solution and a price that answer the need found.",
        "Watch the competitors named; keep the discount for the negotiation.",
    ),
    StageDefault(
        "商务谈判",
        80,
        "open",
        "Negotiation: terms, price, payment schedule, the contract.",
        "Every concession asks for one in return.",
    ),
    StageDefault("赢单", 100, "won", "Won: the contract is signed.", "Hand over to delivery."),
    StageDefault("输单", 0, "lost", "Lost: record why.", "Ask what would have won it."),
)

DEFAULT_LOST_REASONS: tuple[str, ...] = (
    "价格 price",
    "竞争对手 competitor",
    "预算取消 budget cancelled",
    "需求变化 need changed",
    "无法联系 unreachable",
    "其他 other",
)


async def create_default_pipeline(session: AsyncSession, company_id: uuid.UUID) -> Pipeline:
    """The company's default pre-sale pipeline with its stages (caller commits)."""
    at = now()
    pipeline = Pipeline(
        id=uuid.uuid4(),
        company_id=company_id,
        name=DEFAULT_PIPELINE_NAME,
        kind="pre_sale",
        is_default=True,
        allow_skip=False,
        allow_backward=False,
        stale_after_days=42,
        version=1,
        created_at=at,
        updated_at=at,
    )
    session.add(pipeline)
    await session.flush()
    for position, stage in enumerate(DEFAULT_STAGES, start=1):
        session.add(
            Stage(
                id=uuid.uuid4(),
                company_id=company_id,
                pipeline_id=pipeline.id,
                name=stage.name,
                position=position,
                probability=stage.probability,
                kind=stage.kind,
                guidance=stage.guidance,
                cautions=stage.cautions,
                required_fields=[],
                required_feedback=[],
                required_evidence=[],
                version=1,
                created_at=at,
                updated_at=at,
            )
        )
    for position, label in enumerate(DEFAULT_LOST_REASONS, start=1):
        session.add(
            LostReason(
                id=uuid.uuid4(),
                company_id=company_id,
                label=label,
                position=position,
                created_at=at,
            )
        )
    await session.flush()
    return pipeline


async def on_signup(session: AsyncSession, company: Company, admin: User) -> None:
    """A new company gets its default pipeline and lost reasons."""
    await create_default_pipeline(session, company.id)
