"""Products (产品): the company's catalogue that contract lines pick from. Admins write;
everyone reads, non-admins the active ones only. A deleted product disappears from the
catalogue but stays readable on the contract lines that name it."""

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import AnyRow, savepoint, table_of
from app.money import errors
from app.money.models import Product
from app.money.products.schemas import ProductCreate, ProductUpdate

LIST_BASE = select(*table_of(Product).c)


@dataclass(frozen=True)
class ProductFilters:
    active: bool | None = None
    product_line: str | None = None
    q: str | None = None


def product_visibility(principal: Principal) -> ColumnElement[bool]:
    """The company's products that are not deleted; active ones only for non-admins."""
    base = (Product.company_id == principal.company_id) & Product.deleted_at.is_(None)
    return base if principal.is_admin else base & Product.active.is_(True)


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def list_products(
    session: AsyncSession, principal: Principal, params: PageParams, filters: ProductFilters
) -> tuple[list[AnyRow], str | None]:
    """Visible products, newest first (plain rows)."""
    stmt = LIST_BASE.where(product_visibility(principal))
    if filters.active is not None:
        stmt = stmt.where(Product.active.is_(filters.active))
    if filters.product_line is not None:
        stmt = stmt.where(Product.product_line == filters.product_line)
    if filters.q:
        pattern = _like(filters.q)
        stmt = stmt.where(or_(Product.name.ilike(pattern), Product.code.ilike(pattern)))
    rows = list(
        (await session.execute(paginate(stmt, Product.created_at, Product.id, params))).all()
    )
    return make_page(rows, params)


async def get_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, *, lock: bool = False
) -> Product:
    """One visible product, or 404."""
    stmt = select(Product).where(Product.id == product_id, product_visibility(principal))
    if lock:
        stmt = stmt.with_for_update()
    product = await session.scalar(stmt)
    if product is None:
        raise not_found("product")
    return product


async def _code_taken(
    session: AsyncSession, company_id: uuid.UUID, code: str, exclude: uuid.UUID | None
) -> bool:
    stmt = select(Product.id).where(
        Product.company_id == company_id, Product.code == code, Product.deleted_at.is_(None)
    )
    if exclude is not None:
        stmt = stmt.where(Product.id != exclude)
    return await session.scalar(stmt.limit(1)) is not None


async def create_product(
    session: AsyncSession, principal: Principal, data: ProductCreate
) -> tuple[Product, bool]:
    """A new product (admins; the router checks): (product, created). A retry with the same
    id and body answers the product already made; a code in use is 409 `product_code_taken`."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Product,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.deleted_at is None,
    )
    if existing is not None:
        return existing, False
    if await _code_taken(session, principal.company_id, data.code, None):
        raise errors.product_code_taken(data.code)
    at = now()
    product = Product(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        name=data.name,
        code=data.code,
        unit=data.unit,
        list_price=data.list_price,
        product_line=data.product_line,
        description=data.description,
        active=data.active,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(product)
    except IntegrityError as exc:
        # The partial unique index is the real check: a concurrent create took the code.
        if await _code_taken(session, principal.company_id, data.code, None):
            raise errors.product_code_taken(data.code) from exc
        raise client_ids.id_conflict() from exc
    return product, True


async def update_product(
    session: AsyncSession,
    principal: Principal,
    product_id: uuid.UUID,
    data: ProductUpdate,
    if_match: str | None,
) -> Product:
    """Edit a product (admins; If-Match required). Lines already on contracts keep their
    own description and price."""
    product = await get_product(session, principal, product_id, lock=True)
    check_if_match(if_match, product.version)
    fields = data.model_fields_set
    changes_code = "code" in fields and data.code and data.code != product.code
    if changes_code and await _code_taken(session, product.company_id, str(data.code), product.id):
        raise errors.product_code_taken(str(data.code))
    try:
        async with savepoint(session):
            for name in ("name", "code", "list_price", "active"):
                value = getattr(data, name)
                if name in fields and value is not None:
                    setattr(product, name, value)
            for name in ("unit", "product_line", "description"):
                if name in fields:
                    setattr(product, name, getattr(data, name))
            product.version += 1
            product.updated_at = now()
    except IntegrityError as exc:
        raise errors.product_code_taken(str(data.code)) from exc
    return product


async def delete_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> None:
    """Soft delete (admins): gone from the catalogue, still named on contract lines; its code
    may be given to a new product."""
    product = await get_product(session, principal, product_id, lock=True)
    product.deleted_at = now()
    product.version += 1
    await session.flush()
