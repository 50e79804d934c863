"""Which rows other rows still point at, read from the schema itself (every foreign key of the
models), so a new table referencing a customer or a file is respected without a list here."""

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Table, and_, exists, not_, true

import app.models  # noqa: F401  (every table on the metadata)
from app.db import Base


def _blocking(target: Table, skip: Iterable[str]) -> list[ColumnElement[bool]]:
    """One EXISTS per foreign key to `target` that a delete would trip over (no ON DELETE
    CASCADE or SET NULL)."""
    skipped = set(skip)
    found: list[ColumnElement[bool]] = []
    for table in Base.metadata.sorted_tables:
        if table.name in skipped:
            continue
        for key in table.foreign_key_constraints:
            if key.referred_table is not target:
                continue
            if (key.ondelete or "").upper().startswith(("CASCADE", "SET NULL")):
                continue
            child = table.alias()
            found.append(
                exists().where(
                    and_(
                        *(
                            child.c[element.parent.name] == target.c[element.column.name]
                            for element in key.elements
                        )
                    )
                )
            )
    return found


def referenced(target: Table, skip: Iterable[str] = ()) -> ColumnElement[bool]:
    """SQL over `target`'s row: some row of another table points at it."""
    keys = _blocking(target, skip)
    if not keys:
        return not_(true())
    condition = keys[0]
    for key in keys[1:]:
        condition = condition | key
    return condition
