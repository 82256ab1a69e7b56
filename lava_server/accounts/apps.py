from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class AccountsConfig(AppConfig):
    name = "lava_server.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from lava_server.accounts.models import AuthToken
        from lava_server.auth.recent_tokens import forget_all

        # a revoked token or a deactivated user must not stay remembered by the web processes
        for model in (AuthToken, get_user_model()):
            post_save.connect(forget_all, sender=model, dispatch_uid=f"forget-tokens-save-{model.__name__}")
            post_delete.connect(forget_all, sender=model, dispatch_uid=f"forget-tokens-delete-{model.__name__}")
        # nor a user's old rights: groups and permissions change through many-to-many rows
        user = get_user_model()
        for relation in (user.groups.through, user.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(forget_all, sender=relation, dispatch_uid=f"forget-tokens-m2m-{relation.__name__}")
