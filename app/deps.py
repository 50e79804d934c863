"""The typed dependencies every router uses: the request's session, the caller (by role) and
the page of a list — `Annotated` aliases, so a route says `session: Session, caller: Caller`
and nothing else."""

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, current_principal, require_admin
from app.core.pagination import PageParams, page_params
from app.customers.access import Access, load_customer
from app.db import SESSION

# The request's session: committed (rolled back for GET/HEAD/OPTIONS or an error) by
# `app.db.get_session` before the response is sent; services flush, never commit.
Session = Annotated[AsyncSession, SESSION]
Caller = Annotated[Principal, Depends(current_principal)]
AdminCaller = Annotated[Principal, Depends(require_admin)]
Paging = Annotated[PageParams, Depends(page_params)]


async def visible_customer(customer_id: uuid.UUID, principal: Caller, session: Session) -> Access:
    """The route's customer (path `customer_id`), loaded once under the visibility rule: 404
    when the caller may not see it. Routes that change it load it themselves, locked."""
    return await load_customer(session, principal, customer_id)


VisibleCustomer = Annotated[Access, Depends(visible_customer)]
