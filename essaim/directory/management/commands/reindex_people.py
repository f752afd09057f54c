from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from essaim.accounts.models import User
from essaim.directory import index
from essaim.directory.models import PersonToken, Profile, TokenVariant


class Command(BaseCommand):
    help = (
        "Rebuild the directory's search index of every person (after an upgrade that "
        "changes what is indexed; the services keep it up to date otherwise)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(User.objects.values_list("id", flat=True))
        with transaction.atomic():
            missing = User.objects.filter(profile__isnull=True).values_list("id", flat=True)
            Profile.objects.bulk_create(
                Profile(user_id=pk, manager_path=f"/{pk}/") for pk in missing
            )
            index.reindex(ids)
            # Words nobody has any more leave the vocabulary (the services only add).
            TokenVariant.objects.exclude(token__in=PersonToken.objects.values("token")).delete()
        self.stdout.write(self.style.SUCCESS(f"Reindexed {len(ids)} people."))
