"""file_per_uploader: a file record of one's own, never a grant to a colleague's (issue 12)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:50:00

Identical bytes were one file record per company (unique company_id, sha256): uploading bytes
a colleague had uploaded answered the colleague's file id and granted read access to it (an
`upload` attachment whose record id was the uploader). Now the bytes are still stored once
(`storage_key` is `<company>/<sha256>`), but each uploader has a record of their own: unique
(company_id, sha256, uploaded_by).

The grants already given become records of the grantees' own (new ids, the same stored bytes
and metadata), and the grants are removed: a grantee keeps the bytes they uploaded, under a
new id, and sees the colleague's record only where a record it is attached to is visible.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("uq_files_company_sha256", table_name="files")
    op.create_index(
        "uq_files_company_sha256_uploader",
        "files",
        ["company_id", "sha256", "uploaded_by"],
        unique=True,
    )
    op.execute("""
        INSERT INTO files (id, uploaded_by, company_id, kind, content_type, size_bytes, sha256,
                           storage_key, original_name, taken_at, taken_latitude,
                           taken_longitude, created_at)
        SELECT gen_random_uuid(), a.record_id, f.company_id, f.kind, f.content_type,
               f.size_bytes, f.sha256, f.storage_key, f.original_name, f.taken_at,
               f.taken_latitude, f.taken_longitude, f.created_at
        FROM attachments AS a
        JOIN files AS f ON f.id = a.file_id
        WHERE a.record_type = 'upload'
        ON CONFLICT DO NOTHING
    """)
    op.execute("DELETE FROM attachments WHERE record_type = 'upload'")


def downgrade() -> None:
    # Back to one record per bytes: per company and bytes the first record is kept; the
    # others' attachments move to it, their uploaders get an `upload` grant to it, then the
    # other records go.
    op.execute("""
        CREATE TEMPORARY TABLE file_ranks ON COMMIT DROP AS
        SELECT id, company_id, uploaded_by,
               first_value(id) OVER (
                   PARTITION BY company_id, sha256 ORDER BY created_at, id
               ) AS keep_id
        FROM files
    """)
    op.execute("""
        INSERT INTO attachments (file_id, record_type, record_id, company_id, position)
        SELECT r.keep_id, a.record_type, a.record_id, a.company_id, a.position
        FROM attachments AS a
        JOIN file_ranks AS r ON r.id = a.file_id
        WHERE r.id <> r.keep_id
        ON CONFLICT DO NOTHING
    """)
    op.execute("""
        INSERT INTO attachments (file_id, record_type, record_id, company_id, position)
        SELECT r.keep_id, 'upload', r.uploaded_by, r.company_id, 0
        FROM file_ranks AS r
        WHERE r.id <> r.keep_id
        ON CONFLICT DO NOTHING
    """)
    op.execute(
        "DELETE FROM files AS f USING file_ranks AS r WHERE f.id = r.id AND r.id <> r.keep_id"
    )
    op.execute("DROP TABLE file_ranks")
    op.drop_index("uq_files_company_sha256_uploader", table_name="files")
    op.create_index("uq_files_company_sha256", "files", ["company_id", "sha256"], unique=True)
