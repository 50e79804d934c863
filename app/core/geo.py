"""Coordinate reference system conversions and distances for field check-ins.

Chinese map SDKs (AMap/Tencent speak GCJ-02, Baidu speaks BD-09) return shifted
coordinates, while Outfield stores everything as WGS-84. This module converts
between the three systems (with accurate iterative inverses) and measures
great-circle distances. Pure Python; the published GCJ-02 (Krasovsky ellipsoid)
and BD-09 formulas are implemented from their documented constants.
"""

import math
from collections.abc import Callable
from enum import StrEnum

_A = 6378245.0  # Krasovsky 1940 semi-major axis (m), as used by GCJ-02
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
EARTH_RADIUS_M = 6371008.8  # IUGG mean earth radius

_INVERSE_TOL_DEG = 1e-10  # ~0.01 mm
_INVERSE_MAX_ITER = 50

LatLng = tuple[float, float]


class CRS(StrEnum):
    """Coordinate reference systems a client may send."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def validate_lat_lng(lat: float, lng: float) -> None:
    """Raise ValueError unless lat is in [-90, 90] and lng in [-180, 180]."""
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude must be within [-90, 90], got {lat!r}")
    if not -180.0 <= lng <= 180.0:
        raise ValueError(f"longitude must be within [-180, 180], got {lng!r}")


def is_outside_china(lat: float, lng: float) -> bool:
    """Return True if the point lies outside the rough mainland-China bounding box."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    """Return the raw GCJ-02 latitude shift (metres on the ellipsoid) for offsets x, y."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _shift_lng(x: float, y: float) -> float:
    """Return the raw GCJ-02 longitude shift (metres on the ellipsoid) for offsets x, y."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _invert(forward: Callable[[float, float], LatLng], lat: float, lng: float) -> LatLng:
    """Solve forward(p) == (lat, lng) for p by fixed-point iteration."""
    p_lat, p_lng = lat, lng
    for _ in range(_INVERSE_MAX_ITER):
        f_lat, f_lng = forward(p_lat, p_lng)
        d_lat, d_lng = f_lat - lat, f_lng - lng
        p_lat, p_lng = p_lat - d_lat, p_lng - d_lng
        if abs(d_lat) < _INVERSE_TOL_DEG and abs(d_lng) < _INVERSE_TOL_DEG:
            break
    return p_lat, p_lng


def wgs84_to_gcj02(lat: float, lng: float) -> LatLng:
    """Convert WGS-84 to GCJ-02 (identity outside mainland China)."""
    if is_outside_china(lat, lng):
        return lat, lng
    d_lat = _shift_lat(lng - 105.0, lat - 35.0)
    d_lng = _shift_lng(lng - 105.0, lat - 35.0)
    rad_lat = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


def gcj02_to_wgs84(lat: float, lng: float) -> LatLng:
    """Convert GCJ-02 to WGS-84 by iterating the forward transform (sub-millimetre)."""
    if is_outside_china(lat, lng):
        return lat, lng
    return _invert(wgs84_to_gcj02, lat, lng)


def gcj02_to_bd09(lat: float, lng: float) -> LatLng:
    """Convert GCJ-02 to BD-09 (applied everywhere, as Baidu does)."""
    z = math.hypot(lng, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lng: float) -> LatLng:
    """Convert BD-09 to GCJ-02 by iterating the forward transform."""
    return _invert(gcj02_to_bd09, lat, lng)


def wgs84_to_bd09(lat: float, lng: float) -> LatLng:
    """Convert WGS-84 to BD-09 via GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))


def bd09_to_wgs84(lat: float, lng: float) -> LatLng:
    """Convert BD-09 to WGS-84 via GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))


_TO_WGS84: dict[CRS, Callable[[float, float], LatLng]] = {
    CRS.WGS84: lambda lat, lng: (lat, lng),
    CRS.GCJ02: gcj02_to_wgs84,
    CRS.BD09: bd09_to_wgs84,
}
_FROM_WGS84: dict[CRS, Callable[[float, float], LatLng]] = {
    CRS.WGS84: lambda lat, lng: (lat, lng),
    CRS.GCJ02: wgs84_to_gcj02,
    CRS.BD09: wgs84_to_bd09,
}


def to_wgs84(lat: float, lng: float, crs: CRS | str) -> LatLng:
    """Validate and convert a point in `crs` (CRS or its string value) to WGS-84."""
    validate_lat_lng(lat, lng)
    return _TO_WGS84[CRS(crs)](lat, lng)


def from_wgs84(lat: float, lng: float, crs: CRS | str) -> LatLng:
    """Validate and convert a WGS-84 point to `crs` (CRS or its string value)."""
    validate_lat_lng(lat, lng)
    return _FROM_WGS84[CRS(crs)](lat, lng)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Return the great-circle distance in metres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
