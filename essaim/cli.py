"""The ``essaim`` command: Essaim's own commands plus Django's (``essaim migrate`` …)."""

from __future__ import annotations

import os
import sys

OVERVIEW = """usage: essaim <command> [options]   (essaim <command> --help for each)

Essaim, the enterprise social network. Commands:
  serve        run the web server (ASGI) with a background worker in the same process
  worker       run a background task worker (production: one or more processes)
  migrate      create or update the database tables
  demo         load the demo organisation (a French company of about 200 people)
  createuser   create an account (an administrator with --admin)
  import-people  load or update people, org units, sites and managers from a CSV file
  check        check the configuration (--deploy for production)
  shell        a Python shell with Essaim loaded

Configuration comes from environment variables: see README.md.
Every other Django management command works too (essaim help --commands).
"""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or (args[0] in {"-h", "--help", "help"} and len(args) == 1):
        print(OVERVIEW)
        return
    if "-" in args[0] and not args[0].startswith("-"):
        # `essaim import-people` runs the management command import_people.
        args = [args[0].replace("-", "_"), *args[1:]]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "essaim.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["essaim", *args])


if __name__ == "__main__":
    main()
