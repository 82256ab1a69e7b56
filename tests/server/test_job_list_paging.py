"""The jobs list on a big table: text search through the trigram index, keyset pages past the numbered ones."""

import pytest
from django.db import connection

from lava_server.web.paging import paginate_newest_first
from tests.server import test_web_helpers as fixtures
from tests.server.test_web_helpers import JobHealth, client_for, finish, make_job

web_lab, alice, bob = fixtures.web_lab, fixtures.alice, fixtures.bob

pytestmark = pytest.mark.django_db


def test_text_search_finds_finished_and_unfinished_jobs(web_lab, alice):
    done = finish(make_job(alice, "kernel boot smoke"), JobHealth.COMPLETE)
    queued = make_job(alice, "Kernel boot queued")
    make_job(alice, "unrelated")
    client = client_for(alice)

    def ids(query: str) -> set[int]:
        return {job.pk for job in client.get(f"/scheduler/jobs?{query}").context["page"].items}

    assert ids("q=KERNEL BOOT") == {done.pk, queued.pk}  # the trigram index and the state index
    assert ids("q=el b") == {done.pk, queued.pk}  # too short for trigrams: read in order
    assert ids("q=boot&state=finished") == {done.pk}
    assert ids("q=no such words") == set()


def test_the_trigram_index_holds_finished_jobs_only(web_lab):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'job_description_trgm'")
        (definition,) = cursor.fetchone()
    assert "gin_trgm_ops" in definition and "WHERE (state = 5)" in definition


def test_pages_past_the_numbered_ones_go_by_the_last_job_shown(web_lab, alice, bob):
    jobs = [make_job(alice, f"job {n}") for n in range(12)]
    make_job(bob, "bob's private job", public=False)
    from django.http import QueryDict

    from lava_scheduler.jobs.models import TestJob
    from lava_scheduler.jobs.visibility import visible_jobs

    visible = visible_jobs(alice, TestJob.objects.all())
    newest_first = [job.pk for job in reversed(jobs)]
    last_numbered = paginate_newest_first(visible, QueryDict("page=99"), per_page=3, numbered=2)
    assert last_numbered.number == 2 and [j.pk for j in last_numbered.items] == newest_first[3:6]
    assert last_numbered.older_than == newest_first[5]
    seen = []
    cursor = last_numbered.older_than
    while cursor is not None:
        page = paginate_newest_first(visible, QueryDict(f"before={cursor}"), per_page=3, numbered=2)
        assert page.keyset
        seen += [j.pk for j in page.items]
        cursor = page.older_than
    assert seen == newest_first[6:]
    # a job one may not see is no cursor: the first page
    private = TestJob.objects.get(description="bob's private job")
    assert not paginate_newest_first(visible, QueryDict(f"before={private.pk}"), per_page=3, numbered=2).keyset
    html = client_for(alice).get(f"/scheduler/jobs?before={newest_first[5]}").content.decode()
    assert "« Newest" in html and "older jobs, from #" in html


@pytest.mark.parametrize("sorts_every_match", [True, False])
def test_numbered_pages_both_ways_give_the_same_pages(web_lab, alice, sorts_every_match, django_assert_num_queries):
    from django.http import QueryDict

    from lava_scheduler.jobs.models import TestJob

    jobs = [make_job(alice, f"job {n}") for n in range(5)]
    newest_first = [job.pk for job in reversed(jobs)]
    everything = TestJob.objects.all().prefetch_related("submitter")

    def page(query: str, per_page: int, numbered: int):
        return paginate_newest_first(everything, QueryDict(query), per_page=per_page, numbered=numbered,
                                     sorts_every_match=sorts_every_match)

    # a search: the ids of every numbered page (the total with them), the page's rows by id, their
    # submitters; otherwise the page's ids, the count, the rows, the submitters
    with django_assert_num_queries(3 if sorts_every_match else 4):
        first = page("", 2, 2)
    assert [j.pk for j in first.items] == newest_first[:2]
    with django_assert_num_queries(0):
        assert first.items[0].submitter.username == "alice"
    assert (first.has_next, first.total, first.total_capped, first.older_than) == (True, 4, True, None)
    last = page("page=2", 2, 2)
    assert [j.pk for j in last.items] == newest_first[2:4] and last.older_than == newest_first[3]
    wide = page("page=3", 2, 3)
    assert [j.pk for j in wide.items] == newest_first[4:]
    assert (wide.has_next, wide.total, wide.total_capped, wide.last_number) == (False, 5, False, 3)
    past = page("page=3", 4, 3)
    assert (past.items, past.has_next, past.total, past.total_capped) == ([], False, 5, False)
