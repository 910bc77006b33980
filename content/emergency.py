"""Who to call for help, by country (`content/emergency.yaml`), checked by a schema at load."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

EMERGENCY_FILE = Path(__file__).resolve().parent / "emergency.yaml"
Number = str


class Contacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    emergency: Number = Field(min_length=2, max_length=40)
    urgent: str | None = Field(default=None, min_length=2, max_length=60)
    # The local name of the emergency department where it differs ("A&E").
    department: str | None = Field(default=None, min_length=2, max_length=40)


class EmergencyBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    default: Contacts
    countries: dict[str, Contacts]

    def for_country(self, country: str | None) -> tuple[Contacts, bool]:
        """The contacts for a country, and whether they are that country's own (not the default)."""
        found = self.countries.get(country or "")
        return (found, True) if found is not None else (self.default, False)


@cache
def load_emergency_book(path: Path = EMERGENCY_FILE) -> EmergencyBook:
    return EmergencyBook.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
