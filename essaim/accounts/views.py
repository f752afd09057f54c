"""Account pages: sign-in, sign-out, password reset, personal settings, API tokens,
and the administrators' user list. Thin: they call services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from essaim import access
from essaim.http import Origin, client_ip

from . import selectors, services
from .forms import QueuedPasswordResetForm, SettingsForm, SignInForm, TokenCreateForm
from .models import TokenScope, User
from .throttle import Throttle, login_throttle, reset_throttle


def too_many_attempts(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(request, "accounts/throttled.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def throttled_post(request: HttpRequest, throttle: Throttle, account: str) -> HttpResponse | None:
    wait = throttle.attempt(account=account, address=client_ip(request))
    return too_many_attempts(request, wait) if wait else None


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = str(request.POST.get("username", ""))[:254]
        throttle = login_throttle()
        if refused := throttled_post(request, throttle, account):
            return refused
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            throttle.forgive(account=account, address=client_ip(request))
        return response


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = QueuedPasswordResetForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = str(request.POST.get("email", ""))[:254]
        throttle = reset_throttle()
        if refused := throttled_post(request, throttle, account):
            return refused
        return super().post(request, *args, **kwargs)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The page a reset or invitation link opens. The password is set by the service,
    which also ends the account's sessions and tokens."""

    template_name = "accounts/password_reset_confirm.html"

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        # A deactivated account's link is dead, even if it was sent before.
        return user if user is not None and access.is_active(user) else None

    def form_valid(self, form: Any) -> HttpResponse:
        services.password_set(
            user=self.user,
            password=form.cleaned_data["new_password1"],
            origin=Origin.of(self.request),
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return redirect(self.get_success_url())


@login_required
@require_http_methods(["GET", "POST"])
def password_change_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    # The current password is a sign-in secret: guesses count as sign-in attempts.
    if request.method == "POST" and (
        refused := throttled_post(request, login_throttle(), user.email)
    ):
        return refused
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.password_set(
            user=user,
            password=form.cleaned_data["new_password1"],
            origin=Origin.of(request),
            keep_session=request.session.session_key,
        )
        update_session_auth_hash(request, user)
        login_throttle().forgive(account=user.email, address=client_ip(request))
        messages.success(
            request,
            _("Your password is changed. Your other sessions and your API tokens have ended."),
        )
        return redirect("settings")
    return render(
        request, "accounts/password_change.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = SettingsForm(
        request.POST or None,
        initial={
            "display_name": user.display_name,
            "language": user.language,
            "read_receipts": user.read_receipts,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_self(
                user=user,
                display_name=form.cleaned_data["display_name"],
                language=form.cleaned_data["language"],
                read_receipts=form.cleaned_data["read_receipts"],
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Your settings are saved."))
            return redirect("settings")
    return render(
        request, "accounts/settings.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = TokenCreateForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_secret = services.token_create(
                user=user,
                name=form.cleaned_data["name"],
                scope=TokenScope(form.cleaned_data["scope"]),
                password=form.cleaned_data["password"],
                origin=Origin.of(request),
            )
            form = TokenCreateForm()
        except services.ServiceError as exc:
            if exc.retry_after:
                return too_many_attempts(request, exc.retry_after)
            form.add_error(exc.field, exc.message)
    context = {
        "form": form,
        "tokens": selectors.token_list(fetched_by=user),
        "new_secret": new_secret,
    }
    return render(request, "accounts/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = access.access_api_token(request.user, token_id, "revoke")
    services.token_revoke(user=request.user, token=token)  # type: ignore[arg-type]
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("tokens")


@login_required
def people_admin(request: HttpRequest) -> HttpResponse:
    if not access.is_admin(request.user):
        raise access.NotFound
    query = str(request.GET.get("q", ""))[:100]
    people = selectors.user_list(fetched_by=request.user, query=query)[:200]
    return render(request, "accounts/people_admin.html", {"people": people, "query": query})


@login_required
@require_POST
def person_set_active(request: HttpRequest, user_id: int, active: bool) -> HttpResponse:
    person = access.access_user(request.user, user_id, "manage")
    actor: User = request.user  # type: ignore[assignment]
    try:
        if active:
            services.user_reactivate(actor=actor, origin=Origin.of(request), user=person)
            messages.success(
                request, _("%(name)s is active again.") % {"name": person.display_name}
            )
        else:
            services.user_deactivate(actor=actor, origin=Origin.of(request), user=person)
            messages.success(
                request,
                _("%(name)s is deactivated; their sessions and tokens have ended.")
                % {"name": person.display_name},
            )
    except services.ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("people-admin")
