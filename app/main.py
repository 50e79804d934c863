"""create_app(): routers, middleware, exception handlers, lifespan."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.approvals.router import router as approvals_router
from app.attendance.router import router as attendance_router
from app.auth.principal import check_bearer
from app.auth.router import router as auth_router
from app.auth.tokens import token_scope
from app.config import get_settings
from app.core.errors import install_error_handlers
from app.core.idempotency import IdempotencyMiddleware
from app.core.methods import install_method_not_allowed
from app.core.observability import RequestContextMiddleware, configure_logging
from app.core.openapi import install_openapi
from app.core.redis import close_redis
from app.core.request_guard import install_request_guard
from app.coverage.router import router as coverage_router
from app.customers.contacts_router import router as contacts_router
from app.customers.pool_router import router as pool_router
from app.customers.router import router as customers_router
from app.dashboard.router import router as dashboard_router
from app.db import dispose_engine
from app.feed.router import router as feed_router
from app.fieldwork.checkins.router import router as checkins_router
from app.fieldwork.files.router import router as files_router
from app.fieldwork.followups.router import router as followups_router
from app.fieldwork.logs.router import router as logs_router
from app.fieldwork.plans.route_router import router as route_router
from app.fieldwork.plans.router import router as plans_router
from app.leads.campaigns.router import router as lead_campaigns_router
from app.leads.conversion.router import router as lead_conversion_router
from app.leads.imports.router import router as lead_imports_router
from app.leads.pools.router import router as lead_pools_router
from app.leads.records.router import router as leads_router
from app.money.contracts.router import router as contracts_router
from app.money.payments.router import router as payments_router
from app.money.plans.router import router as payment_plans_router
from app.money.products.router import router as products_router
from app.notifications.devices.router import router as devices_router
from app.notifications.inbox.router import router as notifications_router
from app.notifications.webhooks.router import router as webhooks_router
from app.ops.docs import install_docs
from app.ops.router import router as ops_router
from app.org.router import router as org_router
from app.org.settings_router import router as company_settings_router
from app.pipeline.opportunities.router import router as opportunities_router
from app.pipeline.pipelines.router import router as pipelines_router
from app.reports.achievement_router import router as achievement_router
from app.reports.leads_router import router as lead_reports_router
from app.reports.map_router import router as map_router
from app.reports.money_router import router as money_reports_router
from app.reports.pipeline_router import router as pipeline_reports_router
from app.reports.receivables_router import router as receivables_router
from app.reports.router import router as reports_router
from app.reports.work_router import router as work_reports_router
from app.targets.router import router as targets_router
from app.tasks.router import router as tasks_router
from app.tickets.router import router as tickets_router

DESCRIPTION = """
The API of Outfield, a mobile field-sales CRM.

* Errors are RFC 9457 `application/problem+json` with a stable `code`.
* Unsafe methods accept `Idempotency-Key` (kept 24 h; same key + same body replays the response).
* Lists are cursor-paginated: `limit` (1–100, default 20) and `cursor` → `next_cursor`.
* Authenticate with `POST /v1/auth/token`, then `Authorization: Bearer <access_token>`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The ~300k objects of start-up (routes, schemas, the OpenAPI models) never die: moved out
    # of the collector's sight, a full collection no longer walks them mid-request (measured:
    # 195–324 ms pauses in a report's p99, bench/README.md).
    gc.collect()
    gc.freeze()
    yield
    await dispose_engine()
    await close_redis()


def create_app() -> FastAPI:
    """The ASGI application."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Outfield API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # self-hosted pages: app/ops/docs.py
        redoc_url=None,
    )
    install_openapi(app)
    install_docs(app)
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware, token_scope=token_scope, caller_check=check_bearer)
    install_method_not_allowed(app)  # outside idempotency: a 405 claims no key
    install_request_guard(app)
    app.add_middleware(RequestContextMiddleware)
    if settings.trusted_proxy_list:
        # Outermost: every layer sees the client a trusted proxy named (right-most untrusted
        # X-Forwarded-For address). Run uvicorn with --no-proxy-headers (see README).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    for router in (
        ops_router,
        auth_router,
        org_router,
        company_settings_router,
        dashboard_router,
        customers_router,
        contacts_router,
        pool_router,
        files_router,
        checkins_router,
        followups_router,
        logs_router,
        route_router,  # before plans_router: /v1/visit-plans/suggestions is not an id
        plans_router,
        reports_router,
        pipelines_router,
        opportunities_router,
        pipeline_reports_router,
        lead_pools_router,
        leads_router,
        lead_imports_router,
        lead_conversion_router,
        lead_campaigns_router,
        lead_reports_router,
        products_router,
        contracts_router,
        payment_plans_router,
        payments_router,
        approvals_router,
        money_reports_router,
        receivables_router,
        targets_router,
        achievement_router,
        work_reports_router,
        coverage_router,
        map_router,
        attendance_router,
        tasks_router,
        tickets_router,
        feed_router,
        notifications_router,
        devices_router,
        webhooks_router,
    ):
        app.include_router(router)
    return app


app = create_app()
