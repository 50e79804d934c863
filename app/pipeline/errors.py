"""The problem codes of pipelines, stages and opportunities, one constructor each."""

from typing import Any

from app.core.errors import ProblemError, field_error


def stage_in_use(count: int) -> ProblemError:
    """409: deleting a stage opportunities are in, without `move_to_stage_id`."""
    return ProblemError(
        409,
        "stage_in_use",
        f"{count} opportunities are in this stage: give move_to_stage_id.",
        opportunities=count,
    )


def stage_transition_not_allowed(detail: str) -> ProblemError:
    """409: the pipeline does not allow this move (skip, backward, out of a closed stage)."""
    return ProblemError(409, "stage_transition_not_allowed", detail)


def stage_requirements_missing(missing: list[dict[str, Any]]) -> ProblemError:
    """422: what the current stage asks before leaving it, everything missing at once."""
    return ProblemError(
        422,
        "stage_requirements_missing",
        "The stage asks for more before the opportunity may leave it.",
        missing=missing,
    )


def field_not_patchable(field: str) -> ProblemError:
    """422: stage, status and the won/lost fields change only through advance."""
    return field_error(
        422,
        "field_not_patchable",
        f"{field} changes only through POST /v1/opportunities/{{id}}/advance.",
        loc=("body", field),
        msg="not patchable",
    )


def unknown_lost_reason(reason: str) -> ProblemError:
    """422: a lost reason that is not on the company's list."""
    return field_error(
        422,
        "unknown_lost_reason",
        f"{reason!r} is not one of the company's lost reasons.",
        loc=("body", "lost_reason"),
        msg="not on the company's list",
    )


def lost_reason_required() -> ProblemError:
    """422: moving to a lost stage without `lost_reason`."""
    return field_error(
        422,
        "lost_reason_required",
        "A lost opportunity needs lost_reason.",
        loc=("body", "lost_reason"),
        msg="required",
    )


def opportunity_closed(status: str) -> ProblemError:
    """409: changing a won (or, without allow_backward, lost) opportunity."""
    return ProblemError(
        409, "opportunity_closed", f"The opportunity is {status}.", opportunity_status=status
    )


def unknown_stage(loc: str = "stage_id", where: str = "body") -> ProblemError:
    """422: a stage that is not (or no longer) in this pipeline (`where`: body or query)."""
    return field_error(
        422,
        "unknown_stage",
        "The stage is not an active stage of this pipeline.",
        loc=(where, loc),
        msg="unknown stage",
    )


def unknown_pipeline(loc: str = "pipeline_id") -> ProblemError:
    """422: a pipeline id that does not exist in the company."""
    return field_error(
        422,
        "unknown_pipeline",
        "The pipeline does not exist.",
        loc=("body", loc),
        msg="unknown pipeline",
    )


def unknown_contact() -> ProblemError:
    """422: a contact id that is not a contact of the opportunity's customer."""
    return field_error(
        422,
        "unknown_contact",
        "Every contact must be a contact of the customer.",
        loc=("body", "contact_ids"),
        msg="not a contact of this customer",
    )


def default_pipeline_required() -> ProblemError:
    """409: deleting (or un-defaulting) the company's default pipeline."""
    return ProblemError(
        409, "default_pipeline_required", "Make another pipeline the default first."
    )


def pipeline_in_use(count: int) -> ProblemError:
    """409: deleting a pipeline that has open opportunities."""
    return ProblemError(
        409,
        "pipeline_in_use",
        f"{count} open opportunities use this pipeline.",
        opportunities=count,
    )


def stage_kinds_required(missing: list[str]) -> ProblemError:
    """422: a pipeline must keep at least one active open, one won and one lost stage."""
    return ProblemError(
        422,
        "stage_kinds_required",
        "A pipeline needs at least one open, one won and one lost stage; missing: "
        + ", ".join(missing)
        + ".",
        missing_kinds=missing,
    )


def stage_retired() -> ProblemError:
    """409: changing or deleting a stage that is already retired."""
    return ProblemError(409, "stage_retired", "The stage is retired; it only keeps history.")


def stage_kind_mismatch() -> ProblemError:
    """422: moving a deleted stage's opportunities to a stage of another kind."""
    return field_error(
        422,
        "stage_kind_mismatch",
        "Opportunities move only to a stage of the same kind (open, won or lost).",
        loc=("query", "move_to_stage_id"),
        msg="another kind of stage",
    )


def too_many_stages(limit: int) -> ProblemError:
    """422: more stages than a pipeline may have."""
    return field_error(
        422,
        "too_many_stages",
        f"A pipeline has at most {limit} stages.",
        loc=("body", "stages"),
        msg="too many stages",
    )


def pipeline_name_taken() -> ProblemError:
    """409: another pipeline of the company has this name."""
    return field_error(
        409,
        "pipeline_name_taken",
        "Another pipeline has this name.",
        loc=("body", "name"),
        msg="name taken",
    )


def lost_reason_taken() -> ProblemError:
    """409: the company's list already has this lost reason."""
    return field_error(
        409,
        "lost_reason_taken",
        "The list already has this lost reason.",
        loc=("body", "label"),
        msg="label taken",
    )


def opportunity_changed() -> ProblemError:
    """409: another move of the opportunity won the race; reload it and try again."""
    return ProblemError(
        409, "opportunity_changed", "The opportunity moved meanwhile; reload it and try again."
    )


def unknown_owner() -> ProblemError:
    """422: an owner id that is not an active user of the company."""
    return field_error(
        422,
        "unknown_owner",
        "The owner must be an active user of your company.",
        loc=("body", "owner_id"),
        msg="unknown user",
    )
