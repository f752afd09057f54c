"""Background tasks of the accounts app, run by the worker (essaim/worker.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from .models import User


@task()
def send_password_reset(*, user_id: int, language: str) -> None:
    """E-mail a password-reset link. The one-time token is made here, when the mail is
    sent, so no secret waits in the task queue; links point at SITE_URL, never at the
    Host header of the request that asked."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    context = {"user": user, "reset_url": settings.SITE_URL.rstrip("/") + path}
    with translation.override(user.language or language or settings.LANGUAGE_CODE):
        subject = render_to_string("accounts/password_reset_subject.txt", context)
        body = render_to_string("accounts/password_reset_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email], fail_silently=False)
