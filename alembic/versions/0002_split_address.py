"""Split customers.address into street_address, city, state and zip_code (release v2, green).

Phase: expand
Revision ID: 0002_split_address
Revises: 0001_customers
Create Date: 2026-11-26

The address rules live here, once, as the SQL function ``customers_address_parse`` (with
``customers_address_reject_reason``, which names the rule a value breaks): the sync trigger
(blue's writes after this expand) and the backfill (the migrate revision) both call it.

- The last three comma-separated parts are city, state and zip; everything before them is the
  street, so a comma inside the street ("1 Main St, Apt 4") survives.
- Every part is trimmed of spaces, tabs and line breaks; the state is upper-cased.
- Rejected, with the reason, leaving the new columns NULL (the original address is never
  changed): NULL or blank input, fewer than four parts, an empty part, a street over 255 or a
  city over 100 characters, a state that is not two letters, a zip that is not 12345 or
  12345-6789. The backfill quarantines such rows; the contract waits until they are resolved.
- ``customers_address_compose`` gives the flat form ``street, city, ST, zip`` (green's writes).

A NULL address means "no address": there is nothing to split, so the backfill leaves such rows
alone (the parse function still reports the reason if asked).
"""

from collections.abc import Sequence

from alembic import op

from expandcontract.ops.functions import SqlFunction
from expandcontract.ops.patterns import SplitColumn

# revision identifiers, used by Alembic.
revision: str = "0002_split_address"
down_revision: str | Sequence[str] | None = "0001_customers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WS = r"E' \t\r\n'"  # what "trim" means, everywhere in the rules

# Written for speed as well as strictness: it runs on every write of blue and green (the sync
# trigger) and on every row of the backfill. PostgreSQL inlines this SQL function into the
# statements that call it, so it is one expression per row with no function call. Each part,
# and the reason, is computed once (OFFSET 0 keeps the planner from copying an expression into
# every place that uses it: the trigger and the backfill read the reason once per new column).
# The address is cut from its end: city, state and zip are the last three comma-separated parts
# and the street is what comes before them, so no count of the parts is needed (with fewer than
# four, the street comes out empty). A well-formed address is recognised by one cheap test (byte
# lengths bound the character lengths, a translate() stands in for the zip's regular
# expression, the street's regular expression runs only when it holds a comma); a value that
# fails it goes to ``customers_address_reject_reason``, which walks the rules in order to find
# *which* reason applies, so the rules themselves are stated once, there. Kept out of the parse,
# that branch costs nothing on a good address: the trigger runs the parse as a fresh statement on
# every write, and PostgreSQL prepares every expression in it for each run, taken or not; the
# fewer there are, the cheaper each write. The state is upper-cased under the "C" collation: a
# state that passes is two ASCII letters, which every collation upper-cases alike, and "C" does it
# byte by byte where an ICU or libc collation converts to wide characters first (on a database
# whose default collation is ICU, 0.3 us a row of the parse's 3 us).
PARSE = f"""
SELECT street, city, upper(state COLLATE "C"), zip, reason
FROM (
    SELECT street, city, state, zip,
           CASE
               WHEN street <> '' AND city <> ''
                    AND (strpos(street, ',') = 0 OR street !~ '(^|,)[ \\t\\r\\n]*(,|$)')
                    AND octet_length(street) <= 255 AND octet_length(city) <= 100
                    AND state ~ '^[A-Za-z]{{2}}$'
                    AND translate(zip, '0123456789', '0000000000') IN ('00000', '00000-0000')
                   THEN NULL
               ELSE customers_address_reject_reason(value, street, city, state, zip)
           END AS reason
    FROM (
        SELECT btrim(left(value, -3 - length(c) - length(s) - length(z)), {_WS}) AS street,
               btrim(c, {_WS}) AS city,
               btrim(s, {_WS}) AS state,
               btrim(z, {_WS}) AS zip
        FROM (
            SELECT split_part(value, ',', -3) AS c, split_part(value, ',', -2) AS s,
                   split_part(value, ',', -1) AS z
            OFFSET 0
        ) AS tail
        OFFSET 0
    ) AS parts
    OFFSET 0
) AS judged
"""

# The rules, in order: the first that fails is the reason. PL/pgSQL, so PostgreSQL calls it
# (only for a value the parse's quick test refuses) instead of inlining it into the parse.
REJECT_REASON = SqlFunction(
    "customers_address_reject_reason",
    "value text, street text, city text, state text, zip text",
    "text",
    f"""
DECLARE
    n integer := octet_length(value) - octet_length(replace(value, ',', '')) + 1;
BEGIN
    RETURN CASE
        WHEN value IS NULL THEN 'address is NULL'
        WHEN btrim(value, {_WS}) = '' THEN 'address is empty'
        WHEN n < 4 THEN format(
            'expected "street, city, ST, zip", found %s comma-separated part(s)', n)
        WHEN street = '' OR city = '' OR state = '' OR zip = ''
             OR (strpos(street, ',') > 0 AND street ~ '(^|,)[ \\t\\r\\n]*(,|$)') THEN
            format('part %s of %s is empty',
                   array_position(string_to_array(translate(value, {_WS}, ''), ','), ''), n)
        WHEN length(street) > 255 THEN 'street is longer than 255 characters'
        WHEN length(city) > 100 THEN 'city is longer than 100 characters'
        WHEN state !~ '^[A-Za-z]{{2}}$' THEN
            format('state "%s" is not two letters', left(state, 20))
        WHEN zip !~ '^[0-9]{{5}}(-[0-9]{{4}})?$' THEN
            format('zip "%s" is not 12345 or 12345-6789', left(zip, 20))
    END;
END""",
    language="plpgsql",
    volatility="STABLE",
)

COMPOSE = """
SELECT CASE WHEN num_nulls(street_address, city, state, zip_code) = 0
            THEN street_address || ', ' || city || ', ' || state || ', ' || zip_code
       END
"""

ADDRESS = SplitColumn(
    "customers",
    "address",
    {
        "street_address": "varchar(255)",
        "city": "varchar(100)",
        "state": "varchar(2)",
        "zip_code": "varchar(10)",
    },
    parse=PARSE,
    compose=COMPOSE,
    name="customers_address",
    helpers=[REJECT_REASON],
)


def upgrade() -> None:
    ADDRESS.expand(op)


def downgrade() -> None:
    ADDRESS.revert(op, "expand")
