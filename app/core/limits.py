"""The size caps of request input, in one place: schemas, filters and the body cap use these."""

from datetime import date

# Request bodies (bytes). The JSON cap is a setting (OUTFIELD_MAX_BODY_BYTES, default below);
# multipart uploads are capped by OUTFIELD_MAX_UPLOAD_BYTES plus this JSON cap for the framing.
MAX_BODY_BYTES = 1024 * 1024

# Text fields (characters).
NAME_MAX = 200
"""Names of people, customers, departments, pools, companies; titles."""
SHORT_TEXT_MAX = 100
"""Industry, source, region and other short labels."""
PHONE_MAX = 50
USER_PHONE_MAX = 32
TIME_ZONE_MAX = 64
PHONES_MAX = 10
"""Phone numbers of one contact."""
ADDRESS_MAX = 500
REASON_MAX = 500
"""Release/transfer reasons and similar one-line explanations."""
NOTE_MAX = 2_000
"""Short notes (deal notes, comments)."""
CHECKIN_NOTE_MAX = 5_000
FOLLOWUP_TEXT_MAX = 10_000
LOG_TEXT_MAX = 20_000
PASSWORD_MAX = 200
PURPOSE_MAX = 200
"""A check-in's or a planned visit's purpose; device ids."""
KIND_MAX = 40
"""A notification kind (muted kinds)."""

# Tags.
TAGS_MAX = 30
TAG_MAX = 50

# Custom fields (a flat JSON object of scalars).
CUSTOM_FIELDS_MAX = 50
"""Keys per customer."""
CUSTOM_FIELD_KEY_MAX = 64
CUSTOM_FIELD_VALUE_MAX = 2_000
"""Characters of one string value."""
CUSTOM_FIELDS_BYTES_MAX = 16 * 1024
"""The whole object, serialized as compact UTF-8 JSON."""

# Lead imports (CSV): data rows per file and the file's size.
IMPORT_ROWS_MAX = 50_000
IMPORT_BYTES_MAX = 10 * 1024 * 1024
EMAIL_MAX = 320

# Pool scopes.
SCOPE_VALUES_MAX = 100
"""Regions (or industries) one pool covers."""

# Dates and timestamps: what PostgreSQL and the time-zone arithmetic (± a day, ± the recycle
# and reminder windows of up to ten years) hold comfortably, and what a CRM can mean.
MIN_YEAR = 1900
MAX_YEAR = 2200
EARLIEST_DATE = date(MIN_YEAR, 1, 1)
LATEST_DATE = date(MAX_YEAR, 12, 31)
