"""Realistic US-style addresses for the rehearsal, and how a client reads them back.

The generator is seeded, so a run is reproducible. :func:`parts_of` is the *client's* view of
an address (flat ``"street, city, ST, zip"`` or the structured v2 object) used to check what a
release returns against what was written; it is deliberately independent of the parser the
migration uses, so the check does not just agree with itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

_STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd",
    "Lake View Rd", "Sunset Blvd", "Hillcrest Ave", "River Rd", "Park Pl", "2nd St",
    "Highland Ave", "Jefferson St", "Mill Creek Rd", "Broadway", "Church St",
)  # fmt: skip
_CITIES = (
    ("Springfield", "IL"), ("Portland", "OR"), ("Austin", "TX"), ("Denver", "CO"),
    ("Madison", "WI"), ("Boise", "ID"), ("Raleigh", "NC"), ("Tucson", "AZ"),
    ("Burlington", "VT"), ("Savannah", "GA"), ("Ann Arbor", "MI"), ("Santa Fe", "NM"),
    ("Salt Lake City", "UT"), ("St. Louis", "MO"), ("Coeur d'Alene", "ID"),
)  # fmt: skip
_STATE_NAMES = {
    "IL": "Illinois", "OR": "Oregon", "TX": "Texas", "CO": "Colorado", "WI": "Wisconsin",
    "ID": "Idaho", "NC": "North Carolina", "AZ": "Arizona", "VT": "Vermont", "GA": "Georgia",
    "MI": "Michigan", "NM": "New Mexico", "UT": "Utah", "MO": "Missouri",
}  # fmt: skip
_UNITS = ("Apt 4B", "Suite 200", "Unit 7", "#12")
_FIRST = ("Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
          "José", "Zoë", "Søren", "Aiko", "Chidi", "Priya", "O'Brien")  # fmt: skip
_LAST = ("Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov",
         "Ritchie", "Allen", "García", "Nguyen", "Kowalski", "Okafor", "Sharma")  # fmt: skip

# The kinds of bad data a real customers table has; each must end up quarantined, not lost.
MALFORMED = (
    "PO Box 12",  # too few parts
    "1 Infinite Loop, Cupertino, California, 95014",  # state spelled out
    "221B Baker Street, London, NW1 6XE",  # not a US address
    "500 Oak Ave, Denver, CO, 8020",  # four-digit zip
    "",  # empty
    "742 Evergreen Terrace, Springfield, , 49007",  # empty state
)


@dataclass(frozen=True)
class Address:
    """The four parts green stores; ``flat`` is how blue stores them."""

    street: str
    city: str
    state: str
    zip: str

    @property
    def flat(self) -> str:
        return f"{self.street}, {self.city}, {self.state}, {self.zip}"


class AddressBook:
    """A seeded source of names, emails and addresses (unique emails, thread-safe enough:
    callers draw under their own lock)."""

    def __init__(self, seed: int = 8) -> None:
        self._random = random.Random(seed)
        self._serial = 0

    def address(self) -> Address:
        r = self._random
        number = r.randint(1, 9999)
        street = f"{number} {r.choice(_STREETS)}"
        if r.random() < 0.15:
            # A comma inside the street: the parser must keep it (last three parts rule).
            street = f"{street}, {r.choice(_UNITS)}"
        city, state = r.choice(_CITIES)
        zip_code = f"{r.randint(501, 99950):05d}"
        if r.random() < 0.1:
            zip_code = f"{zip_code}-{r.randint(0, 9999):04d}"
        return Address(street, city, state, zip_code)

    def name(self) -> str:
        return f"{self._random.choice(_FIRST)} {self._random.choice(_LAST)}"

    def email(self, prefix: str = "customer") -> str:
        self._serial += 1
        return f"{prefix}{self._serial}.{self._random.randrange(16**6):06x}@example.test"

    def malformed(self) -> str:
        return self._random.choice(MALFORMED)

    def rejected(self) -> str:
        """An address blue stores and the parser rejects, the kinds real users type: the state
        spelled out, the zip left off, a four-digit zip, a foreign postcode."""
        r = self._random
        good = self.address()
        state = _STATE_NAMES.get(good.state, "Illinois")
        return r.choice(
            (
                f"{good.street}, {good.city}, {state}, {good.zip}",
                f"{good.street}, {good.city}, {good.state}",
                f"{good.street}, {good.city}, {good.state}, {good.zip[:4]}",
                f"{r.randint(1, 300)} High Street, Oxford, OX1 {r.randint(1, 9)}AB",
            )
        )


def parts_of(value: Any) -> Address | None:
    """What a client sees: an :class:`Address` from a flat string or a v2 object.

    ``None`` when the address is missing or incomplete (what a broken migration shows).
    """
    if isinstance(value, dict):
        fields = [value.get(k) for k in ("street", "city", "state", "zip")]
        if not all(isinstance(f, str) and f.strip() for f in fields):
            return None
        street, city, state, zip_code = (str(f).strip() for f in fields)
        return Address(street, city, state.upper(), zip_code)
    if isinstance(value, str):
        pieces = [p.strip() for p in value.split(",")]
        if len(pieces) < 4 or not all(pieces):
            return None
        return Address(", ".join(pieces[:-3]), pieces[-3], pieces[-2].upper(), pieces[-1])
    return None
