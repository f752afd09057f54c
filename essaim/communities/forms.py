from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import NAME_MAX, SLUG_MAX, TEXT_MAX, Kind, Role, Visibility


class CommunityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=SLUG_MAX,
        required=False,
        help_text=_("Letters, digits and hyphens; made from the name when left empty."),
    )
    visibility = forms.ChoiceField(
        label=_("Who sees it"), choices=Visibility.choices, widget=forms.RadioSelect
    )
    confidential = forms.BooleanField(
        label=_("Confidential"),
        required=False,
        help_text=_("Its content stays out of e-mails, push notifications and previews."),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=Kind.choices, initial=Kind.PRACTICE)
    end_date = forms.DateField(
        label=_("End date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For a project: its owners are reminded before, and it is archived then."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=TEXT_MAX, widget=forms.Textarea
    )
    rules = forms.CharField(
        label=_("Rules of the community"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=500, help_text=_("Separated by commas.")
    )

    def settings(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "description": data["description"],
            "rules": data["rules"],
            "kind": data["kind"],
            "tags": [t for t in data["tags"].split(",") if t.strip()],
            "end_date": data["end_date"],
            "confidential": data["confidential"],
        }


class _PlacesForm(forms.Form):
    """A form whose ``org_unit`` and ``site`` choices are the viewer's units and sites."""

    def __init__(
        self, *args: Any, units: list[tuple[int, str]], sites: list[tuple[int, str]], **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["org_unit"].choices = [("", "—"), *units]  # type: ignore[attr-defined]
        self.fields["site"].choices = [("", "—"), *sites]  # type: ignore[attr-defined]


class RuleForm(_PlacesForm):
    """Automatic members, kept in sync with the directory."""

    org_unit = forms.TypedChoiceField(
        label=_("Everyone in this unit (and below)"), required=False, coerce=int, empty_value=None
    )
    site = forms.TypedChoiceField(
        label=_("Everyone at this site"), required=False, coerce=int, empty_value=None
    )


class InviteForm(_PlacesForm):
    emails = forms.CharField(
        label=_("People"),
        required=False,
        max_length=5000,
        help_text=_("Their e-mail addresses, separated by commas or spaces."),
    )
    org_unit = forms.TypedChoiceField(
        label=_("Everyone in a unit"), required=False, coerce=int, empty_value=None
    )
    site = forms.TypedChoiceField(
        label=_("Everyone at a site"), required=False, coerce=int, empty_value=None
    )
    role = forms.ChoiceField(label=_("As"), choices=Role.choices, initial=Role.MEMBER)

    def addresses(self) -> list[str]:
        text = self.cleaned_data["emails"].replace(",", " ").replace(";", " ")
        return list(dict.fromkeys(a.strip().lower() for a in text.split() if a.strip()))
