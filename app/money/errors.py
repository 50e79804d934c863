"""The problem codes of products, contracts, payment plans and payments, one constructor each."""

from app.core.errors import ProblemError, field_error, field_errors, field_issue


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


def contract_not_payable(status: str) -> ProblemError:
    """409: a payment on a contract that is not active (draft, in approval, or closed)."""
    return ProblemError(
        409,
        "contract_not_payable",
        f"Payments are recorded on active contracts; this one is {status}.",
        contract_status=status,
    )


def plan_below_allocated(allocated: str) -> ProblemError:
    """422: an instalment made smaller than what payments already committed to it."""
    return ProblemError(
        422,
        "plan_below_allocated",
        f"Payments already cover {allocated} of this instalment: it cannot be smaller.",
        allocated=allocated,
    )


def plan_has_payments() -> ProblemError:
    """409: deleting an instalment that payments were allocated to."""
    return ProblemError(
        409, "plan_has_payments", "Payments were allocated to this instalment: it stays."
    )


def payment_not_confirmable(status: str) -> ProblemError:
    """409: confirming a payment that is not `recorded` (already confirmed, in approval,
    reversed, or a reversal)."""
    return ProblemError(
        409,
        "payment_not_confirmable",
        f"Only a recorded payment can be confirmed; this one is {status}.",
        payment_status=status,
    )


def payment_already_reversed() -> ProblemError:
    """409: reversing a payment twice, or reversing a reversal."""
    return ProblemError(
        409, "payment_already_reversed", "This payment is already reversed (or is a reversal)."
    )


def product_code_taken(code: str) -> ProblemError:
    """409: another (not deleted) product of the company has this code."""
    return field_error(
        409,
        "product_code_taken",
        f"Another product already has the code {code!r}.",
        loc=("body", "code"),
        msg="taken",
    )


def unknown_product(indexes: list[int]) -> ProblemError:
    """422: a contract line names a product that is not an active product of the company."""
    return field_errors(
        422,
        "unknown_product",
        "Every line's product must be an active product of your company.",
        [field_issue(("body", "lines", i, "product_id"), "unknown product") for i in indexes],
    )


def unit_price_required(indexes: list[int]) -> ProblemError:
    """422: a line without a product and without a unit price."""
    return field_errors(
        422,
        "unit_price_required",
        "A line without a product needs unit_price.",
        [field_issue(("body", "lines", i, "unit_price"), "required") for i in indexes],
    )


def amount_mismatch(given: str, computed: str) -> ProblemError:
    """422: `amount` sent with lines and not their sum."""
    return field_error(
        422,
        "amount_mismatch",
        f"The lines add up to {computed}, not {given}.",
        loc=("body", "amount"),
        msg="does not match the lines",
        computed_amount=computed,
    )


def amount_required() -> ProblemError:
    """422: a contract without lines and without an amount."""
    return field_error(
        422,
        "amount_required",
        "Give amount, or lines to compute it from.",
        loc=("body", "amount"),
        msg="required without lines",
    )


def invalid_contract_dates() -> ProblemError:
    """422: start_date after end_date."""
    return field_error(
        422,
        "invalid_contract_dates",
        "start_date must not be after end_date.",
        loc=("body", "end_date"),
        msg="before start_date",
    )


def contract_number_taken(number: str) -> ProblemError:
    """409: a contract of the company already has this number."""
    return field_error(
        409,
        "contract_number_taken",
        f"A contract numbered {number!r} already exists.",
        loc=("body", "number"),
        msg="taken",
    )


def unknown_opportunity() -> ProblemError:
    """422: an opportunity id that is not an opportunity of the contract's customer."""
    return field_error(
        422,
        "unknown_opportunity",
        "The opportunity must be one of the customer's.",
        loc=("body", "opportunity_id"),
        msg="not an opportunity of this customer",
    )


def contract_transition_not_allowed(detail: str, status: str) -> ProblemError:
    """409: the contract's status does not allow this step (submit, complete, terminate)."""
    return ProblemError(409, "contract_transition_not_allowed", detail, contract_status=status)


def contract_not_deletable(status: str) -> ProblemError:
    """409: only a draft contract may be deleted (terminate an active one)."""
    return ProblemError(
        409,
        "contract_not_deletable",
        f"A {status} contract cannot be deleted; only a draft can.",
        contract_status=status,
    )
