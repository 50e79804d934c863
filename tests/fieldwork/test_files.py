"""Files: type sniffing, size cap, EXIF read-and-strip, dedupe and retries, visibility."""

import hashlib
import io
import uuid
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app.auth.principal import Principal
from app.config import get_settings
from app.core.clock import now
from app.core.errors import ProblemError
from app.db import session_factory
from app.fieldwork.files import media
from app.fieldwork.files import service as files
from app.fieldwork.files.storage import LocalDiskStorage, MissingObject
from app.fieldwork.models import Checkin
from app.org.models import Department, User
from tests.customers.helpers import create_customer
from tests.fieldwork.media_samples import (
    BOUNDARY,
    adts_aac,
    amr,
    chunked_multipart,
    iso_media,
    mp3,
    photo,
)
from tests.helpers import client, signup

TIANANMEN = {"lat": 39.9087, "lng": 116.3975, "crs": "wgs84"}


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every test stores its files in a fresh folder."""
    monkeypatch.setenv("OUTFIELD_FILES_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    yield tmp_path / "files"
    monkeypatch.undo()
    get_settings.cache_clear()


async def upload(http, headers, content: bytes, name: str = "upload.bin", **form):
    return await http.post(
        "/v1/files",
        files={"file": (name, content, "application/octet-stream")},
        data=form,
        headers=headers,
    )


async def principal_of(user_id: str) -> Principal:
    async with session_factory()() as session:
        user, path = (
            await session.execute(
                select(User, Department.path)
                .outerjoin(Department, Department.id == User.department_id)
                .where(User.id == uuid.UUID(user_id))
            )
        ).one()
    return Principal(user.id, user.company_id, user.role, user.department_id, path, user.locale)


# ---------- type sniffing and limits ----------


async def test_photo_exif_time_and_gps_are_kept_as_metadata_and_stripped_from_the_stored_copy():
    original = photo("JPEG")
    assert b"SecretCam" in original and b"GPSLatitude" in original
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        created = await upload(http, rep, original, "IMG_0001.jpg")
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["kind"] == "photo" and body["content_type"] == "image/jpeg"
        assert body["sha256"] == hashlib.sha256(original).hexdigest()
        assert body["taken_at"] == "2024-05-01T02:30:00Z"  # 10:30 at +08:00
        assert body["taken_location"] == TIANANMEN
        assert body["download_url"] == f"/v1/files/{body['id']}/content"
        assert created.headers["location"] == f"/v1/files/{body['id']}"

        download = await http.get(body["download_url"], headers=rep)
        assert download.status_code == 200
        assert download.headers["content-type"] == "image/jpeg"
        assert download.headers["etag"] == f'"{body["sha256"]}"'
        assert download.headers["cache-control"].startswith("private")
        stored = download.content
        assert len(stored) == body["size_bytes"]
        assert b"SecretCam" not in stored and b"GPSLatitude" not in stored
        assert b"Exif\x00\x00" not in stored and b"xmpmeta" not in stored
        with Image.open(io.BytesIO(stored)) as image:
            assert dict(image.getexif()) == {}
            assert image.size == (20, 40)  # orientation applied to the pixels

        again = await http.get(
            body["download_url"], headers={**rep, "If-None-Match": download.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        in_gcj = await http.get(f"/v1/files/{body['id']}?crs=gcj02", headers=rep)
        assert in_gcj.json()["taken_location"]["crs"] == "gcj02"
        assert in_gcj.json()["taken_location"]["lng"] != TIANANMEN["lng"]


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("PNG", "image/png"), ("WEBP", "image/webp"), ("HEIF", "image/jpeg")],
)
async def test_png_webp_and_heic_photos_are_read_and_stripped(image_format, content_type):
    original = photo(image_format, offset=None)
    async with client() as http:
        company = await signup(http)  # Asia/Shanghai: an EXIF time without offset is local
        _, rep = await company.user("rep")
        created = await upload(http, rep, original, "photo")
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["content_type"] == content_type  # HEIC is stored as JPEG
        assert body["taken_at"] == "2024-05-01T02:30:00Z"
        assert body["taken_location"] == TIANANMEN
        stored = (await http.get(body["download_url"], headers=rep)).content
        assert b"SecretCam" not in stored and b"xmpmeta" not in stored
        with Image.open(io.BytesIO(stored)) as image:
            assert dict(image.getexif()) == {}
            assert image.size == (20, 40)


async def test_photo_without_exif_has_no_time_or_place():
    output = io.BytesIO()
    Image.new("L", (8, 8), 128).save(output, format="PNG")
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        body = (await upload(http, rep, output.getvalue())).json()
        assert body["taken_at"] is None and body["taken_location"] is None


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (mp3(), "audio/mpeg"),
        (adts_aac(), "audio/aac"),
        (amr(), "audio/amr"),
        (iso_media(b"M4A ", b"soun"), "audio/mp4"),
    ],
)
async def test_voice_notes_are_recognised_from_their_bytes_and_stored_as_sent(
    content, content_type
):
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        created = await upload(http, rep, content, "note.jpg")  # the name is ignored
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["kind"] == "voice" and body["content_type"] == content_type
        assert body["taken_at"] is None and body["size_bytes"] == len(content)
        download = await http.get(body["download_url"], headers=rep)
        assert download.headers["content-type"] == content_type
        assert download.content == content


@pytest.mark.parametrize(
    "content",
    [
        b"just some text, named like a photo",
        b"",
        b"%PDF-1.7\n" + bytes(100),
        iso_media(b"isom", b"vide"),  # a video, even in an MP4 container
        b"\xff\xd8\xff\xe0" + bytes(200),  # starts like a JPEG, is not one
        b"\xff\xfb\x90\x00" + bytes(413) + b"not a second frame",
    ],
)
async def test_a_file_of_another_type_is_415_whatever_its_name(content):
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        response = await upload(http, rep, content, "holiday.jpg")
        assert response.status_code == 415, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unsupported_file_type"


@pytest.mark.parametrize(
    ("accept", "answered"),
    [
        (None, "audio/mpeg"),
        ("*/*", "audio/mpeg"),
        ("audio/*, application/octet-stream", "audio/mpeg"),
        ("application/octet-stream", "application/octet-stream"),
    ],
)
async def test_a_download_is_the_files_type_unless_only_octet_streams_are_accepted(
    accept, answered
):
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        body = (await upload(http, rep, mp3(3))).json()
        headers = dict(rep) | ({"Accept": accept} if accept else {})
        download = await http.get(body["download_url"], headers=headers)
        assert download.status_code == 200
        assert download.headers["content-type"] == answered
        assert download.content == mp3(3)


@pytest.mark.parametrize("name", ["photo\x1b[31m.jpg", "\x1b]0;title\x1b\\.jpg"])
async def test_a_file_name_postgresql_cannot_store_is_422_naming_it(name):
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        response = await upload(http, rep, mp3(3), name)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "file", "filename"]


async def test_uploads_over_the_size_cap_are_413(monkeypatch):
    monkeypatch.setenv("OUTFIELD_MAX_UPLOAD_BYTES", str(3 * 417 + 10))
    get_settings.cache_clear()
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        at_cap = mp3(3)
        assert (await upload(http, rep, at_cap)).status_code == 201
        over = await upload(http, rep, mp3(4))
        assert over.status_code == 413
        assert over.json()["code"] == "file_too_large" and over.json()["max_bytes"] == 1261
        # Far past the cap: refused from the declared length, before the body is parsed.
        huge = await upload(http, rep, mp3(1000))
        assert huge.status_code == 413 and huge.json()["code"] == "file_too_large"
        # No declared length (chunked): refused while the body streams in.
        streamed = await http.post(
            "/v1/files",
            content=chunked_multipart(mp3(1000)),
            headers={**rep, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
        assert streamed.status_code == 413 and streamed.json()["code"] == "file_too_large"


async def test_a_photo_with_too_many_pixels_is_413_before_it_is_decoded(monkeypatch):
    monkeypatch.setattr(media, "MAX_IMAGE_PIXELS", 40 * 20 - 1)
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        response = await upload(http, rep, photo("PNG"))
        assert response.status_code == 413 and response.json()["code"] == "image_too_large"


async def test_upload_needs_a_token_and_a_file():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        assert (await upload(http, {}, mp3())).status_code == 401
        missing = await http.post("/v1/files", data={"note": "x"}, headers=rep)
        assert missing.status_code == 422 and missing.json()["code"] == "validation_failed"


# ---------- dedupe and retries ----------


async def test_a_retry_with_the_same_id_returns_the_same_file_and_stores_the_bytes_once(files_dir):
    content = photo("JPEG")
    file_id = str(uuid.uuid4())
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        first = await upload(http, rep, content, id=file_id)
        assert first.status_code == 201 and first.json()["id"] == file_id
        retry = await upload(http, rep, content, id=file_id)
        assert retry.status_code == 200 and retry.json() == first.json()
        # The same bytes without an id (or with another) are the same file.
        no_id = await upload(http, rep, content)
        assert no_id.status_code == 200 and no_id.json()["id"] == file_id
        stored = list(files_dir.rglob("*"))
        assert [p.name for p in stored if p.is_file()] == [first.json()["sha256"]]
        # The id is taken: other bytes under it are a conflict.
        other = await upload(http, rep, mp3(), id=file_id)
        assert other.status_code == 409 and other.json()["code"] == "id_conflict"


async def test_same_bytes_from_a_colleague_are_stored_once_but_never_grant_the_colleagues_file(
    files_dir,
):
    content = amr()
    async with client() as http:
        company = await signup(http)
        _, first_rep = await company.user("rep")
        _, second_rep = await company.user("rep")
        _, third_rep = await company.user("rep")
        first = (await upload(http, first_rep, content)).json()
        second = await upload(http, second_rep, content)
        # A file of their own (201, as for any new upload: nothing tells the bytes were known).
        assert second.status_code == 201, second.text
        mine = second.json()
        assert mine["id"] != first["id"] and mine["sha256"] == first["sha256"]
        for who, status in ((second_rep, 404), (third_rep, 404), (first_rep, 200)):
            assert (await http.get(f"/v1/files/{first['id']}", headers=who)).status_code == status
        assert (await http.get(f"/v1/files/{mine['id']}", headers=second_rep)).status_code == 200
        assert (await http.get(f"/v1/files/{mine['id']}", headers=first_rep)).status_code == 404
        download = await http.get(f"/v1/files/{mine['id']}/content", headers=second_rep)
        assert download.status_code == 200 and download.content == content
        # Sending them again is a retry of their own file; the bytes are on disk once.
        again = await upload(http, second_rep, content)
        assert again.status_code == 200 and again.json()["id"] == mine["id"]
        assert [p.name for p in files_dir.rglob("*") if p.is_file()] == [first["sha256"]]


async def test_another_company_uploading_the_same_bytes_gets_its_own_file():
    content = mp3()
    async with client() as http:
        acme = await signup(http, "Acme")
        other = await signup(http, "Other")
        mine = (await upload(http, acme.admin, content)).json()
        theirs = await upload(http, other.admin, content)
        assert theirs.status_code == 201 and theirs.json()["id"] != mine["id"]
        assert (await http.get(f"/v1/files/{mine['id']}", headers=other.admin)).status_code == 404
        content_url = f"/v1/files/{mine['id']}/content"
        assert (await http.get(content_url, headers=other.admin)).status_code == 404


# ---------- visibility through attached records ----------


async def insert_checkin(owner_id: str, company_id: str, customer_id: str) -> uuid.UUID:
    at = now()
    checkin = Checkin(
        id=uuid.uuid4(),
        company_id=uuid.UUID(company_id),
        user_id=uuid.UUID(owner_id),
        customer_id=uuid.UUID(customer_id),
        latitude=TIANANMEN["lat"],
        longitude=TIANANMEN["lng"],
        position_key="test",
        submitted_crs="wgs84",
        client_recorded_at=at,
        received_at=at,
        request_hash="test",
    )
    async with session_factory()() as session:
        session.add(checkin)
        await session.commit()
    return checkin.id


async def test_a_file_is_visible_to_whoever_can_see_a_record_it_is_attached_to():
    async with client() as http:
        company = await signup(http)
        owner_id, owner = await company.user("rep")
        collaborator_id, collaborator = await company.user("rep")
        _, bystander = await company.user("rep")
        other_company = await signup(http, "Other")
        customer = await create_customer(http, owner, "Visible Co")
        file_id = (await upload(http, owner, photo("JPEG"))).json()["id"]
        checkin_id = await insert_checkin(owner_id, company.id, customer["id"])
        added = await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": collaborator_id, "role": "technical"},
            headers=owner,
        )
        assert added.status_code == 200, added.text
        url = f"/v1/files/{file_id}"
        # Not attached yet: only the uploader (and admins) see it.
        assert (await http.get(url, headers=collaborator)).status_code == 404
        assert (await http.get(url, headers=company.admin)).status_code == 200

        async with session_factory()() as session:
            owner_principal = await principal_of(owner_id)
            await files.attach_files(
                session, owner_principal, [uuid.UUID(file_id)], "checkin", checkin_id
            )
            await files.attach_files(  # idempotent
                session, owner_principal, [uuid.UUID(file_id)], "checkin", checkin_id
            )
            await session.commit()
            attached = await files.files_for(session, "checkin", [checkin_id, uuid.uuid4()])
        assert attached == {checkin_id: [uuid.UUID(file_id)]}

        for headers, status in (
            (owner, 200),
            (collaborator, 200),
            (company.admin, 200),
            (bystander, 404),
            (other_company.admin, 404),
        ):
            assert (await http.get(url, headers=headers)).status_code == status
            assert (await http.get(f"{url}/content", headers=headers)).status_code == status


async def test_attaching_a_file_the_caller_cannot_see_is_422_unknown_file():
    async with client() as http:
        company = await signup(http)
        owner_id, owner = await company.user("rep")
        _, stranger = await company.user("rep")
        customer = await create_customer(http, owner, "Attach Co")
        mine = uuid.UUID((await upload(http, owner, mp3())).json()["id"])
        theirs = uuid.UUID((await upload(http, stranger, amr())).json()["id"])
        checkin_id = await insert_checkin(owner_id, company.id, customer["id"])
        async with session_factory()() as session:
            with pytest.raises(ProblemError) as refused:
                await files.attach_files(
                    session,
                    await principal_of(owner_id),
                    [mine, theirs, uuid.uuid4()],
                    "checkin",
                    checkin_id,
                    field="photo_ids",
                )
            assert await files.files_for(session, "checkin", [checkin_id]) == {}
        problem = refused.value
        assert problem.status == 422 and problem.code == "unknown_file"
        assert [error["loc"] for error in problem.extra["errors"]] == [
            ["body", "photo_ids", 1],
            ["body", "photo_ids", 2],
        ]


# ---------- storage ----------


async def test_local_disk_storage_round_trip_and_key_safety(tmp_path):
    storage = LocalDiskStorage(tmp_path / "store")
    await storage.put("company/abc", b"one")
    await storage.put("company/abc", b"two")  # replaced atomically
    assert await storage.get("company/abc") == b"two"
    assert await storage.exists("company/abc")
    assert [p.name for p in (tmp_path / "store" / "company").iterdir()] == ["abc"]
    await storage.delete("company/abc")
    await storage.delete("company/abc")
    assert not await storage.exists("company/abc")
    with pytest.raises(MissingObject):
        await storage.get("company/abc")
    for bad in ("../escape", "/etc/passwd", "a/../../b", "a//b", ""):
        with pytest.raises(ValueError):
            await storage.put(bad, b"x")
