"""The problem codes of devices and webhooks, one constructor each."""

from app.core.errors import ProblemError, field_error


def invalid_push_token(detail: str = "A Web Push token is the https endpoint.") -> ProblemError:
    """422: a device token that does not fit its platform (errors[] typed by the code)."""
    return field_error(
        422,
        "invalid_push_token",
        detail,
        loc=("body", "token"),
        msg=detail,
        type_="invalid_push_token",
    )


def invalid_push_keys(detail: str = "A webpush device needs keys.p256dh and auth.") -> ProblemError:
    """422: Web Push keys missing, misplaced or malformed (errors[] typed by the code)."""
    return field_error(
        422,
        "invalid_push_keys",
        detail,
        loc=("body", "keys"),
        msg=detail,
        type_="invalid_push_keys",
    )


def webhook_url_invalid(detail: str = "The URL cannot be parsed.") -> ProblemError:
    """422: a webhook URL that cannot be parsed, or lacks a host, or carries credentials."""
    return field_error(422, "webhook_url_invalid", detail, loc=("body", "url"), msg=detail)


def webhook_url_insecure(detail: str = "The URL must use https.") -> ProblemError:
    """422: a webhook URL with a scheme this deployment does not allow."""
    return field_error(422, "webhook_url_insecure", detail, loc=("body", "url"), msg=detail)


def webhook_url_forbidden(
    detail: str = "The URL resolves to a loopback, private, link-local or reserved address.",
) -> ProblemError:
    """422: a webhook URL that resolves to an address webhooks may not reach."""
    return field_error(422, "webhook_url_forbidden", detail, loc=("body", "url"), msg=detail)


def webhook_url_unresolvable(detail: str = "The URL's host does not resolve.") -> ProblemError:
    """422: a webhook URL whose host has no addresses."""
    return field_error(422, "webhook_url_unresolvable", detail, loc=("body", "url"), msg=detail)


def webhook_inactive(detail: str = "Activate the webhook before testing it.") -> ProblemError:
    """409: a test delivery to a paused webhook."""
    return ProblemError(409, "webhook_inactive", detail)
