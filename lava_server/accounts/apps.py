from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lava_server.accounts"
    label = "accounts"
    verbose_name = "Accounts"
