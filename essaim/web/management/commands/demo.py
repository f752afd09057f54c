from __future__ import annotations

from argparse import ArgumentParser, RawDescriptionHelpFormatter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from essaim.accounts.models import User
from essaim.demo import (
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    EXTERNALS,
    MIN_USERS,
    PERSONAS,
    DemoError,
    build_organisation,
    demo_exists,
)

EPILOG = f"""\
Sign-in personas (password {DEMO_PASSWORD!r}):
{chr(10).join(f"  {p.email:<38} {p.role or 'employee':<15} {p.title}" for p in PERSONAS)}
  plus {len(EXTERNALS)} external customers, e.g. {EXTERNALS[0].email}

Examples:
  essaim demo                     about 200 people
  essaim demo --users 10000       a larger company (teams of at most ~45 people)
  essaim demo --if-empty          what `make run` does: load only into an empty database
"""


class Command(BaseCommand):
    help = (
        "Load the demo organisation: a French company with org units, sites, a manager\n"
        "tree, job titles and phones (about 15 % international staff), plus fixed sign-in\n"
        "personas. The same --seed gives the same people. Refuses when the demo is\n"
        f"already loaded. Every demo account's password is {DEMO_PASSWORD!r}."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = EPILOG
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--users", type=int, default=200,
            help=f"accounts to create, personas and external customers included "
                 f"(default 200, at least {MIN_USERS})",
        )  # fmt: skip
        parser.add_argument(
            "--seed", type=int, default=2026,
            help="random seed: the same seed gives the same people (default 2026)",
        )  # fmt: skip
        parser.add_argument(
            "--if-empty", action="store_true",
            help="do nothing (and say so) when the database already has any account",
        )  # fmt: skip

    def handle(self, *args: Any, users: int, seed: int, if_empty: bool, **options: Any) -> None:
        if if_empty and User.objects.exists():
            self.stdout.write("Accounts exist already: the demo organisation was not loaded.")
            return
        if demo_exists():
            raise CommandError(
                f"The demo organisation is already loaded ({DEMO_ADMIN_EMAIL} exists). "
                "Use an empty database, or --if-empty to skip quietly."
            )
        try:
            summary = build_organisation(users=users, seed=seed)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organisation loaded: {summary.users} accounts ({summary.employees} "
                f"employees, {summary.externals} external customers), {summary.units} org "
                f"units, {summary.sites} sites, {summary.communities} communities, "
                f"{summary.content.get('posts', 0)} posts, "
                f"{summary.content.get('comments', 0)} comments, "
                f"{summary.questions.questions} questions with {summary.questions.answers} "
                f"answers, {summary.questions.articles} articles, "
                f"{summary.questions.case_studies} case studies, "
                f"{summary.chat.get('conversations', 0)} conversations with "
                f"{summary.chat.get('messages', 0)} messages; "
                f"{summary.search.get('indexed', 0)} things indexed for search, "
                f"{summary.search.get('watches', 0)} keyword watches."
            )
        )
        self.stdout.write(f"Demo sign-in: {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD} (administrator)")
        for persona in PERSONAS[1:]:
            self.stdout.write(f"  also: {persona.email} ({persona.role}), same password")
