"""The SQL that differs between PostgreSQL and SQLite, hidden behind five helpers.

- ``seconds_between(end, start)``: whole seconds from ``start`` to ``end``.
  Both timestamps are cut to the whole second first (PostgreSQL: the floor of
  ``date_part('epoch', ...)``; SQLite: ``strftime('%s', ...)`` of its text
  cut to the second), so the difference is exact integer arithmetic and
  identical on both backends.
- ``bucket_index(value, *upper_bounds)``: which of a few ranges a whole number
  falls in (PostgreSQL: one ``width_bucket``; SQLite: a CASE).
- ``utc_date(column)``: the UTC day of a timestamp, whatever the session's
  time zone.
- ``tune_for_reporting(session)``: session settings for big aggregate
  queries (PostgreSQL only; see REPORTING_SETTINGS).
- ``percentiles(session, durations, ...)``: median and 90th percentile (any
  percentiles) per group, by the linear interpolation below, computed with
  window functions that both backends run the same way.

Percentile definition (linear interpolation between closest ranks; the same
as PostgreSQL's ``percentile_cont``, numpy's default and Excel's
``PERCENTILE.INC``): for ``n`` values sorted ascending ``x[1] <= ... <= x[n]``
and a percentile ``p`` (0-100), let ``h = (n - 1) * p / 100``; the percentile
is ``x[floor(h) + 1] + (h - floor(h)) * (x[floor(h) + 2] - x[floor(h) + 1])``.
The median is ``p = 50`` (the mean of the two middle values when ``n`` is
even). Durations are whole seconds, so every percentile is an exact multiple
of 0.01 s; both ways of computing it round to that:

- on PostgreSQL, ``percentile_cont`` (exactly this definition) in one pass;
- elsewhere (SQLite), window functions rank the values and return only the
  (at most two) rows around each ``h``; the interpolation is then done here
  with exact fractions. This way runs on PostgreSQL too (``method="window"``)
  and the tests check that the two agree there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

# --- whole seconds between two timestamps


class seconds_between(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """``end - start`` in whole seconds (each cut to its second): an integer on
    SQLite, a double holding an integer on PostgreSQL."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element, compiler, **kw):
    end, start = (compiler.process(clause, **kw) for clause in element.clauses)
    # date_part() is double precision (EXTRACT is numeric since PostgreSQL 14, and
    # slower); a double holds today's epoch to the microsecond, so FLOOR is exact,
    # and so is the difference of two whole numbers of seconds. Left a double:
    # percentile_cont wants one, and casting to BIGINT and back costs about 10%
    # of a year's figures (bench/stats.py).
    return f"(FLOOR(date_part('epoch', {end})) - FLOOR(date_part('epoch', {start})))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    end, start = (compiler.process(clause, **kw) for clause in element.clauses)
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': the first 19 characters are the
    # whole second. (strftime alone would round .9995 s and above up to the next.)
    return (
        f"(CAST(strftime('%s', substr({end}, 1, 19)) AS INTEGER)"
        f" - CAST(strftime('%s', substr({start}, 1, 19)) AS INTEGER))"
    )


# --- which of a few ranges a whole number falls in


