from django.conf import settings
from django.db import models
from django.utils import timezone

ENTITIES = ("testjob", "testsuite", "testcase")


class Query(models.Model):
    """A saved query: an entity and conditions in the ad-hoc form (``testjob__health__exact__Incomplete,...``).

    Every query runs live: ``refresh_query`` only records when it was asked
    (the reference caches non-live queries in materialized views).
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queries")
    name = models.SlugField(max_length=1024)
    description = models.TextField(blank=True, default="")
    entity = models.CharField(max_length=20, choices=[(name, name) for name in ENTITIES])
    conditions = models.TextField(blank=True, default="")
    limit = models.PositiveIntegerField(default=200)
    is_published = models.BooleanField(default=False)
    last_updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="one_query_name_per_owner")]
        ordering = ["owner", "name"]
        verbose_name_plural = "queries"

    def __str__(self) -> str:
        return f"~{self.owner}/{self.name}"
