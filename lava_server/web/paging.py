"""Pagination that stays fast on tables of millions of rows.

Django's Paginator counts every matching row on every page view; here a
page is read with one extra row (to know whether a next page exists) and
the total is counted only up to a cap, shown as "10,000+" beyond it.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

MAX_PAGE = 10_000


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    has_next: bool
    total: int
    total_capped: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)

    @property
    def last_number(self) -> int | None:
        """The last page, when the exact total is known."""
        if self.total_capped:
            return None
        return max(1, -(-self.total // self.per_page))


def page_number(text: str | None) -> int:
    try:
        number = int(text or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def paginate(queryset: QuerySet, number_text: str | None, per_page: int = 25, count_cap: int = 10_000) -> Page:
    number = page_number(number_text)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    has_next = len(rows) > per_page
    if not has_next and (rows or number == 1):
        total, capped = start + len(rows), False  # the last page tells the total for free
    else:
        total = queryset.order_by()[: count_cap + 1].count()
        capped = total > count_cap
        total = min(total, count_cap)
    return Page(rows[:per_page], number, per_page, has_next, total, capped)
