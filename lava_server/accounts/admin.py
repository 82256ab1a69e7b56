from django.contrib import admin

from lava_server.accounts.models import AuthToken


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "description", "created_on", "last_used_on"]
    exclude = ["secret"]
