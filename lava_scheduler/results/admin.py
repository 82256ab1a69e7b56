from django.contrib import admin

from lava_scheduler.results.models import TestCase, TestSuite


@admin.register(TestSuite)
class TestSuiteAdmin(admin.ModelAdmin):
    list_display = ["id", "job", "name"]
    raw_id_fields = ["job"]


@admin.register(TestCase)
class TestCaseAdmin(admin.ModelAdmin):
    list_display = ["id", "suite", "name", "result", "measurement", "units"]
    list_filter = ["result"]
    raw_id_fields = ["suite", "test_set"]
