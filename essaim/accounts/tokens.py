"""One-time links to choose a password: a reset (short-lived) and an invitation
(longer, since a new colleague may open it days later). Both stop working once the
password is set or the person signs in, as Django's reset tokens do."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "essaim.accounts.tokens.InvitationTokenGenerator"

    def check_token(self, user: AbstractBaseUser | None, token: str | None) -> bool:
        # Django's check reads PASSWORD_RESET_TIMEOUT; this one reads INVITATION_TIMEOUT.
        if not (user and token):
            return False
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        if self._num_seconds(self._now()) - timestamp > settings.INVITATION_TIMEOUT:
            return False
        return any(
            constant_time_compare(
                self._make_token_with_timestamp(user, timestamp, secret),  # type: ignore[arg-type]
                token,
            )
            for secret in [self.secret, *self.secret_fallbacks]
        )


invitation_token_generator = InvitationTokenGenerator()
