"""The problem codes of lead pools, leads, imports and conversion, one constructor each."""

from typing import Any

from app.core.errors import ProblemError, field_error


def duplicate_lead(matches: list[dict[str, Any]]) -> ProblemError:
    """409: a lead or customer with the same phone, e-mail or company name exists; each match
    says what it is (`lead`|`customer`), the key that matched, and whether the caller can see
    or claim it."""
    return ProblemError(
        409,
        "duplicate_lead",
        "A matching lead or customer exists.",
        duplicates=matches,
    )


def lead_already_converted(customer_id: str | None) -> ProblemError:
    """409: converting a lead a second time."""
    return ProblemError(
        409,
        "lead_already_converted",
        "This lead has already been converted.",
        converted_customer_id=customer_id,
    )


def lead_not_in_pool(detail: str = "This lead is not in the pool.") -> ProblemError:
    """409: claiming a lead someone owns (or who was claimed first)."""
    return ProblemError(409, "lead_not_in_pool", detail)


def lead_claim_limit_reached(limit: int) -> ProblemError:
    """409: the caller has claimed the pool's daily limit today (company time)."""
    return ProblemError(
        409, "lead_claim_limit_reached", f"You may claim {limit} leads a day here.", limit=limit
    )


def lead_cap_reached(cap: int) -> ProblemError:
    """409: the rep already holds the pool's cap of open leads."""
    return ProblemError(
        409, "lead_cap_reached", f"The rep already holds {cap} open leads.", cap=cap
    )


def lead_pool_not_member(detail: str = "You are not a member of this lead pool.") -> ProblemError:
    """403: pulling from a pool the caller's department or account is not a member of."""
    return ProblemError(403, "lead_pool_not_member", detail)


def lead_pool_mode(mode: str) -> ProblemError:
    """409: claiming from a push-only pool (or assigning from a pull-only one)."""
    return ProblemError(409, "lead_pool_mode", f"This pool's mode is {mode}.", mode=mode)


def lead_not_convertible(status: str, required: str | None) -> ProblemError:
    """409: the company's conversion condition is not met (or the lead is disqualified)."""
    return ProblemError(
        409,
        "lead_not_convertible",
        f"A lead with status {status} may not be converted here.",
        lead_status=status,
        required_status=required,
    )


def no_assignee_available() -> ProblemError:
    """409: automatic assignment found no active member below the cap."""
    return ProblemError(
        409, "no_assignee_available", "No active member of the pool is below the cap."
    )


def import_too_large(limit: int) -> ProblemError:
    """413: an import with more rows than allowed."""
    return ProblemError(413, "import_too_large", f"At most {limit} rows per import.", limit=limit)


def import_unreadable(detail: str) -> ProblemError:
    """422: a file that is not CSV in UTF-8 or GBK, or has no header row with `name`."""
    return ProblemError(422, "import_unreadable", detail)


def lead_pool_not_empty(leads: int) -> ProblemError:
    """409: deleting a lead pool that still holds (owned or unowned, open) leads."""
    return ProblemError(
        409,
        "lead_pool_not_empty",
        f"The pool still holds {leads} leads: move or delete them first.",
        leads=leads,
    )


def lead_pool_name_taken(name: str) -> ProblemError:
    """409: another live lead pool of the company has this name."""
    return ProblemError(
        409, "lead_pool_name_taken", f"A lead pool named {name!r} already exists.", name=name
    )


def no_lead_pool(detail: str = "Create a lead pool first.") -> ProblemError:
    """422: creating a lead in a company that has no lead pool (or naming an unknown pool)."""
    return field_error(422, "no_lead_pool", detail, loc=("body", "pool_id"), msg="no lead pool")


def lead_status_not_settable(
    detail: str = "Only conversion sets the status converted.",
) -> ProblemError:
    """422: a lead's status set to `converted` by hand."""
    return field_error(
        422, "lead_status_not_settable", detail, loc=("body", "status"), msg="not settable"
    )


def lead_not_owned(detail: str = "You do not own this lead.") -> ProblemError:
    """409: a follow-up or release on a lead the caller neither owns nor manages the owner of
    (a lead in its pool: claim it first)."""
    return ProblemError(409, "lead_not_owned", detail)


def import_file_too_large(max_bytes: int) -> ProblemError:
    """413: an import file larger than allowed."""
    return ProblemError(
        413,
        "import_file_too_large",
        f"An import file may be at most {max_bytes} bytes.",
        max_bytes=max_bytes,
    )


def duplicate_campaign(name: str) -> ProblemError:
    """409: a campaign with this name exists."""
    return ProblemError(409, "duplicate_campaign", f"A campaign named {name!r} exists.")
