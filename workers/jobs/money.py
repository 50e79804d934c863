"""The money job's shell: contract expiry, instalment due and overdue reminders; the body is
the money package's (`app.money.reminders`)."""

from app.money.reminders import money_reminders as money

__all__ = ["money"]
