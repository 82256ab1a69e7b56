from django.contrib import admin

from lava_server.accounts.models import AuthToken


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "description", "created_on", "last_used_on"]

    def has_add_permission(self, request) -> bool:
        # a token made here could never be shown (only its hash is kept): users make
        # theirs on the API-token page, admins with "lava-server manage tokens add"
        return False
