"""HTTP: products."""

import uuid
from typing import Any

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page, json_response
from app.core.strict import QueryBool
from app.deps import AdminCaller, Caller, Paging, Session
from app.money.products import service as products
from app.money.products.schemas import ProductCreate, ProductOut, ProductUpdate
from app.money.products.service import ProductFilters

router = APIRouter(tags=["products"])


def product_out(row: Any) -> ProductOut:
    """A product (entity or list row) as the API shows it."""
    return ProductOut(
        id=row.id,
        name=row.name,
        code=row.code,
        unit=row.unit,
        list_price=row.list_price,
        product_line=row.product_line,
        description=row.description,
        active=row.active,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.post(
    "/v1/products",
    operation_id="createProduct",
    status_code=201,
    response_model=ProductOut,
    summary="Add a product to the catalogue",
    responses={
        200: {"model": ProductOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_product(
    body: ProductCreate, response: Response, principal: AdminCaller, session: Session
) -> ProductOut:
    """Admins. `code` is unique among the company's products (409 `product_code_taken`)."""
    product, created = await products.create_product(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(product.version)
    return product_out(product)


@router.get(
    "/v1/products",
    operation_id="listProducts",
    response_model=Page[ProductOut],
    summary="List products",
    responses=problem_responses(401, 422),
)
async def list_products(
    *,
    params: Paging,
    active: QueryBool | None = Query(None, description="Admins: active or inactive ones."),
    product_line: str | None = Query(None, max_length=100),
    q: str | None = Query(None, max_length=100, description="Name or code contains."),
    principal: Caller,
    session: Session,
) -> Response:
    """Newest first. Everyone reads the catalogue; non-admins see active products only."""
    filters = ProductFilters(active=active, product_line=product_line, q=q)
    rows, next_cursor = await products.list_products(session, principal, params, filters)
    return json_response(
        Page[ProductOut](items=[product_out(row) for row in rows], next_cursor=next_cursor)
    )


@router.get(
    "/v1/products/{product_id}",
    operation_id="getProduct",
    response_model=ProductOut,
    summary="Get a product",
    responses=problem_responses(401, 404, 422),
)
async def get_product(
    product_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> ProductOut:
    """404 when deleted (or, for non-admins, inactive)."""
    product = await products.get_product(session, principal, product_id)
    response.headers["ETag"] = etag_for(product.version)
    return product_out(product)


@router.patch(
    "/v1/products/{product_id}",
    operation_id="updateProduct",
    response_model=ProductOut,
    summary="Edit a product",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_product(
    *,
    product_id: uuid.UUID,
    body: ProductUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> ProductOut:
    """Admins; `If-Match` required (428 without, 412 when stale). Contract lines keep the
    description and price they were made with."""
    product = await products.update_product(session, principal, product_id, body, if_match)
    response.headers["ETag"] = etag_for(product.version)
    return product_out(product)


@router.delete(
    "/v1/products/{product_id}",
    operation_id="deleteProduct",
    status_code=204,
    summary="Delete a product (soft)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_product(
    product_id: uuid.UUID, principal: AdminCaller, session: Session
) -> Response:
    """Admins. Gone from the catalogue; still shown on the contract lines that name it."""
    await products.delete_product(session, principal, product_id)
    return Response(status_code=204)
