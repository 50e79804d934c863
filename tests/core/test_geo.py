import math

import pytest

from app.core.geo import (
    CRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_m,
    is_outside_china,
    to_wgs84,
    validate_lat_lng,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# (lat, lng) of city centres; each gets a 5x5 grid of +-0.4 degree offsets.
CITIES = {
    "beijing": (39.9042, 116.4074),
    "shanghai": (31.2304, 121.4737),
    "guangzhou": (23.1291, 113.2644),
    "chengdu": (30.5728, 104.0668),
    "urumqi": (43.8256, 87.6168),
    "harbin": (45.8038, 126.5350),
    "shenzhen": (22.5431, 114.0579),
}
OUTSIDE_CHINA = {
    "london": (51.5074, -0.1278),
    "new_york": (40.7128, -74.0060),
    "sydney": (-33.8688, 151.2093),
    "tokyo_east_of_box": (35.6762, 139.6503),
}
DEG_TOL = 1e-9


def _grid():
    for lat0, lng0 in CITIES.values():
        for i in range(-2, 3):
            for j in range(-2, 3):
                yield lat0 + 0.2 * i, lng0 + 0.2 * j


def _close(actual, expected, tol=DEG_TOL):
    return all(math.isclose(a, e, abs_tol=tol) for a, e in zip(actual, expected, strict=True))


def test_crs_values_and_string_lookup():
    assert [c.value for c in CRS] == ["wgs84", "gcj02", "bd09"]
    assert CRS("gcj02") is CRS.GCJ02
    assert CRS.BD09 == "bd09"


def test_wgs84_to_gcj02_matches_published_reference_point():
    # Published by the widely used coordtransform library (lng, lat swapped to lat, lng).
    assert _close(wgs84_to_gcj02(39.915, 116.404), (39.91640428150164, 116.41024449916938))


def test_wgs84_to_gcj02_tiananmen_shift_is_the_well_known_offset():
    lat, lng = wgs84_to_gcj02(39.9087, 116.3975)
    assert lat - 39.9087 == pytest.approx(0.0014, abs=5e-5)
    assert lng - 116.3975 == pytest.approx(0.0062, abs=1e-4)
    assert 400 < haversine_m(39.9087, 116.3975, lat, lng) < 700


def test_gcj02_to_bd09_matches_published_reference_points():
    assert _close(gcj02_to_bd09(39.915, 116.404), (39.92133699351021, 116.41036949371029))
    assert _close(gcj02_to_bd09(45.0, 123.0), (45.00636899, 123.00636499), tol=1e-8)


def test_bd09_to_gcj02_agrees_with_published_one_step_value_within_centimetres():
    lat, lng = bd09_to_gcj02(39.915, 116.404)
    assert haversine_m(lat, lng, 39.90865673957631, 116.39762729119315) < 0.1


def test_gcj02_to_wgs84_agrees_with_published_values_within_a_metre():
    # Published values come from cruder inverses; ours must be close to them but exact.
    lat, lng = gcj02_to_wgs84(39.915, 116.404)
    assert haversine_m(lat, lng, 39.91359571849836, 116.39775550083061) < 1.0
    lat, lng = gcj02_to_wgs84(45.0, 123.0)
    assert haversine_m(lat, lng, 44.99804071, 122.99395597) < 1.0


def test_gcj02_to_wgs84_inverts_forward_transform_exactly():
    for lat, lng in _grid():
        assert _close(wgs84_to_gcj02(*gcj02_to_wgs84(lat, lng)), (lat, lng))


def test_gcj02_to_wgs84_round_trip_error_under_one_metre_across_china():
    errors = [
        haversine_m(lat, lng, *gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))) for lat, lng in _grid()
    ]
    assert len(errors) == 25 * len(CITIES)
    assert max(errors) < 0.01


def test_bd09_to_wgs84_round_trip_error_under_one_metre_across_china():
    errors = [
        haversine_m(lat, lng, *bd09_to_wgs84(*wgs84_to_bd09(lat, lng))) for lat, lng in _grid()
    ]
    assert max(errors) < 0.01


def test_bd09_to_gcj02_round_trip_error_under_one_metre_across_china():
    errors = [
        haversine_m(lat, lng, *bd09_to_gcj02(*gcj02_to_bd09(lat, lng))) for lat, lng in _grid()
    ]
    assert max(errors) < 0.01


