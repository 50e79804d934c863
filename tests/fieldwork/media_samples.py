"""Real media bytes for file tests: photos with phone-like EXIF, voice-note frames."""

import io
import struct

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational


def exif_block(*, orientation: int = 6, offset: str | None = "+08:00", gps: bool = True) -> bytes:
    """EXIF as a phone writes it: camera, capture time, GPS (Tiananmen), orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Orientation] = orientation
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "2024:05:01 10:30:00"
    if offset:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    if gps:
        position = exif.get_ifd(ExifTags.IFD.GPSInfo)
        position[ExifTags.GPS.GPSLatitudeRef] = "N"
        position[ExifTags.GPS.GPSLatitude] = (
            IFDRational(39),
            IFDRational(54),
            IFDRational(3132, 100),
        )
        position[ExifTags.GPS.GPSLongitudeRef] = "E"
        position[ExifTags.GPS.GPSLongitude] = (
            IFDRational(116),
            IFDRational(23),
            IFDRational(5100, 100),
        )
    return exif.tobytes()


def photo(image_format: str = "JPEG", *, color=(200, 30, 30), **exif_options) -> bytes:
    """A 40×20 image (it displays 20×40: orientation 6 means rotate 90°)."""
    output = io.BytesIO()
    options = {"exif": exif_block(**exif_options)}
    if image_format in ("JPEG", "WEBP"):
        options["xmp"] = b'<x:xmpmeta><rdf:Description exif:GPSLatitude="39,54.52N"/></x:xmpmeta>'
    Image.new("RGB", (40, 20), color).save(output, format=image_format, **options)
    return output.getvalue()


def mp3(frames: int = 3) -> bytes:
    """ID3 tag + MPEG-1 layer III frames, 128 kbit/s at 44.1 kHz (417 bytes each)."""
    frame = b"\xff\xfb\x90\x00" + bytes(413)
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + frame * frames


def adts_aac(frames: int = 3) -> bytes:
    """Raw AAC: ADTS frames of 64 bytes."""
    length = 64
    header = bytes(
        [
            0xFF,
            0xF1,
            0x50,
            0x80 | (length >> 11),
            (length >> 3) & 0xFF,
            ((length & 7) << 5) | 0x1F,
            0xFC,
        ]
    )
    return (header + bytes(length - 7)) * frames


def amr() -> bytes:
    """AMR-NB: magic + 12.2 kbit/s frames (32 bytes each)."""
    return b"#!AMR\n" + (b"\x3c" + bytes(31)) * 5


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def iso_media(major: bytes, handler: bytes) -> bytes:
    """An ISO base media file (M4A, MP4) whose single track has `handler` (soun, vide)."""
    hdlr = box(b"hdlr", bytes(8) + handler + bytes(12) + b"Handler\x00")
    moov = box(b"moov", box(b"trak", box(b"mdia", hdlr)))
    return box(b"ftyp", major + bytes(4) + major + b"isom") + moov + box(b"mdat", bytes(256))


BOUNDARY = "outfield-test-boundary"


async def chunked_multipart(content: bytes):
    """A multipart body sent in 16 KiB chunks without a Content-Length."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    for start in range(0, len(content), 16384):
        yield content[start : start + 16384]
    yield f"\r\n--{BOUNDARY}--\r\n".encode()
