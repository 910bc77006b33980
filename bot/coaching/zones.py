"""Time zones from what people type or share, resolved offline: IANA names, cities, coordinates."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

import tzfpy

from content.translations import load_translations

# Big cities whose zone is named after another city (IANA names one city per zone).
CITY_ALIASES: dict[str, str] = {
    "munich": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "köln": "Europe/Berlin",
    "münchen": "Europe/Berlin",
    "barcelona": "Europe/Madrid",
    "milan": "Europe/Rome",
    "milano": "Europe/Rome",
    "naples": "Europe/Rome",
    "florence": "Europe/Rome",
    "geneva": "Europe/Zurich",
    "manchester": "Europe/London",
    "edinburgh": "Europe/London",
    "glasgow": "Europe/London",
    "birmingham": "Europe/London",
    "cardiff": "Europe/London",
    "belfast": "Europe/London",
    "cork": "Europe/Dublin",
    "porto": "Europe/Lisbon",
    "lyon": "Europe/Paris",
    "marseille": "Europe/Paris",
    "rotterdam": "Europe/Amsterdam",
    "the hague": "Europe/Amsterdam",
    "antwerp": "Europe/Brussels",
    "krakow": "Europe/Warsaw",
    "kraków": "Europe/Warsaw",
    "st petersburg": "Europe/Moscow",
    "saint petersburg": "Europe/Moscow",
    "kiev": "Europe/Kyiv",
    "odessa": "Europe/Kyiv",
    "gothenburg": "Europe/Stockholm",
    "new york city": "America/New_York",
    "nyc": "America/New_York",
    "boston": "America/New_York",
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "philadelphia": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "pittsburgh": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "portland": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "austin": "America/Chicago",
    "minneapolis": "America/Chicago",
    "new orleans": "America/Chicago",
    "san antonio": "America/Chicago",
    "salt lake city": "America/Denver",
    "calgary": "America/Edmonton",
    "ottawa": "America/Toronto",
    "montreal": "America/Toronto",
    "montréal": "America/Toronto",
    "quebec": "America/Toronto",
    "rio de janeiro": "America/Sao_Paulo",
    "rio": "America/Sao_Paulo",
    "são paulo": "America/Sao_Paulo",
    "brasilia": "America/Sao_Paulo",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "hyderabad": "Asia/Kolkata",
    "beijing": "Asia/Shanghai",
    "shenzhen": "Asia/Shanghai",
    "guangzhou": "Asia/Shanghai",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "hanoi": "Asia/Bangkok",
    "ho chi minh city": "Asia/Ho_Chi_Minh",
    "saigon": "Asia/Ho_Chi_Minh",
    "abu dhabi": "Asia/Dubai",
    "tel aviv": "Asia/Jerusalem",
    "canberra": "Australia/Sydney",
    "gold coast": "Australia/Brisbane",
    "wellington": "Pacific/Auckland",
    "christchurch": "Pacific/Auckland",
    "cape town": "Africa/Johannesburg",
    "pretoria": "Africa/Johannesburg",
    "durban": "Africa/Johannesburg",
}
_SPACES = re.compile(r"[\s_]+")


@dataclass(frozen=True)
class ZoneMatch:
    key: str
    exact: bool


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower())


@cache
def _names() -> dict[str, str]:
    """Every way of naming a zone we accept: full IANA name, and its city part."""
    names: dict[str, str] = {}
    for key in sorted(available_timezones()):
        # Legacy names without a region ("EST", "GMT", "Cuba") are fixed offsets or aliases that
        # would silently ignore summer time: a region/city name or a city is asked for instead.
        if "/" not in key or key.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        names[_norm(key)] = key
        names.setdefault(_norm(key.rsplit("/", 1)[-1]), key)
    for alias, key in CITY_ALIASES.items():
        names.setdefault(_norm(alias), key)
    # Local names in every language Limber speaks ("ciudad de méxico", "москва"), kept as content.
    for translation in load_translations().values():
        for city, key in translation.cities.items():
            names.setdefault(_norm(city), key)
    names["utc"] = "UTC"
    return names


def resolve_zone(text: str) -> ZoneMatch | None:
    """An IANA name ("Europe/Berlin") or a city ("berlin", "San Francisco"); close typos as inexact."""
    wanted = _norm(text[:60])
    if not wanted:
        return None
    names = _names()
    if wanted in names:
        return ZoneMatch(names[wanted], exact=True)
    close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.8)
    return ZoneMatch(names[close[0]], exact=False) if close else None


def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone of a shared location, from boundary data shipped with tzfpy (no network)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    key = tzfpy.get_tz(longitude, latitude)
    # Open sea gives nautical "Etc/GMT±n" zones: better to ask for a city.
    return key if key and not key.startswith("Etc/") and is_zone(key) else None


def is_zone(key: str) -> bool:
    """Only zones we would offer ourselves: a forged name ("Europe", "localtime") is not one."""
    return key in _zone_keys()


@cache
def _zone_keys() -> frozenset[str]:
    return frozenset(_names().values())


@cache
def _zone_countries() -> dict[str, str]:
    """Each IANA zone's country (ISO 3166), from tzdata's zone.tab; links resolve through their target."""
    from importlib.resources import files

    table: dict[str, str] = {}
    for line in (files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            country, _coords, zone, *_ = line.split("\t")
            table[zone] = country
    return table


# Old names and links that zone.tab does not list.
_LINKS = {
    "Europe/Kiev": "Europe/Kyiv",
    "US/Eastern": "America/New_York",
    "US/Central": "America/Chicago",
    "US/Mountain": "America/Denver",
    "US/Pacific": "America/Los_Angeles",
    "GB": "Europe/London",
}


def country_of(zone: str | None) -> str | None:
    """The country a time zone belongs to, or None (UTC, unknown zones)."""
    if not zone:
        return None
    zone = _LINKS.get(zone, zone)
    return _zone_countries().get(zone)
