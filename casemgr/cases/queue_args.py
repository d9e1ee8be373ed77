"""The queue's address: view, filters, order, grouping and page, read from a query string.

The queue screen, the case page (the queue it was opened from, ``?from=``)
and bulk actions ("every case matching this filter") read the same
arguments the same way. A filter value that names nothing is dropped, as
the queue always did; an order or a grouping that does not exist is a
problem named by its parameter: the screen says so and shows the view's
default order, with status 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from flask_babel import gettext as _

from casemgr.cases import queries
from casemgr.cases.fields import Classification
from casemgr.cases.grouping import GROUP_SORT_KEYS, GROUPS, default_group_sort
from casemgr.cases.queue_order import SORT_KEYS, QueueSort, default_sort
from casemgr.cases.states import Status
from casemgr.countries import is_country_code
from casemgr.database import MAX_ID
from casemgr.http import MAX_PAGE
from casemgr.inputs import has_unwanted

# The longest queue address the case page carries in ``?from=``.
MAX_FROM_LENGTH = 2048
MAX_HOST_LENGTH = 255

# The way a column sorts when its head is first clicked: dates newest first,
# deadlines soonest first, states in the workflow's order, hosts A to Z,
# groups biggest first.
FIRST_DESCENDING = {"received": True, "due": False, "state": False, "host": False, "count": True}


@dataclass(frozen=True)
class QueueArgs:
    filters: queries.QueueFilter
    sort: QueueSort
    group: str | None = None
    page: int = 1
    sort_given: bool = False  # False: the view's default order
    problems: dict[str, str] = field(default_factory=dict)  # parameter -> what is wrong

    def query(self, **changes: object) -> dict[str, str]:
        """The arguments as the queue's address writes them, for ``url_for``.

        ``changes`` replace arguments; None leaves one out."""
        f = self.filters
        args: dict[str, object] = {
            "view": f.view,
            "q": f.q,
            "status": f.status,
            "classification": f.classification,
            "hosting_country": f.hosting_country,
            "host": f.host,
            "submission": f.submission_id,
            "group": self.group,
            "sort": self.sort.arg if self.sort_given else None,
            "page": self.page if self.page > 1 else None,
        }
        args.update(changes)
        return {name: str(value) for name, value in args.items() if value not in (None, "")}

    def encoded(self) -> str:
        """The whole queue address as one value (the case page's ``?from=``)."""
        return urlencode(self.query())

    def sort_link(self, key: str) -> dict[str, str]:
        """The arguments of a column head's link: that column, the other way
        round if the queue is sorted by it already; back to the first page."""
        descending = FIRST_DESCENDING[key]
        if self.sort.key == key:
            descending = not self.sort.descending
        return self.query(sort=QueueSort(key, descending).arg, page=None)

    def sorted_by(self, key: str) -> str | None:
        """ "ascending" or "descending" when sorted by ``key`` (aria-sort), else None."""
        if self.sort.key != key:
            return None
        return "descending" if self.sort.descending else "ascending"

    @property
    def kept_sort(self) -> str | None:
        """The order the filter form keeps when it is sent again: one that both
        cases and groups can be sorted by (the grouping may change)."""
        if self.sort_given and self.sort.key in SORT_KEYS and self.sort.key in GROUP_SORT_KEYS:
            return self.sort.arg
        return None


def parse(args: Mapping[str, str]) -> QueueArgs:
    """The queue of a query string (a MultiDict's first values); never raises."""
    problems: dict[str, str] = {}
    view = args.get("view") if args.get("view") in queries.QUEUE_VIEWS else "open"
    filters = queries.QueueFilter(
        view=view,
        status=args.get("status") if args.get("status") in set(Status) else None,
        classification=(
            args.get("classification")
            if args.get("classification") in set(Classification)
            else None
        ),
        hosting_country=_country(args.get("hosting_country")),
        q=args.get("q"),
        host=_host(args.get("host"), problems),
        submission_id=_submission(args.get("submission"), problems),
    )
    group = _group(args.get("group"), problems)
    sort = _sort(args.get("sort"), args.get("dir"), group, problems)
    return QueueArgs(
        filters=filters,
        sort=sort or (default_group_sort(view) if group else default_sort(view)),
        group=group,
        page=_page(args.get("page")),
        sort_given=sort is not None,
        problems=problems,
    )


def parse_from(value: str | None) -> QueueArgs | None:
    """The queue a case page was opened from (``?from=``), or None when there is
    none or it is not one the queue would show as it stands."""
    if not value or len(value) > MAX_FROM_LENGTH:
        return None
    pairs = parse_qsl(value, max_num_fields=20)
    # A query string inside a parameter: decoded here, so the guard could not see it.
    if any(has_unwanted(name) or has_unwanted(text) for name, text in pairs):
        return None
    parsed = parse(dict(pairs))
    return None if parsed.problems else parsed


def _country(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    return code if is_country_code(code) else None


def _host(value: str | None, problems: dict[str, str]) -> str | None:
    host = (value or "").strip().lower()
    if not host:
        return None
    if len(host) > MAX_HOST_LENGTH or not host.isprintable() or any(c in host for c in " /?#@"):
        problems["host"] = _("host: must be a host name, such as example.com")
        return None
    return host


def _submission(value: str | None, problems: dict[str, str]) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if text.isdecimal() and 0 < int(text) <= MAX_ID:
        return int(text)
    problems["submission"] = _("submission: must be the number of a submission")
    return None


def _group(value: str | None, problems: dict[str, str]) -> str | None:
    if not value:
        return None
    if value in GROUPS:
        return value
    problems["group"] = _(
        "group: cases cannot be grouped by '%(value)s'; choose one of: %(choices)s",
        value=value[:40],
        choices=", ".join(GROUPS),
    )
    return None


def _sort(
    value: str | None, direction: str | None, group: str | None, problems: dict[str, str]
) -> QueueSort | None:
    """The order asked for, or None for the view's default."""
    if not value:
        if direction:
            problems["dir"] = _("dir: say which column to sort by in 'sort' as well")
        return None
    key = value.removeprefix("-")
    allowed = GROUP_SORT_KEYS if group else SORT_KEYS
    if key not in allowed:
        what = _("groups") if group else _("cases")
        problems["sort"] = _(
            "sort: %(what)s cannot be sorted by '%(value)s'; choose one of: %(choices)s",
            what=what,
            value=value[:40],
            choices=", ".join(allowed),
        )
        return None
    descending = value.startswith("-")
    if direction:
        if direction not in ("asc", "desc"):
            problems["dir"] = _("dir: must be 'asc' or 'desc'")
            return None
        descending = direction == "desc"
    return QueueSort(key, descending)


def _page(value: str | None) -> int:
    """1 when missing or not a number, at most MAX_PAGE (a page past the end is empty)."""
    text = value or ""
    return min(max(int(text), 1), MAX_PAGE) if text.isdecimal() else 1
