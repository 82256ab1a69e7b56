"""The ``LOGIN_REQUIRED`` setting: a lab that shows nothing to anonymous callers.

Like the reference's REQUIRE_LOGIN, it closes the read-only web pages, and
here the APIs too: with it set, REST answers anonymous callers 401 and
XML-RPC answers them Fault 401, whatever the method (pages and calls that
change something always need a login, whatever this setting says). The
workers' own link (ZeroMQ, worker keys) is not a user's and stays as it is.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from lava_scheduler.permissions.rules import remember_for_the_page

REFUSAL = "This lab requires a login (LOGIN_REQUIRED): authenticate with a username and an API token"


def login_required_setting() -> bool:
    return bool(getattr(settings, "LAVA", {}).get("LOGIN_REQUIRED", False))


def refuses(user) -> bool:
    """Whether the setting turns this caller away."""
    return login_required_setting() and (user is None or not user.is_authenticated)


def gated(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A web page closed to anonymous visitors under the setting: they are sent to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if refuses(request.user):
            return redirect_to_login(request.get_full_path())
        remember_for_the_page(request.user)
        return view(request, *args, **kwargs)

    return wrapper
