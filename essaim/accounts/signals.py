"""Keep UserSession in step with Django's sign-in and sign-out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from essaim.http import Origin

from . import services
from .models import User


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    if request.session.session_key:
        services.session_register(
            user=user, session_key=request.session.session_key, origin=Origin.of(request)
        )


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if request.session.session_key:
        services.session_forget(session_key=request.session.session_key)
