"""The visibility rules of money: a contract is seen exactly like its customer; a payment plan
or a payment like its contract."""

import uuid

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import InstrumentedAttribute

from app.auth.principal import Principal
from app.customers.access import customer_visibility
from app.customers.models import Customer
from app.money.models import Contract, Payment, PaymentPlan


def contract_visibility(principal: Principal) -> ColumnElement[bool]:
    """Visible, not deleted contracts of the caller's company."""
    base = (Contract.company_id == principal.company_id) & Contract.deleted_at.is_(None)
    if principal.is_admin:
        return base
    return base & exists().where(
        Customer.id == Contract.customer_id, customer_visibility(principal)
    )


def _of_visible_contract(
    principal: Principal, contract_id: InstrumentedAttribute[uuid.UUID]
) -> ColumnElement[bool]:
    return exists().where(Contract.id == contract_id, contract_visibility(principal))


def plan_visibility(principal: Principal) -> ColumnElement[bool]:
    """Instalments of visible contracts."""
    return (
        (PaymentPlan.company_id == principal.company_id)
        & PaymentPlan.deleted_at.is_(None)
        & _of_visible_contract(principal, PaymentPlan.contract_id)
    )


def payment_visibility(principal: Principal) -> ColumnElement[bool]:
    """Payments (and reversals) on visible contracts."""
    return (Payment.company_id == principal.company_id) & _of_visible_contract(
        principal, Payment.contract_id
    )
