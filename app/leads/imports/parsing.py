"""Pure CSV parsing of a lead import: decoding (UTF-8, UTF-8 with BOM, GBK/GB18030 — what
Excel in China writes), the header row (English or Chinese column names), and every row's
validation and within-file duplicates. No database: the job adds the duplicates against
existing leads and customers.

A row is either valid (it will be imported whole) or carries errors `{line, field, code,
detail}` (it is reported and not imported). `line` is the file's line number where the row
starts (the header is line 1), as a spreadsheet shows it.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from app.core import limits
from app.core.schemas import text_problem
from app.leads.models import LEAD_SOURCES
from app.leads.rules import normalise_company_name, normalise_email, normalise_phone

# Lead field → the column names that fill it (compared case-folded, without spaces, `_`, `-`).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "contact", "contactname", "person", "姓名", "联系人", "名字"),
    "title": ("title", "jobtitle", "position", "职位", "职务", "头衔"),
    "company_name": ("company", "companyname", "organization", "公司", "公司名称", "单位", "企业"),
    # Both columns fill the phone: a mobile number (手机) wins over a desk phone (电话).
    "mobile": ("mobile", "mobilephone", "cell", "手机", "手机号", "手机号码"),
    "phone": ("phone", "telephone", "tel", "电话", "联系电话", "座机", "电话号码"),
    "email": ("email", "mail", "e-mail", "邮箱", "电子邮箱", "电子邮件", "邮件"),
    "source": ("source", "leadsource", "来源", "线索来源"),
    "campaign": ("campaign", "活动", "推广活动", "市场活动"),
    "region": ("region", "area", "city", "地区", "区域", "城市"),
    "industry": ("industry", "行业", "所属行业"),
    "address": ("address", "地址", "公司地址"),
    "note": ("note", "notes", "remark", "comment", "备注", "说明"),
}
_COLUMN_OF = {
    re.sub(r"[\s_\-]", "", alias.casefold()): lead_field
    for lead_field, aliases in HEADER_ALIASES.items()
    for alias in aliases
}

# The source column: the API codes, and their Chinese names (API.md "Leads").
SOURCE_NAMES: dict[str, str] = {
    **{code: code for code in LEAD_SOURCES},
    "展会": "exhibition",
    "推广活动": "campaign",
    "活动": "campaign",
    "会议": "conference",
    "广告": "advertising",
    "外部购买": "purchased_list",
    "购买名单": "purchased_list",
    "转介绍": "referral",
    "推荐": "referral",
    "介绍": "referral",
    "官网": "website",
    "网站": "website",
    "其他": "other",
    "其它": "other",
}

# Stored lengths of the lead columns (app/leads/models.py).
MAX_LENGTHS = {
    "name": limits.NAME_MAX,
    "title": limits.NAME_MAX,
    "company_name": limits.NAME_MAX,
    "phone": limits.PHONE_MAX,
    "email": limits.EMAIL_MAX,
    "campaign": limits.NAME_MAX,
    "region": limits.SHORT_TEXT_MAX,
    "industry": limits.SHORT_TEXT_MAX,
    "address": limits.ADDRESS_MAX,
    "note": limits.NOTE_MAX,
}
# A syntactic check (the API's e-mail validator costs ~40 µs a row: 2 s of a 50,000-row file).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")


class Unreadable(ValueError):
    """The file is not CSV in UTF-8 or GBK, or has no name column."""


class TooManyRows(ValueError):
    """More data rows than an import may hold."""


@dataclass
class Row:
    """One data row: its starting line, the lead fields it fills, and its errors (none: it
    imports)."""

    line: int
    values: dict[str, str | None]
    errors: list[dict[str, Any]] = field(default_factory=list)
    phone_key: str | None = None
    email_key: str | None = None
    company_key: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, field_name: str, code: str, detail: str) -> None:
        self.errors.append({"line": self.line, "field": field_name, "code": code, "detail": detail})


@dataclass
class Parsed:
    encoding: str
    columns: dict[str, str]  # lead field → the header that filled it
    ignored_columns: list[str]
    rows: list[Row]


def decode(content: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM) when it decodes, else GB18030 (a
    superset of GBK and GB2312)."""
    if b"\x00" in content:
        raise Unreadable("The file is binary, not CSV text (UTF-8 or GBK).")
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise Unreadable("The file starts with a UTF-8 BOM but is not UTF-8.") from exc
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise Unreadable("The file is neither UTF-8 nor GBK text.") from exc


