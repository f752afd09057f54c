"""Directory (annuaire): the organisation people belong to. The foundation holds what
the demo organisation needs — org units, sites, job and manager; the directory issue adds
skills, expertise, custom fields and following."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OrgUnit(models.Model):
    """A department, service or team; ``parent`` makes the tree."""

    name = models.CharField(max_length=150)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    name = models.CharField(max_length=150, unique=True)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="FR")  # ISO 3166-1 alpha-2

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    job_title = models.CharField(max_length=150, blank=True, default="")
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="direct_reports",
    )
    phone = models.CharField(max_length=40, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.user} — {self.job_title}"
