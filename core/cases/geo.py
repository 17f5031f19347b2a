"""Where a point is: inside a municipality, which municipality, and what is near it."""

from __future__ import annotations

import math
from typing import Any

from flask import current_app
from shapely.geometry import Point, shape
from shapely.prepared import prep

from core.tenancy.models import Tenant

EARTH_RADIUS_M = 6_371_000


def valid_wgs84(lat: float, lon: float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180 and not (math.isnan(lat) or math.isnan(lon))


def _prepared(tenant: Tenant) -> Any:
    cache: dict[tuple[int, int], Any] = current_app.extensions.setdefault("fygitaal.boundaries", {})
    key = (tenant.id, tenant.config_version)
    if key not in cache:
        cache[key] = prep(shape(tenant.boundary))
    return cache[key]


def contains(tenant: Tenant, lat: float, lon: float) -> bool:
    """Is the point inside the municipality's boundary? (GeoJSON order: longitude, latitude.)"""
    return _prepared(tenant).contains(Point(lon, lat))


def tenant_at(tenants: list[Tenant], lat: float, lon: float) -> Tenant | None:
    """The municipality whose boundary contains the point (routing a platform-level report)."""
    return next((t for t in tenants if contains(t, lat, lon)), None)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) around a point: a cheap index-friendly prefilter."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 0.01)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
