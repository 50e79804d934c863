"""The recycle job's shell: the body is the customers package's (`app.customers.recycling`)."""

from app.customers.recycling import recycle

__all__ = ["recycle"]
