from django.contrib import admin

from lava_scheduler.jobs.models import JobFailureTag, TestJob


@admin.register(TestJob)
class TestJobAdmin(admin.ModelAdmin):
    list_display = ["id", "description", "requested_device_type", "actual_device", "state", "health", "submitter"]
    list_filter = ["state", "health", "requested_device_type", "health_check"]
    search_fields = ["description"]
    readonly_fields = ["state", "health", "actual_device", "start_time", "end_time", "submit_time", "token"]
    raw_id_fields = ["submitter"]


admin.site.register(JobFailureTag)
