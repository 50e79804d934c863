"""Pure lead decisions: the duplicate keys (the customers' normaliser for phone and company
name, a plain one for e-mail)."""

from app.customers.rules import normalise_name, normalise_phone


def normalise_email(email: str | None) -> str | None:
    """Trimmed, lower-case; None when empty."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def normalise_company_name(name: str | None) -> str | None:
    """The customers' name normaliser (suffixes like 有限公司 dropped); None when empty."""
    if name is None or not name.strip():
        return None
    return normalise_name(name) or None


__all__ = ["normalise_company_name", "normalise_email", "normalise_phone"]
