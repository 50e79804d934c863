"""The targets job's shell: the period close (snapshots of ended targets); the body is the
targets package's (`app.targets.close`)."""

from app.targets.close import close_periods as targets

__all__ = ["targets"]
