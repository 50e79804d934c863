"""The `purge` job: soft-deleted records past their company's `restore_days` (app.retention)."""

from app.retention.purge import purge

__all__ = ["purge"]