def test_inverse_is_better_than_naive_one_step_approximation():
    lat, lng = CITIES["beijing"]
    g_lat, g_lng = wgs84_to_gcj02(lat, lng)
    s_lat, s_lng = wgs84_to_gcj02(g_lat, g_lng)
    naive = (2 * g_lat - s_lat, 2 * g_lng - s_lng)
    naive_err = haversine_m(lat, lng, *naive)
    exact_err = haversine_m(lat, lng, *gcj02_to_wgs84(g_lat, g_lng))
    assert exact_err < naive_err
    assert exact_err < 0.001


def test_bd09_is_shifted_further_than_gcj02():
    lat, lng = CITIES["shanghai"]
    gcj_shift = haversine_m(lat, lng, *wgs84_to_gcj02(lat, lng))
    bd_shift = haversine_m(lat, lng, *wgs84_to_bd09(lat, lng))
    assert 100 < gcj_shift < 1000
    assert bd_shift > gcj_shift


def test_china_bounding_box_classification():
    for lat, lng in CITIES.values():
        assert not is_outside_china(lat, lng)
    for lat, lng in OUTSIDE_CHINA.values():
        assert is_outside_china(lat, lng)


def test_gcj02_is_identity_outside_china():
    for lat, lng in OUTSIDE_CHINA.values():
        assert wgs84_to_gcj02(lat, lng) == (lat, lng)
        assert gcj02_to_wgs84(lat, lng) == (lat, lng)


def test_bd09_still_applies_its_own_transform_outside_china():
    for lat, lng in OUTSIDE_CHINA.values():
        bd = wgs84_to_bd09(lat, lng)
        assert bd == gcj02_to_bd09(lat, lng)
        assert bd != (lat, lng)
        assert haversine_m(lat, lng, *bd09_to_wgs84(*bd)) < 0.01


def test_to_wgs84_dispatches_on_crs_enum_and_string():
    lat, lng = CITIES["guangzhou"]
    gcj = wgs84_to_gcj02(lat, lng)
    bd = wgs84_to_bd09(lat, lng)
    assert to_wgs84(lat, lng, CRS.WGS84) == (lat, lng)
    assert to_wgs84(*gcj, "gcj02") == gcj02_to_wgs84(*gcj)
    assert to_wgs84(*bd, CRS.BD09) == bd09_to_wgs84(*bd)
    assert haversine_m(lat, lng, *to_wgs84(*bd, "bd09")) < 0.01


def test_from_wgs84_dispatches_on_crs_enum_and_string():
    lat, lng = CITIES["chengdu"]
    assert from_wgs84(lat, lng, "wgs84") == (lat, lng)
    assert from_wgs84(lat, lng, CRS.GCJ02) == wgs84_to_gcj02(lat, lng)
    assert from_wgs84(lat, lng, "bd09") == wgs84_to_bd09(lat, lng)


def test_unknown_crs_string_is_rejected():
    with pytest.raises(ValueError):
        to_wgs84(39.9, 116.4, "epsg3857")
    with pytest.raises(ValueError):
        from_wgs84(39.9, 116.4, "mars")


def test_haversine_beijing_to_shanghai_is_about_1067_km():
    d = haversine_m(*CITIES["beijing"], *CITIES["shanghai"])
    assert 1_067_000 < d < 1_068_000


def test_haversine_one_degree_of_latitude_is_about_111_2_km():
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195, abs=1)
    assert haversine_m(45.0, 10.0, 46.0, 10.0) == pytest.approx(111_195, abs=1)


def test_haversine_is_zero_for_same_point_and_symmetric():
    assert haversine_m(22.5, 114.0, 22.5, 114.0) == 0.0
    a = haversine_m(*CITIES["harbin"], *CITIES["urumqi"])
    b = haversine_m(*CITIES["urumqi"], *CITIES["harbin"])
    assert a == pytest.approx(b)


def test_haversine_antipodal_points_are_half_circumference_apart():
    assert haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * 6371008.8)


def test_validate_accepts_boundary_values():
    for lat, lng in [(90, 180), (-90, -180), (0, 0), (45.5, -120.25)]:
        validate_lat_lng(lat, lng)


@pytest.mark.parametrize(
    ("lat", "lng"),
    [(90.0001, 0), (-91, 0), (0, 180.5), (0, -181), (float("nan"), 0), (0, float("inf"))],
)
def test_validate_rejects_out_of_range_coordinates(lat, lng):
    with pytest.raises(ValueError):
        validate_lat_lng(lat, lng)


def test_conversions_validate_input_range():
    with pytest.raises(ValueError, match="latitude"):
        to_wgs84(95.0, 116.4, CRS.GCJ02)
    with pytest.raises(ValueError, match="longitude"):
        from_wgs84(39.9, 200.0, CRS.BD09)
