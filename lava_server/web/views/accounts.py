"""The API-token page: a user's own tokens, created and deleted here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from lava_server.accounts.models import AuthToken


@login_required
def token_page(request: HttpRequest) -> HttpResponse:
    """GET lists; POST ``create`` (with a description) or ``delete`` (with a token id).

    A new token's secret is shown once, in the answer to its creation, and
    never again: it is a password.
    """
    new_token = None
    if request.method == "POST":
        if request.POST.get("action") == "create":
            description = request.POST.get("description", "").strip()[:200]
            new_token = AuthToken.objects.create(user=request.user, description=description)
        elif request.POST.get("action") == "delete":
            token_id = request.POST.get("id", "")
            deleted = 0
            if token_id.isdigit():
                deleted, _ = AuthToken.objects.filter(user=request.user, pk=int(token_id)).delete()
            if deleted:
                messages.success(request, "Token deleted.")
            else:
                messages.error(request, "No such token of yours.")
            return redirect("web-tokens")
    tokens = AuthToken.objects.filter(user=request.user).order_by("id")
    context = {"tokens": tokens, "new_token": new_token, "server": request.build_absolute_uri("/").rstrip("/")}
    return render(request, "web/tokens.html", context)
