"""Background tasks of the accounts app, run by the worker (essaim/worker.py)."""

from __future__ import annotations

import logging
import smtplib
from typing import Literal

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from essaim.worker import retry_later

from .models import User, normalize_email
from .tokens import invitation_token_generator

logger = logging.getLogger("essaim.accounts")

Purpose = Literal["reset", "invitation"]


@task()
def send_password_link(*, email: str, language: str, purpose: Purpose, attempt: int = 0) -> str:
    """E-mail a link to choose a password: a reset asked on the sign-in page, or the
    invitation of an account an administrator created.

    The reset form queues this task for every e-mail typed, known or not, so its answer
    takes the same time either way; the account is looked up here (an account that never
    had a password gets its link too). The one-time token
    is made when the mail is sent, so no secret waits in the queue, and links point at
    SITE_URL, never at the Host header of the request that asked. An SMTP fault queues
    the task again later (essaim.worker.RETRY_PAUSES)."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        return "no active account"
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    if purpose == "invitation":
        token, url_name = invitation_token_generator.make_token(user), "invitation_accept"
    else:
        token, url_name = default_token_generator.make_token(user), "password_reset_confirm"
    path = reverse(url_name, kwargs={"uidb64": uid, "token": token})
    context = {"user": user, "reset_url": settings.SITE_URL.rstrip("/") + path}
    with translation.override(user.language or language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/{purpose}_subject.txt", context)
        body = render_to_string(f"accounts/{purpose}_email.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [user.email], fail_silently=False)
    except smtplib.SMTPRecipientsRefused:
        logger.warning("The mail server refused the address of user %s", user.pk)
        return "address refused"
    except (smtplib.SMTPException, OSError):
        kwargs = {"email": email, "language": language, "purpose": purpose}
        if not retry_later(send_password_link, attempt=attempt, **kwargs):
            raise
        logger.warning("Could not send a %s e-mail; trying again later", purpose, exc_info=True)
        return "retry queued"
    return "sent"
