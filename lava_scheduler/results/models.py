"""Test suites, sets and cases of a job (one suite per test definition, plus ``lava``)."""

from django.db import models
from django.utils import timezone


class TestResult(models.IntegerChoices):
    PASS = 0, "pass"
    FAIL = 1, "fail"
    SKIP = 2, "skip"
    UNKNOWN = 3, "unknown"


class TestSuite(models.Model):
    __test__ = False

    job = models.ForeignKey("jobs.TestJob", on_delete=models.CASCADE, related_name="suites")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="one_suite_name_per_job")]

    def __str__(self) -> str:
        return self.name


class TestSet(models.Model):
    __test__ = False

    suite = models.ForeignKey(TestSuite, on_delete=models.CASCADE, related_name="test_sets")
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["suite", "name"], name="one_set_name_per_suite")]

    def __str__(self) -> str:
        return self.name


class TestCase(models.Model):
    __test__ = False

    suite = models.ForeignKey(TestSuite, on_delete=models.CASCADE, related_name="test_cases")
    test_set = models.ForeignKey(
        TestSet, null=True, blank=True, on_delete=models.CASCADE, related_name="test_cases"
    )
    name = models.TextField()
    result = models.IntegerField(choices=TestResult.choices)
    measurement = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    units = models.CharField(max_length=100, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True, help_text="the whole results record")
    start_log_line = models.PositiveIntegerField(null=True, blank=True)
    end_log_line = models.PositiveIntegerField(null=True, blank=True)
    logged = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["suite", "name"], name="testcase_suite_name")]

    def __str__(self) -> str:
        return f"{self.suite.name}.{self.name}: {self.get_result_display()}"
