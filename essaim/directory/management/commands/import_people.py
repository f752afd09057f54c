"""``essaim import-people FILE.csv [--dry-run] [--yes]``: load or update people from an HR
export (essaim.directory.importer)."""

from __future__ import annotations

import itertools
import sys
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from essaim.directory import importer
from essaim.http import CLI

SHOWN_CHANGES = 50
BAR_WIDTH = 30

EPILOG = f"""\
Columns (header row required, any order, case-insensitive; only email is required):
  {", ".join(importer.COLUMNS)}

A column absent from the file leaves that field as it is; an empty cell clears it.
  org_unit      a path from the root: "Direction générale / Marketing & Communication"
                (units are created as needed; org_unit_code matches a unit by its HR code)
  site          a site name, created as needed (site_city, site_country when created)
  languages     fr:native, en:fluent   (native, fluent, working, basic)
  skills        Python:4, SQL:3        (level 1 to 4)
  expertise, interests, projects, ask_me_about: comma-separated topics
  active        yes or no (no: the account is deactivated, its sessions and tokens end)

The file is checked whole first: with any error nothing is written and the command
exits with status 1. Importing the same file twice changes nothing the second time.

Examples:
  essaim import-people people.csv --dry-run    show what would change, write nothing
  essaim import-people people.csv              show it, ask, then apply
  essaim import-people people.csv --yes        apply without asking (scripts)
"""


class ProgressBar:
    """A text bar on stderr, redrawn at most a few times a second."""

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.throttle = importer.Throttle(per_second=4)
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.throttle.ready(done, total):
            return
        share = done / total if total else 1.0
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        # No newline (ending=""): "\r" draws the bar again over itself.
        self.stream.write(f"\rImporting [{bar}] {share:4.0%}", style_func=str, ending="")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("")
            self.stream.flush()


def report(plan: importer.Plan) -> list[str]:
    """Counts, the first SHOWN_CHANGES changes, then every error."""
    counts = plan.summary()
    out = [f"{counts['rows']} rows read."]
    for key, label in (
        ("created", "people to create"),
        ("updated", "people to update"),
        ("unchanged", "people unchanged"),
        ("deactivated", "accounts to deactivate"),
        ("reactivated", "accounts to reactivate"),
        ("units_created", "org units to create"),
        ("units_updated", "org units to rename or move"),
        ("sites_created", "sites to create"),
        ("sites_updated", "sites to update"),
    ):
        out.append(f"  {label:<28} {counts[key]:>8}")
    lines = [(row, f"org unit {_arrow(old, new)}") for row, old, new in plan.unit_changes()]
    lines += [(row, f"site {_arrow(old, new)}") for row, old, new in plan.site_changes()]
    people = (p for p in plan.people if p.action != "unchanged")
    for person in itertools.islice(people, SHOWN_CHANGES + 1):
        changes = "; ".join(f"{c.column} {_arrow(c.old, c.new)}" for c in plan.changes(person))
        lines.append((person.row, f"{person.action} {person.email}: {changes}"))
    lines.sort(key=lambda line: line[0])
    if lines:
        more = len(lines) > SHOWN_CHANGES
        out.append(f"Changes (the first {SHOWN_CHANGES}):" if more else "Changes:")
        out += [f"  row {row}: {text}" for row, text in lines[:SHOWN_CHANGES]]
    if plan.errors:
        out.append(f"Errors ({len(plan.errors)}):")
        out += [f"  {error}" for error in plan.errors]
    return out


def _arrow(old: str, new: str) -> str:
    return f"“{new}”" if not old else f"“{old}” → “{new}”"


class Command(BaseCommand):
    help = (
        "Load or update people, org units, sites and managers from an HR export (CSV,\n"
        "UTF-8, comma or semicolon). Shows what would change first; --dry-run stops there."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `essaim import-people` is how people type it (essaim.cli maps the dash).
        parser = super().create_parser(prog_name, subcommand.replace("_", "-"), **kwargs)
        parser.epilog = EPILOG
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would change; write nothing"
        )
        parser.add_argument("--yes", action="store_true", help="apply without asking")

    def handle(self, *args: Any, file: Path, dry_run: bool, yes: bool, **options: Any) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        sheet = importer.parse(data)
        plan = importer.plan(sheet, actor=None)
        for line in report(plan):
            self.stdout.write(line)
        if plan.errors:
            raise CommandError(
                f"{len(plan.errors)} errors: nothing was imported. Correct the file and "
                "run the command again.",
                returncode=1,
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        if not plan.has_changes:
            self.stdout.write("Nothing to change.")
            return
        if not yes and not self._confirmed():
            raise CommandError("Nothing was imported (add --yes to apply without asking).")
        bar = ProgressBar(self.stderr)
        try:
            done = importer.apply(sheet, actor=None, origin=CLI, progress=bar)
        except importer.ImportRefused as exc:
            bar.close()
            for line in report(exc.plan):
                self.stdout.write(line)
            raise CommandError(
                "The database changed since the file was checked and the import no longer "
                "applies: nothing was imported.",
                returncode=1,
            ) from exc
        bar.close()
        counts = done.summary()
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported: {counts['created']} created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged, {counts['deactivated']} deactivated."
            )
        )

    def _confirmed(self) -> bool:
        if not sys.stdin.isatty():
            return False
        answer = input("Apply these changes? [y/N] ")
        return answer.strip().lower() in {"y", "yes", "o", "oui"}
