from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "lava_server.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from lava_server.accounts.models import AuthToken
        from lava_server.auth.recent_tokens import forget_all

        # a revoked token or a deactivated user must not stay remembered by the web processes
        for model in (AuthToken, get_user_model()):
            post_save.connect(forget_all, sender=model, dispatch_uid=f"forget-tokens-save-{model.__name__}")
            post_delete.connect(forget_all, sender=model, dispatch_uid=f"forget-tokens-delete-{model.__name__}")
