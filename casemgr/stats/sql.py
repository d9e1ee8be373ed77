"""The SQL that differs between PostgreSQL and SQLite, hidden behind three helpers.

- ``seconds_between(end, start)``: whole seconds from ``start`` to ``end``.
  Both timestamps are cut to the whole second first (PostgreSQL: the floor of
  ``EXTRACT(EPOCH ...)``; SQLite: ``strftime('%s', ...)``), so the difference
  is exact integer arithmetic and identical on both backends.
- ``utc_bucket(column, "month" | "day")``: ``'YYYY-MM'`` / ``'YYYY-MM-DD'`` of
  a timestamp, in UTC whatever the session's time zone.
- ``percentiles(session, durations, ...)``: median and 90th percentile (any
  percentiles) per group, by the linear interpolation below, computed with
  window functions that both backends run the same way.

Percentile definition (linear interpolation between closest ranks; the same
as PostgreSQL's ``percentile_cont``, numpy's default and Excel's
``PERCENTILE.INC``): for ``n`` values sorted ascending ``x[1] <= ... <= x[n]``
and a percentile ``p`` (0-100), let ``h = (n - 1) * p / 100``; the percentile
is ``x[floor(h) + 1] + (h - floor(h)) * (x[floor(h) + 2] - x[floor(h) + 1])``.
The median is ``p = 50`` (the mean of the two middle values when ``n`` is
even). The database ranks the values and returns only the (at most two) rows
around each ``h``; the interpolation is done here with exact fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, Select, String, func, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

# --- whole seconds between two timestamps


class seconds_between(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """``end - start`` in whole seconds (each cut to its second), as an integer."""

    type = BigInteger()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element, compiler, **kw):
    end, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return (
        f"(CAST(FLOOR(EXTRACT(EPOCH FROM {end})) AS BIGINT)"
        f" - CAST(FLOOR(EXTRACT(EPOCH FROM {start})) AS BIGINT))"
    )


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    end, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER))"


# --- calendar buckets in UTC


class _utc_month(FunctionElement):  # noqa: N801
    type = String()
    name = "utc_month"
    inherit_cache = True


class _utc_day(FunctionElement):  # noqa: N801
    type = String()
    name = "utc_day"
    inherit_cache = True


def utc_bucket(column, unit: str) -> FunctionElement:
    """The UTC month (``'YYYY-MM'``) or day (``'YYYY-MM-DD'``) of a timestamp."""
    if unit == "month":
        return _utc_month(column)
    if unit == "day":
        return _utc_day(column)
    raise ValueError("unit must be 'month' or 'day'")


# (PostgreSQL format, SQLite format) of each; one class per unit, so that
# SQLAlchemy's statement cache never mixes them up.
_FORMATS = {_utc_month: ("YYYY-MM", "%Y-%m"), _utc_day: ("YYYY-MM-DD", "%Y-%m-%d")}


@compiles(_utc_month, "postgresql")
@compiles(_utc_day, "postgresql")
def _utc_bucket_postgresql(element, compiler, **kw):
    (column,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"to_char({column} AT TIME ZONE 'UTC', '{_FORMATS[type(element)][0]}')"


@compiles(_utc_month, "sqlite")
@compiles(_utc_day, "sqlite")
def _utc_bucket_sqlite(element, compiler, **kw):
    (column,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"strftime('{_FORMATS[type(element)][1]}', {column})"


# --- percentiles


@dataclass(frozen=True)
class Summary:
    """How many durations there were, their median and 90th percentile (seconds)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def percentiles(session: Session, durations: Select, *, groups: bool = False) -> dict[Any, Summary]:
    """Median and 90th percentile of ``durations`` per group.

    ``durations`` selects a column labelled ``v`` (the values; NULLs are left
    out) and, with ``groups=True``, a column labelled ``g`` (the group). The
    result maps each group (``None`` without groups) that has values to its
    Summary; a group without values is absent.
    """
    d = durations.subquery("d")
    group = d.c.g if groups else None
    ranked = select(
        (group if group is not None else literal_column("0")).label("g"),
        d.c.v,
        func.row_number().over(partition_by=group, order_by=d.c.v).label("rn"),
        func.count().over(partition_by=group).label("n"),
    ).where(d.c.v.is_not(None))
    r = ranked.subquery("r")
    wanted = []
    for p in (50, 90):
        low = (r.c.n - 1) * p // 100 + 1  # integer division on both backends
        wanted += [r.c.rn == low, r.c.rn == low + 1]
    rows = session.execute(select(r.c.g, r.c.n, r.c.rn, r.c.v).where(or_(*wanted)))

    found: dict[Any, tuple[int, dict[int, int]]] = {}
    for g, n, rn, v in rows:
        key = g if groups else None
        found.setdefault(key, (int(n), {}))[1][int(rn)] = int(v)
    return {
        key: Summary(n, interpolate(values, n, 50), interpolate(values, n, 90))
        for key, (n, values) in found.items()
    }


def interpolate(values_by_rank: dict[int, int], n: int, p: int) -> float:
    """The ``p``-th percentile from the values at the ranks around it (1-based)."""
    low_index = (n - 1) * p // 100  # floor(h), 0-based
    fraction = Fraction((n - 1) * p % 100, 100)  # h - floor(h)
    low = values_by_rank[low_index + 1]
    if fraction == 0:
        return float(low)
    high = values_by_rank[low_index + 2]
    return float(low + (high - low) * fraction)
