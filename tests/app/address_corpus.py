"""Malformed and edge-case addresses with the documented result of each (issue 5, item 3).

An entry is ``(input, expected)``: ``expected`` is the four parts ``(street, city, state, zip)``
when the address is accepted, or the exact reject reason when it is not.
"""

from __future__ import annotations

Parts = tuple[str, str, str, str]

ACCEPTED: list[tuple[str, Parts]] = [
    ("123 Main St, Springfield, IL, 62701", ("123 Main St", "Springfield", "IL", "62701")),
    (
        "123 Main St, Apt 4B, Springfield, IL, 62701",
        ("123 Main St, Apt 4B", "Springfield", "IL", "62701"),
    ),
    (
        "500 Oak Ave, Suite 200, Floor 3, Denver, CO, 80202",
        ("500 Oak Ave, Suite 200, Floor 3", "Denver", "CO", "80202"),
    ),
    ("Apt 4, 1 Main St, Anytown, NY, 10001", ("Apt 4, 1 Main St", "Anytown", "NY", "10001")),
    ("1 Main St ,Apt 4 , Anytown, NY, 10001", ("1 Main St ,Apt 4", "Anytown", "NY", "10001")),
    (
        "1 Infinite Loop, Cupertino, CA, 95014-2083",
        ("1 Infinite Loop", "Cupertino", "CA", "95014-2083"),
    ),
    (
        "1600 Pennsylvania Ave NW, Washington, DC, 20500-0003",
        ("1600 Pennsylvania Ave NW", "Washington", "DC", "20500-0003"),
    ),
    (
        "123 Main Street, Springfield, IL, 62701-0000",
        ("123 Main Street", "Springfield", "IL", "62701-0000"),
    ),
    (
        "742 Evergreen Terrace, Springfield, or, 97477",
        ("742 Evergreen Terrace", "Springfield", "OR", "97477"),
    ),
    ("1 Main St, Springfield, Il, 62701", ("1 Main St", "Springfield", "IL", "62701")),
    ("#12 Mill Creek Rd, St. Louis, Mo, 63101", ("#12 Mill Creek Rd", "St. Louis", "MO", "63101")),
    (
        "  10 Downing St  ,   Portland ,  ME ,  04101  ",
        ("10 Downing St", "Portland", "ME", "04101"),
    ),
    ("9 Elm St,Boise,ID,83702", ("9 Elm St", "Boise", "ID", "83702")),
    (
        "\t77 Sunset Blvd,\tLos Angeles,\tCA,\t90028\n",
        ("77 Sunset Blvd", "Los Angeles", "CA", "90028"),
    ),
    ("3 Elm St, Boise, ID, 00501", ("3 Elm St", "Boise", "ID", "00501")),
    ("1 Rue de la Paix, Montréal, QC, 12345", ("1 Rue de la Paix", "Montréal", "QC", "12345")),
    ("1 Main St, München, ZZ, 12345", ("1 Main St", "München", "ZZ", "12345")),
    (
        "🚀 Launch Pad 39A, Cape Canaveral, FL, 32899",
        ("🚀 Launch Pad 39A", "Cape Canaveral", "FL", "32899"),
    ),
    ("221B Baker St, Coeur d'Alene, id, 83814", ("221B Baker St", "Coeur d'Alene", "ID", "83814")),
    ("1 O'Brien Way, Ann Arbor, MI, 48104", ("1 O'Brien Way", "Ann Arbor", "MI", "48104")),
    ("PO Box 12, Juneau, AK, 99801", ("PO Box 12", "Juneau", "AK", "99801")),
    ("1 Main St, Salt Lake City, UT, 84101", ("1 Main St", "Salt Lake City", "UT", "84101")),
    (
        "'; DROP TABLE customers; --, Austin, TX, 73301",
        ("'; DROP TABLE customers; --", "Austin", "TX", "73301"),
    ),
    ("x" * 255 + ", Town, TX, 75001", ("x" * 255, "Town", "TX", "75001")),
    ("1 A St, " + "c" * 100 + ", TX, 75001", ("1 A St", "c" * 100, "TX", "75001")),
]

PARTS_FORMAT = 'expected "street, city, ST, zip", found {} comma-separated part(s)'

REJECTED: list[tuple[str | None, str]] = [
    (None, "address is NULL"),
    ("", "address is empty"),
    ("   ", "address is empty"),
    ("\t\n", "address is empty"),
    ("PO Box 12", PARTS_FORMAT.format(1)),
    ("x" * 1000, PARTS_FORMAT.format(1)),
    ("1 Main St; Springfield; IL; 62701", PARTS_FORMAT.format(1)),
    ("1 Main St | Springfield | IL | 62701", PARTS_FORMAT.format(1)),
    ("123 Main St, Springfield IL 62701", PARTS_FORMAT.format(2)),
    ("123 Main St, Springfield, IL 62701", PARTS_FORMAT.format(3)),
    ("221B Baker Street, London, NW1 6XE", PARTS_FORMAT.format(3)),
    (", Springfield, IL, 62701", "part 1 of 4 is empty"),
    ("123 Main St, , IL, 62701", "part 2 of 4 is empty"),
    ("742 Evergreen Terrace, Springfield, , 49007", "part 3 of 4 is empty"),
    ("123 Main St, Springfield, IL, ", "part 4 of 4 is empty"),
    ("123 Main St,, Apt 4, Springfield, IL, 62701", "part 2 of 6 is empty"),
    ("123 Main St, Springfield, IL, 62701,", "part 5 of 5 is empty"),
    (",,,", "part 1 of 4 is empty"),
    ("1 Infinite Loop, Cupertino, California, 95014", 'state "California" is not two letters'),
    ("1 Main St, Springfield, I, 62701", 'state "I" is not two letters'),
    ("1 Main St, Springfield, ILL, 62701", 'state "ILL" is not two letters'),
    ("1 Main St, Springfield, I1, 62701", 'state "I1" is not two letters'),
    ("1 Main St, Springfield, ÉT, 62701", 'state "ÉT" is not two letters'),
    ("1 Main St, Springfield, I L, 62701", 'state "I L" is not two letters'),
    ("🏠, 🌆, 🇺🇸, 12345", 'state "🇺🇸" is not two letters'),
    ("500 Oak Ave, Denver, CO, 8020", 'zip "8020" is not 12345 or 12345-6789'),
    ("500 Oak Ave, Denver, CO, 802021", 'zip "802021" is not 12345 or 12345-6789'),
    ("500 Oak Ave, Denver, CO, 80202-12", 'zip "80202-12" is not 12345 or 12345-6789'),
    ("500 Oak Ave, Denver, CO, ABCDE", 'zip "ABCDE" is not 12345 or 12345-6789'),
    ("500 Oak Ave, Denver, CO, 80202 1234", 'zip "80202 1234" is not 12345 or 12345-6789'),
    ("500 Oak Ave, Denver, CO, 80202-1234-5", 'zip "80202-1234-5" is not 12345 or 12345-6789'),
    ("500 Oak Ave, Denver, CO, ８０２０２", 'zip "８０２０２" is not 12345 or 12345-6789'),
    ("1 Main St, Springfield, IL, " + "9" * 1000, f'zip "{"9" * 20}" is not 12345 or 12345-6789'),
    ("x" * 1000 + ", Town, TX, 75001", "street is longer than 255 characters"),
    ("x" * 256 + ", Town, TX, 75001", "street is longer than 255 characters"),
    ("1 A St, " + "c" * 101 + ", TX, 75001", "city is longer than 100 characters"),
]

CORPUS: list[tuple[str | None, Parts | str]] = [*ACCEPTED, *REJECTED]
