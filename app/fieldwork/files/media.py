"""Photo and voice-note bytes: the type from the content, EXIF time and place, metadata stripped.

Pure functions over bytes (no database, no I/O), so tests exercise them directly and the
service runs the CPU-heavy ones in a worker thread.
"""

import io
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import pillow_heif
from PIL import ExifTags, Image, ImageOps

# HEIC/HEIF through Pillow's plugin interface: decode (orientation applied) and EXIF.
pillow_heif.register_heif_opener()

# A 10 MB PNG can decode to gigabytes; phones shoot 12–50 MP, so refuse anything larger
# before decoding a single pixel.
MAX_IMAGE_PIXELS = 60_000_000
JPEG_QUALITY = 90  # also WebP's (lossy) quality

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B "}
_ISO_MEDIA_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"3gp4", b"3gp5", b"3gp6", b"3g2a"}

# MPEG audio layer III bit rates (kbit/s) by index, for MPEG-1 and for MPEG-2/2.5.
_MP3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by version bits (0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1).
_MP3_SAMPLE_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


@dataclass(frozen=True)
class MediaType:
    """What an upload is, judged from its bytes."""

    kind: str  # "photo" or "voice"
    content_type: str
    image_format: str | None = None  # Pillow's format name, photos only


@dataclass(frozen=True)
class PhotoMetadata:
    """EXIF facts kept before the stored copy loses them (WGS-84 degrees, UTC time)."""

    taken_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class PreparedPhoto:
    """The copy to store (metadata stripped, orientation applied) and what EXIF said."""

    content: bytes
    content_type: str
    metadata: PhotoMetadata


class UnreadableImage(ValueError):
    """The bytes start like an image but do not decode as one."""


class ImageTooLarge(ValueError):
    """The image has more pixels than MAX_IMAGE_PIXELS."""


JPEG = MediaType("photo", "image/jpeg", "JPEG")
PNG = MediaType("photo", "image/png", "PNG")
WEBP = MediaType("photo", "image/webp", "WEBP")
HEIC = MediaType("photo", "image/heic", "HEIF")
HEIF = MediaType("photo", "image/heif", "HEIF")
MP3 = MediaType("voice", "audio/mpeg")
AAC = MediaType("voice", "audio/aac")
M4A = MediaType("voice", "audio/mp4")
THREE_GPP = MediaType("voice", "audio/3gpp")
AMR = MediaType("voice", "audio/amr")
AMR_WB = MediaType("voice", "audio/amr-wb")


