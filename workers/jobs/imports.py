"""The lead import job's shell: the body is the leads package's (`app.leads.imports.job`)."""

from app.leads.imports.job import run_pending as run_pending_imports

__all__ = ["run_pending_imports"]