def map_header(header: list[str]) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """(column index → lead field, lead field → header, ignored headers). The first column
    naming a field wins; `name` is required."""
    by_index: dict[int, str] = {}
    named: dict[str, str] = {}
    ignored: list[str] = []
    for index, raw in enumerate(header):
        label = unicodedata.normalize("NFKC", raw).strip()
        lead_field = _COLUMN_OF.get(re.sub(r"[\s_\-]", "", label.casefold()))
        if lead_field is None or lead_field in named:
            if label:
                ignored.append(label)
            continue
        by_index[index] = lead_field
        named[lead_field] = label
    if "name" not in named:
        raise Unreadable(
            "The header row has no name column (name / 姓名 / 联系人); "
            f"found: {', '.join(h.strip() for h in header[:20]) or 'nothing'}."
        )
    if "mobile" in named:
        named["phone"] = named.pop("mobile")
    return by_index, named, ignored


def _clean(value: str) -> str | None:
    value = value.strip()
    return value or None


def validate(row: Row) -> None:
    """The row's own errors (missing name, bad e-mail or source, too long, bad text) and its
    normalised duplicate keys."""
    values = row.values
    for name, value in values.items():
        if value is None:
            continue
        if problem := text_problem(value):
            row.fail(name, "invalid_text", f"The value {problem}.")
        elif len(value) > MAX_LENGTHS.get(name, limits.NAME_MAX):
            row.fail(name, "too_long", f"At most {MAX_LENGTHS.get(name)} characters.")
    if not values.get("name"):
        row.fail("name", "required", "The name is missing.")
    email = values.get("email")
    if email is not None and not _EMAIL.match(email):
        row.fail("email", "invalid_email", f"Not an e-mail address: {email[:80]}")
    source = values.get("source")
    if source is None:
        values["source"] = "other"
    else:
        code = SOURCE_NAMES.get(source.casefold()) or SOURCE_NAMES.get(source)
        if code is None:
            row.fail(
                "source",
                "invalid_source",
                f"Unknown source {source[:40]!r}; one of {', '.join(LEAD_SOURCES)} or 展会, "
                "推广活动, 会议, 广告, 外部购买, 转介绍, 官网, 其他.",
            )
        else:
            values["source"] = code
    phone = values.get("phone")
    if phone is not None and len(phone) <= limits.PHONE_MAX:
        row.phone_key = normalise_phone(phone)
        if row.phone_key is None:
            row.fail("phone", "invalid_phone", "The phone number has no digits.")
    if row.ok:
        row.email_key = normalise_email(email)
        row.company_key = normalise_company_name(values.get("company_name"))


def mark_file_duplicates(rows: list[Row]) -> None:
    """A valid row sharing a phone, e-mail or company name with an earlier valid row of the
    file is a duplicate of that row (the first one imports)."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if not row.ok:
            continue
        keys = [
            ("phone", row.phone_key),
            ("email", row.email_key),
            ("company_name", row.company_key),
        ]
        earlier = next(
            ((name, seen[(name, key)]) for name, key in keys if key and (name, key) in seen),
            None,
        )
        if earlier is not None:
            name, line = earlier
            row.fail(name, "duplicate", f"The same {name} as line {line} of this file.")
            continue
        for name, key in keys:
            if key:
                seen[(name, key)] = row.line


def parse(content: bytes, *, max_rows: int = limits.IMPORT_ROWS_MAX) -> Parsed:
    """Decode, read the header, validate every row and mark within-file duplicates. Blank
    rows are skipped; more than `max_rows` data rows → TooManyRows."""
    text, encoding = decode(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise Unreadable("The file is empty: no header row.")
        by_index, named, ignored = map_header(header)
        rows: list[Row] = []
        line = reader.line_num + 1
        for record in reader:
            start, line = line, reader.line_num + 1
            values: dict[str, str | None] = {}
            mobile: str | None = None
            for index, lead_field in by_index.items():
                value = _clean(record[index]) if index < len(record) else None
                if lead_field == "mobile":
                    mobile = value
                else:
                    values[lead_field] = value
            if mobile is not None:
                values["phone"] = mobile
            if not any(values.values()):
                continue  # a blank row (or one of ignored columns only)
            if len(rows) >= max_rows:
                raise TooManyRows(max_rows)
            row = Row(start, values)
            validate(row)
            rows.append(row)
    except csv.Error as exc:
        raise Unreadable(f"Not readable as CSV near line {reader.line_num}: {exc}") from exc
    mark_file_duplicates(rows)
    return Parsed(encoding, named, ignored, rows)


def count_rows(content: bytes, *, max_rows: int = limits.IMPORT_ROWS_MAX) -> tuple[int, str]:
    """(data rows, encoding) — the checks the API makes before it queues an import."""
    parsed = parse(content, max_rows=max_rows)
    return len(parsed.rows), parsed.encoding