def sniff(data: bytes) -> MediaType | None:
    """The media type of `data` from its signature, or None when it is not one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"#!AMR-WB\n"):
        return AMR_WB
    if data.startswith(b"#!AMR\n"):
        return AMR
    if data[4:8] == b"ftyp":
        return _sniff_iso_media(data)
    return _sniff_audio_frames(data)


def _sniff_iso_media(data: bytes) -> MediaType | None:
    """ISO base media (HEIC, M4A, 3GP): brands from `ftyp`, tracks from `hdlr` boxes."""
    box_size = int.from_bytes(data[0:4], "big")
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, min(box_size, 4096) - 3, 4)}
    if brands & _HEIC_BRANDS:
        return HEIC
    if major in _HEIF_BRANDS and not brands & _AVIF_BRANDS:
        return HEIF
    if major in _AUDIO_MP4_BRANDS or major in _ISO_MEDIA_BRANDS:
        handlers = _track_handlers(data)
        # An MP4 with a video track is a video, whatever its brand says.
        if b"soun" in handlers and b"vide" not in handlers:
            return THREE_GPP if major.startswith(b"3g") else M4A
    return None


def _track_handlers(data: bytes) -> set[bytes]:
    """Handler types of the `hdlr` boxes (`soun`, `vide`, …) found anywhere in the file."""
    handlers = set()
    at = data.find(b"hdlr")
    while at != -1:
        # box type, then version/flags (4), pre_defined (4), handler_type (4)
        handlers.add(data[at + 12 : at + 16])
        at = data.find(b"hdlr", at + 4)
    return handlers


def _id3_length(data: bytes) -> int:
    """Bytes taken by a leading ID3v2 tag (0 when there is none)."""
    if not data.startswith(b"ID3") or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def _sniff_audio_frames(data: bytes) -> MediaType | None:
    """Raw AAC (ADTS) or MP3: two consecutive valid frame headers (or one that ends the file)."""
    start = _id3_length(data)
    for media, frame_length in ((AAC, _adts_frame_length), (MP3, _mp3_frame_length)):
        first = frame_length(data, start)
        if first is None:
            continue
        following = start + first
        if following >= len(data) or frame_length(data, following) is not None:
            return media
    return None


def _adts_frame_length(data: bytes, at: int) -> int | None:
    header = data[at : at + 7]
    if len(header) < 7 or header[0] != 0xFF or header[1] & 0xF6 != 0xF0:
        return None
    if (header[2] >> 2) & 0x0F > 12:
        return None
    length = ((header[3] & 0x03) << 11) | (header[4] << 3) | (header[5] >> 5)
    return length if length >= 7 else None


def _mp3_frame_length(data: bytes, at: int) -> int | None:
    header = data[at : at + 4]
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0x03
    layer = (header[1] >> 1) & 0x03
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0x03
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _MP3_BITRATES[1 if version == 3 else 2][bitrate_index] * 1000
    sample_rate = _MP3_SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 0x01
    return (144 if version == 3 else 72) * bitrate // sample_rate + padding


def stored_type(media: MediaType) -> MediaType:
    """The format a photo is stored in: its own, except HEIC/HEIF, which become JPEG.

    Browsers and older Android cannot show HEIC, and re-encoding HEVC takes seconds per
    photo (JPEG: a fraction of one), so the stored copy of a HEIC photo is a JPEG.
    """
    return JPEG if media.image_format == "HEIF" else media


def prepare_photo(data: bytes, media: MediaType, local_zone: tzinfo) -> PreparedPhoto:
    """Read EXIF time and GPS, then re-encode upright without any metadata (ICC kept).

    `local_zone` interprets an EXIF time that carries no offset (the phone's clock is
    assumed to be in the company's time zone). Raises UnreadableImage or ImageTooLarge.
    """
    assert media.image_format is not None
    try:
        with Image.open(io.BytesIO(data), formats=[media.image_format]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageTooLarge(f"{width}×{height} pixels")
            metadata = read_metadata(image, local_zone)
            image.load()
            output = stored_type(media)
            content = _encode_bare(ImageOps.exif_transpose(image), output)
    except ImageTooLarge:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadableImage(str(exc)) from exc
    return PreparedPhoto(content, output.content_type, metadata)


def _encode_bare(image: Image.Image, media: MediaType) -> bytes:
    """The pixels encoded as `media`, with no EXIF, XMP or text chunks."""
    icc_profile = image.info.get("icc_profile")
    has_alpha = "A" in image.mode or "transparency" in image.info
    if media is JPEG:
        mode = "L" if image.mode == "L" else "RGB"
    elif image.mode in ("RGB", "RGBA", "L", "LA"):
        mode = image.mode
    else:
        mode = "RGBA" if has_alpha else "RGB"
    # convert() returns a new image; replacing its info drops every metadata block
    # (encoders read EXIF/XMP from info, and a new image has no parsed EXIF cached).
    bare = image.convert(mode)
    bare.info = {"icc_profile": icc_profile} if icc_profile else {}
    options: dict[str, object] = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if media in (JPEG, WEBP):
        options["quality"] = JPEG_QUALITY
    output = io.BytesIO()
    bare.save(output, format=media.image_format, **options)
    return output.getvalue()


def read_metadata(image: Image.Image, local_zone: tzinfo) -> PhotoMetadata:
    """Capture time (UTC) and GPS position from EXIF; anything malformed is ignored."""
    try:
        exif = image.getexif()
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        latitude, longitude = _gps_position(gps_ifd)
        return PhotoMetadata(_taken_at(exif_ifd, gps_ifd, local_zone), latitude, longitude)
    except Exception:  # noqa: BLE001 - broken EXIF (any parser error) must not fail an upload
        return PhotoMetadata()


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ").strip() or None


def _parse_exif_time(value: object) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _parse_offset(value: object) -> timezone | None:
    text = _text(value)
    match = _OFFSET.fullmatch(text or "")
    if match is None:
        return None
    sign = -1 if match[1] == "-" else 1
    minutes = int(match[2]) * 60 + int(match[3])
    if minutes > 14 * 60:
        return None
    return timezone(sign * timedelta(minutes=minutes))


def _taken_at(
    exif_ifd: dict[int, Any], gps_ifd: dict[int, Any], local_zone: tzinfo
) -> datetime | None:
    """DateTimeOriginal with its offset, else the GPS (UTC) stamp, else local time."""
    original = _parse_exif_time(exif_ifd.get(ExifTags.Base.DateTimeOriginal))
    if original is None:
        original = _parse_exif_time(exif_ifd.get(ExifTags.Base.DateTimeDigitized))
    offset = _parse_offset(exif_ifd.get(ExifTags.Base.OffsetTimeOriginal))
    if original is not None and offset is not None:
        return original.replace(tzinfo=offset).astimezone(UTC)
    gps_time = _gps_time(gps_ifd)
    if gps_time is not None:
        return gps_time
    if original is not None:
        return original.replace(tzinfo=local_zone).astimezone(UTC)
    return None


def _gps_time(gps_ifd: dict[int, Any]) -> datetime | None:
    date = _text(gps_ifd.get(ExifTags.GPS.GPSDateStamp))
    stamp = gps_ifd.get(ExifTags.GPS.GPSTimeStamp)
    if date is None or not isinstance(stamp, tuple) or len(stamp) != 3:
        return None
    try:
        day = datetime.strptime(date, "%Y:%m:%d").replace(tzinfo=UTC)
        hours, minutes, seconds = (float(part) for part in stamp)
    except (ValueError, TypeError, ZeroDivisionError):
        return None
    if not all(math.isfinite(part) for part in (hours, minutes, seconds)):
        return None
    return day + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _degrees(value: object, reference: object, negative: str) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (ValueError, TypeError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(result):
        return None
    return -result if _text(reference) == negative else result


def _gps_position(gps_ifd: dict[int, Any]) -> tuple[float | None, float | None]:
    latitude = _degrees(
        gps_ifd.get(ExifTags.GPS.GPSLatitude), gps_ifd.get(ExifTags.GPS.GPSLatitudeRef), "S"
    )
    longitude = _degrees(
        gps_ifd.get(ExifTags.GPS.GPSLongitude), gps_ifd.get(ExifTags.GPS.GPSLongitudeRef), "W"
    )
    if latitude is None or longitude is None:
        return None, None
    # 0/0 is what some cameras write when they had no fix.
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or latitude == longitude == 0:
        return None, None
    return round(latitude, 7), round(longitude, 7)
