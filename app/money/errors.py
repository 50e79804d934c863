"""The problem codes of products, contracts, payment plans and payments, one constructor each."""

from app.core.errors import ProblemError


def contract_locked(
    detail: str = "An active contract's money fields cannot change.",
) -> ProblemError:
    """409: editing the amount, lines or plans' total of an active (or closed) contract."""
    return ProblemError(409, "contract_locked", detail)


def plans_exceed_contract(total: str, amount: str) -> ProblemError:
    """422: the instalments add up to more than the contract amount."""
    return ProblemError(
        422,
        "plans_exceed_contract",
        f"The instalments add up to {total}, more than the contract's {amount}.",
        plans_total=total,
        contract_amount=amount,
    )


def payment_exceeds_outstanding(outstanding: str) -> ProblemError:
    """422: a payment larger than what is still owed (recorded payments included)."""
    return ProblemError(
        422,
        "payment_exceeds_outstanding",
        f"At most {outstanding} is still owed on this contract.",
        outstanding=outstanding,
    )
