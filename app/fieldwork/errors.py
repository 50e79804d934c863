"""The problem codes of check-ins, follow-ups, work logs, plans and files, one constructor each."""

import uuid
from collections.abc import Iterable

from app.core.errors import ProblemError, field_error, field_errors, field_issue


def checkout_before_checkin(
    detail: str = "Check-out cannot be earlier than the check-in.",
) -> ProblemError:
    """422: a check-out time before its check-in."""
    return field_error(
        422,
        "checkout_before_checkin",
        detail,
        loc=("body", "client_recorded_at"),
        msg="before check-in",
    )


def file_too_large(cap: int = 0) -> ProblemError:
    """413: an upload over the configured cap of `cap` bytes."""
    return ProblemError(413, "file_too_large", f"A file may be at most {cap} bytes.", max_bytes=cap)


def image_too_large(max_pixels: int = 0) -> ProblemError:
    """413: a photo with more than `max_pixels` pixels."""
    return ProblemError(
        413,
        "image_too_large",
        f"A photo may have at most {max_pixels} pixels.",
        max_pixels=max_pixels,
    )


def unsupported_file_type(
    detail: str = "Upload a photo (JPEG, PNG, WebP, HEIC) or a voice note (AAC/M4A, AMR, MP3).",
) -> ProblemError:
    """415: bytes that are not an accepted photo or voice note."""
    return ProblemError(415, "unsupported_file_type", detail)


def unknown_file(
    field: str = "file_ids", missing: Iterable[tuple[int, uuid.UUID]] = ()
) -> ProblemError:
    """422: attached file ids the caller cannot see, one error at body.<field>.<index> each."""
    return field_errors(
        422,
        "unknown_file",
        "Some attached files do not exist; see errors.",
        (
            field_issue(("body", field, index), f"no such file: {file_id}", "unknown_file")
            for index, file_id in missing
        ),
    )


def unknown_checkin(detail: str = "No check-in with that id at this customer.") -> ProblemError:
    """422: a follow-up linked to a check-in that is not at its customer."""
    return field_error(
        422, "unknown_checkin", detail, loc=("body", "checkin_id"), msg="unknown check-in"
    )


def unknown_customer(indexes: Iterable[int] = ()) -> ProblemError:
    """422: linked customers the caller cannot see, one error at body.customer_ids.<i> each."""
    return field_errors(
        422,
        "unknown_customer",
        "Some linked customers do not exist.",
        (field_issue(("body", "customer_ids", i), "unknown customer") for i in indexes),
    )


def log_exists(existing_log_id: str | None = None) -> ProblemError:
    """409: the caller already wrote a log for this period."""
    return ProblemError(
        409,
        "log_exists",
        "You already wrote a log for this period; edit it instead.",
        existing_log_id=existing_log_id,
    )
