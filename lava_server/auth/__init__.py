"""Who is calling an API: HTTP Basic (username + API token) or ``Authorization: Token <secret>``."""

from lava_server.auth.tokens import AuthenticationFailed, user_from_authorization

__all__ = ["AuthenticationFailed", "user_from_authorization"]
