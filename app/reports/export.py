"""Reports as CSV (`?format=csv`): UTF-8 with a BOM, so that Excel opens Chinese text right.

Any report answers CSV through `csv_response`; `CSV_RESPONSE` documents it on the route.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import Query
from fastapi.responses import Response

ReportFormat = Literal["json", "csv"]
FORMAT_QUERY: Any = Query("json", description="`csv`: the same figures as CSV (UTF-8 with BOM).")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON by default; CSV with `?format=csv`.",
    }
}

# A cell Excel would read as a formula (CSV injection) starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One CSV cell: numbers and money as written, dates in ISO form, empty for None; text
    that Excel would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download: the header row, then the rows, UTF-8 with BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
