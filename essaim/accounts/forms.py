from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import EMAIL_MAX, NAME_MAX, TokenScope


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        max_length=EMAIL_MAX,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        # One message whether the e-mail is unknown, the password wrong or the account
        # deactivated, so the form never tells which accounts exist.
        "invalid_login": _("This e-mail and password do not match an active account."),
        "inactive": _("This e-mail and password do not match an active account."),
    }


class SettingsForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=NAME_MAX)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Same as my browser")), *settings.LANGUAGES],
        required=False,
    )
    read_receipts = forms.BooleanField(
        label=_("Share read receipts in chat"),
        help_text=_(
            "In one-to-one and small group conversations, others see up to where you have "
            "read. Turned off, you do not see theirs either."
        ),
        required=False,
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “Reporting script”."),
    )
    scope = forms.ChoiceField(label=_("Access"), choices=TokenScope.choices)
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Creating a token needs your password again."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].initial = TokenScope.READ


class QueuedPasswordResetForm(PasswordResetForm):
    """Queues one task per request, whatever the e-mail: the worker looks the account
    up, so the answer takes the same time whether the e-mail is known or not."""

    email = forms.EmailField(
        label=_("E-mail"),
        max_length=EMAIL_MAX,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def save(self, *args: Any, **kwargs: Any) -> None:
        from .tasks import send_password_link

        send_password_link.enqueue(
            email=self.cleaned_data["email"], language=translation.get_language(), purpose="reset"
        )
