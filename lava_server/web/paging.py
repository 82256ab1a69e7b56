"""Pagination that stays fast on tables of millions of rows.

Django's Paginator counts every matching row on every page view; here a
page is read with one extra row (to know whether a next page exists) and
the total is counted only up to a cap, shown as "10,000+" beyond it.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

MAX_PAGE = 10_000


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    has_next: bool
    total: int
    total_capped: bool
    # keyset pages (the jobs list beyond its numbered pages): the id after which the next page starts
    older_than: int | None = None
    keyset: bool = False

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


def _rows(queryset: QuerySet, start: int, stop: int, by_ids: bool) -> list:
    """Rows ``start`` to ``stop`` of ``queryset``; ``by_ids``: their ids first, then the rows by id.

    Reading ids only lets PostgreSQL filter from a covering index (an index-only scan: no
    table row read for the rows filtered out, e.g. the jobs one may not see).
    """
    if not by_ids:
        return list(queryset[start:stop])
    return _rows_of(queryset, list(queryset.values_list("pk", flat=True)[start:stop]))


def _rows_of(queryset: QuerySet, ids: list[int]) -> list:
    """The rows of ``ids`` (which ``queryset`` found), in that order, read by primary key alone: its
    filters ran already, and again they cost a text search 2-3 ms (PostgreSQL ANDs the trigram index
    with the primary key). Its related rows (``select_related``, ``prefetch_related``) come along."""
    rows = queryset.model._default_manager.filter(pk__in=ids).prefetch_related(*queryset._prefetch_related_lookups)
    rows.query.select_related = queryset.query.select_related
    found = {row.pk: row for row in rows}
    return [found[pk] for pk in ids if pk in found]


def paginate(queryset: QuerySet, number_text: str | None, per_page: int = 25, count_cap: int = 10_000,
             by_ids: bool = False) -> Page:
    number = page_number(number_text)
    start = (number - 1) * per_page
    rows = _rows(queryset, start, start + per_page + 1, by_ids)
    has_next = len(rows) > per_page
    if not has_next and (rows or number == 1):
        total, capped = start + len(rows), False  # the last page tells the total for free
    else:
        total = queryset.order_by()[: count_cap + 1].count()
        capped = total > count_cap
        total = min(total, count_cap)
    return Page(rows[:per_page], number, per_page, has_next, total, capped)


def paginate_newest_first(queryset: QuerySet, query, per_page: int = 25, numbered: int = 40,
                          sorts_every_match: bool = False) -> Page:
    """Jobs newest first (``-submit_time, -id``): the first ``numbered`` pages by number (``?page=``;
    a deeper number shows the last of them), then page after page by the last job shown
    (``?before=<id>``): a deep page reads its 25 rows from the index, not the million before them.
    The ids first (``job_submit_time`` and ``job_health_checks_by_time`` cover the visibility rule's
    columns), then the rows.

    ``sorts_every_match``: the filters are such that PostgreSQL reads and sorts every matching job
    to find one page (a text search, through the trigram index); the ids of all the numbered pages
    then cost no more than one page's, and the total comes with them instead of a count that reads
    every match again. Otherwise a page's ids come alone (an index walk stops after them) and the
    count reads its matches unordered, which for thousands of scattered ones (a submitter's) is far
    cheaper than ordering them.
    """
    cap = per_page * numbered
    ordered = queryset.order_by("-submit_time", "-id")
    before = query.get("before", "")
    cursor = None
    if before.isdigit():
        cursor = queryset.filter(pk=int(before)).values_list("submit_time", "pk").first()
    if cursor is None:
        number = min(page_number(query.get("page")), numbered)
        if sorts_every_match:
            ids = list(ordered.values_list("pk", flat=True)[: cap + 1])
            start = (number - 1) * per_page
            page = Page(_rows_of(ordered, ids[start : start + per_page]), number, per_page,
                        len(ids) > start + per_page, min(len(ids), cap), len(ids) > cap)
        else:
            page = paginate(ordered, str(number), per_page, cap, by_ids=True)
        if page.has_next and page.number == numbered:
            page.older_than = page.items[-1].pk
        return page
    submitted, pk = cursor
    # submit_time <= t bounds the index scan; the OR breaks the ties by id
    older = ordered.filter(Q(submit_time__lt=submitted) | Q(submit_time=submitted, pk__lt=pk), submit_time__lte=submitted)
    rows = _rows(older, 0, per_page + 1, by_ids=True)
    page = Page(rows[:per_page], 1, per_page, len(rows) > per_page, 0, True, keyset=True)
    if page.has_next:
        page.older_than = rows[per_page - 1].pk
    return page
