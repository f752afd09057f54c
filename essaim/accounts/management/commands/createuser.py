from __future__ import annotations

import getpass
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from essaim.accounts import services
from essaim.accounts.models import UserKind
from essaim.http import CLI


class Command(BaseCommand):
    help = (
        "Create an account. The password is asked twice on a terminal, or read from the "
        "first line of standard input with --password-stdin."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--email", required=True, help="sign-in e-mail")
        parser.add_argument("--name", required=True, help="display name")
        parser.add_argument(
            "--kind",
            choices=[k.value for k in UserKind],
            default=UserKind.EMPLOYEE,
            help="employee (default) or external (customer, partner)",
        )
        parser.add_argument("--admin", action="store_true", help="make an administrator")
        parser.add_argument(
            "--language",
            choices=["", "en", "fr"],
            default="",
            help="interface language (default: the browser's)",
        )
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        password = self._password(opts["password_stdin"])
        try:
            user = services.user_create(
                actor=None,
                origin=CLI,
                email=opts["email"],
                display_name=opts["name"],
                password=password,
                kind=UserKind(opts["kind"]),
                is_admin=opts["admin"],
                language=opts["language"],
            )
        except services.ServiceError as exc:
            raise CommandError(exc.message) from exc
        role = "administrator" if user.is_admin else user.kind
        self.stdout.write(self.style.SUCCESS(f"Created {role} {user.display_name} <{user.email}>."))

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask the password on: use --password-stdin.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first
