from django.contrib import admin

from lava_scheduler.queries.models import Query


@admin.register(Query)
class QueryAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "entity", "conditions", "is_published", "last_updated"]
