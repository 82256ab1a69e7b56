"""The ``LOGIN_REQUIRED`` setting: a lab that shows nothing to anonymous visitors.

Like the reference's REQUIRE_LOGIN, it closes the read-only pages too (pages
that change something always need a login, whatever this setting says).
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse


def login_required_setting() -> bool:
    return bool(getattr(settings, "LAVA", {}).get("LOGIN_REQUIRED", False))


def gated(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if login_required_setting() and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
