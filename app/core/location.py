"""The API's location object (API.md): any CRS in, WGS-84 stored, any CRS out."""

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.geo import CRS, from_wgs84, to_wgs84
from app.core.strict import StrictScalars


class LocationIn(StrictScalars):
    """A point as the phone or map SDK reports it."""

    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    crs: CRS = CRS.WGS84

    @model_validator(mode="after")
    def _finite(self) -> "LocationIn":
        if self.lat != self.lat or self.lng != self.lng:
            raise ValueError("lat and lng must be numbers")
        return self

    def wgs84(self) -> tuple[float, float]:
        """(lat, lng) in WGS-84, the CRS we store."""
        return to_wgs84(self.lat, self.lng, self.crs)


class LocationOut(BaseModel):
    lat: float
    lng: float
    crs: CRS


def location_out(lat: float | None, lng: float | None, crs: CRS) -> LocationOut | None:
    """A stored WGS-84 point rendered in the CRS the caller asked for."""
    if lat is None or lng is None:
        return None
    out_lat, out_lng = from_wgs84(lat, lng, crs)
    return LocationOut(lat=round(out_lat, 7), lng=round(out_lng, 7), crs=crs)
