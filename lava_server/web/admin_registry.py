"""Every model of the lab in the Django admin, even those their own app only shows inline."""

from django.apps import apps
from django.contrib import admin

OUR_APPS = ("accounts", "lab", "jobs", "results")


class ReadOnlyHistoryAdmin(admin.ModelAdmin):
    """History rows are written by transitions only: browsable, never edited by hand."""

    # newest first by id, the order they were written in: the primary key's index serves it (the
    # scheduler writes a thousand rows a pass and no longer pays an index of the creation time)
    ordering = ("-id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def register_missing_models() -> None:
    """Register with a plain ModelAdmin whatever the apps' admin modules left out."""
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            if admin.site.is_registered(model):
                continue
            if model.__name__ == "DeviceTransition":
                admin.site.register(model, ReadOnlyHistoryAdmin)
            else:
                admin.site.register(model)