class bucket_index(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """``bucket_index(value, b0, b1, ...)``: the index of the first upper bound
    (ascending whole numbers, inclusive) that ``value``, a whole number, is
    within, or the number of bounds when it is past them all."""

    type = Integer()
    name = "bucket_index"
    inherit_cache = True


@compiles(bucket_index, "postgresql")
def _bucket_index_postgresql(element, compiler, **kw):
    value, *bounds = (compiler.process(clause, **kw) for clause in element.clauses)
    # width_bucket counts the lower bounds the value has reached (a binary search):
    # for whole numbers, "within b" is "below b + 1". One evaluation of the value
    # rather than one per bound (a CASE does not share it).
    lower = ", ".join(f"({bound} + 1)" for bound in bounds)
    return (
        f"width_bucket(CAST({value} AS DOUBLE PRECISION),"
        f" CAST(ARRAY[{lower}] AS DOUBLE PRECISION[]))"
    )


@compiles(bucket_index, "sqlite")
def _bucket_index_sqlite(element, compiler, **kw):
    value, *bounds = (compiler.process(clause, **kw) for clause in element.clauses)
    whens = " ".join(f"WHEN {value} <= {bound} THEN {i}" for i, bound in enumerate(bounds))
    return f"(CASE {whens} ELSE {len(bounds)} END)"


# --- the UTC day of a timestamp


class utc_date(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """The UTC calendar day of a timestamp. PostgreSQL gives a ``date`` (cheap to
    group by), SQLite the text ``'YYYY-MM-DD'``: ``str()`` of either is the ISO day."""

    type = String()
    name = "utc_date"
    inherit_cache = True


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element, compiler, **kw):
    (column,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element, compiler, **kw):
    (column,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({column})"


# --- session settings for reporting queries

# Measured with bench/stats.py (1M cases): sorting a year's durations spills to
# disk with the default 4MB work_mem; JIT compilation costs more than it saves
# on these one-off scans; and with the default costs of handing rows between
# processes the planner keeps the percentiles' scans to one process, though
# working out each row's durations in parallel workers is faster. SET LOCAL:
# until the end of the transaction.
REPORTING_SETTINGS: dict[str, str] = {
    "work_mem": "64MB",
    "jit": "off",
    "parallel_tuple_cost": "0.01",
    "parallel_setup_cost": "100",
}


def tune_for_reporting(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    if REPORTING_SETTINGS:
        session.execute(
            select(
                *(func.set_config(name, value, True) for name, value in REPORTING_SETTINGS.items())
            )
        )


# --- percentiles


@dataclass(frozen=True)
class Summary:
    """How many durations there were, their median and 90th percentile (seconds)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def percentiles(
    session: Session,
    rows: Select,
    names: Sequence[str],
    *,
    grouped: bool = False,
    method: str | None = None,
) -> dict[Any, dict[str, Summary]]:
    """Median and 90th percentile of each value column of ``rows``, per group.

    ``rows`` selects one column per name in ``names`` (durations in whole
    seconds; NULL where a row has none) and, with ``grouped``, a column
    labelled ``g``. Returns ``{group: {name: Summary}}`` (group None when not
    grouped) for the names that have values.

    Two ways to the same numbers (see the module docstring), chosen by the
    backend unless ``method`` says: ``"ordered_set"`` (PostgreSQL's
    percentile_cont, one pass and one in-memory sort per column) and
    ``"window"`` (row_number over the values, any backend). Both results are
    exact multiples of 0.01 s, rounded to that, so they are the same floats.
    """
    method = method or (
        "ordered_set" if session.get_bind().dialect.name == "postgresql" else "window"
    )
    found = (_ordered_set if method == "ordered_set" else _window)(session, rows, names, grouped)
    return {
        group: {name: summary for name, summary in by_name.items() if summary.count}
        for group, by_name in found.items()
        if any(summary.count for summary in by_name.values())
    }


def _ordered_set(session: Session, rows: Select, names, grouped: bool):
    d = rows.subquery("d")
    columns = [d.c.g if grouped else literal_column("0").label("g")]
    for name in names:
        # One sort per column for both percentiles (the array form).
        both = func.percentile_cont(postgresql.array([0.5, 0.9])).within_group(d.c[name])
        columns += [func.count(d.c[name]), both]
    query = select(*columns)
    if grouped:
        query = query.group_by(d.c.g)
    out: dict[Any, dict[str, Summary]] = {}
    for row in session.execute(query):
        group = row[0] if grouped else None
        out[group] = {}
        for i, name in enumerate(names):
            median, p90 = row[2 + 2 * i] or (None, None)
            out[group][name] = Summary(int(row[1 + 2 * i]), _hundredths(median), _hundredths(p90))
    return out


def _hundredths(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _window(session: Session, rows: Select, names, grouped: bool):
    per_row = rows.cte("per_row")
    group = per_row.c.g if grouped else literal_column("0")
    unpivot = union_all(
        *(
            select(group.label("g"), literal_column(str(i)).label("k"), per_row.c[name].label("v"))
            for i, name in enumerate(names)
        )
    ).subquery("d")
    partition = [unpivot.c.g, unpivot.c.k]
    r = (
        select(
            unpivot.c.g,
            unpivot.c.k,
            unpivot.c.v,
            func.row_number().over(partition_by=partition, order_by=unpivot.c.v).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(unpivot.c.v.is_not(None))
        .subquery("r")
    )
    wanted = []
    for p in (50, 90):
        low = (r.c.n - 1) * p // 100 + 1  # integer division on both backends
        wanted += [r.c.rn == low, r.c.rn == low + 1]
    found: dict[tuple[Any, int], tuple[int, dict[int, int]]] = {}
    for g, k, n, rn, v in session.execute(
        select(r.c.g, r.c.k, r.c.n, r.c.rn, r.c.v).where(or_(*wanted))
    ):
        found.setdefault((g if grouped else None, int(k)), (int(n), {}))[1][int(rn)] = int(v)
    out: dict[Any, dict[str, Summary]] = {}
    for (group_key, k), (n, values) in found.items():
        out.setdefault(group_key, {})[names[k]] = Summary(
            n, _hundredths(interpolate(values, n, 50)), _hundredths(interpolate(values, n, 90))
        )
    return out


def interpolate(values_by_rank: dict[int, int], n: int, p: int) -> float:
    """The ``p``-th percentile from the values at the ranks around it (1-based)."""
    low_index = (n - 1) * p // 100  # floor(h), 0-based
    fraction = Fraction((n - 1) * p % 100, 100)  # h - floor(h)
    low = values_by_rank[low_index + 1]
    if fraction == 0:
        return float(low)
    high = values_by_rank[low_index + 2]
    return float(low + (high - low) * fraction)
