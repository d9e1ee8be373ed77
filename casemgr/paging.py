"""One page of a longer list, as every list screen and the API show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):  # noqa: UP046 - Python 3.11 has no PEP 695 syntax
    items: list[T]
    total: int  # exact, unless total_is_estimate
    page: int
    per_page: int
    # True when a list was too long to count cheaply and ``total`` is the
    # database's estimate (see casemgr.cases.queries.EXACT_COUNT_LIMIT).
    total_is_estimate: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        if self.total_is_estimate:  # the estimate may be off either way: a full page may have more
            return len(self.items) == self.per_page
        return self.page < self.pages
