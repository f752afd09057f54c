"""Forms of the directory pages. They only shape input: rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from .models import (
    BIO_MAX,
    TEXT_MAX,
    Availability,
    FieldKind,
    LanguageLevel,
    SkillLevel,
    TopicKind,
    Visibility,
)
from .services import TIMEZONES
from .text import LANGUAGES

LIST_KINDS = (TopicKind.EXPERTISE, TopicKind.INTEREST, TopicKind.PROJECT, TopicKind.ASK_ME_ABOUT)


class PersonalForm(forms.Form):
    pronouns = forms.CharField(label=_("Pronouns"), max_length=40, required=False)
    phone = forms.CharField(label=_("Work phone"), max_length=40, required=False)
    mobile_phone = forms.CharField(label=_("Mobile phone"), max_length=40, required=False)
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=[("", _("Same as my site")), *((z, z) for z in sorted(TIMEZONES))],
    )
    bio = forms.CharField(
        label=_("About me"), max_length=BIO_MAX, required=False, widget=forms.Textarea({"rows": 4})
    )


class OrganisationForm(forms.Form):
    """Organisational fields, for HR and administrators."""

    job_title = forms.CharField(label=_("Job title"), max_length=TEXT_MAX, required=False)
    org_unit = forms.TypedChoiceField(
        label=_("Org unit"), required=False, coerce=int, empty_value=None
    )
    site = forms.TypedChoiceField(label=_("Site"), required=False, coerce=int, empty_value=None)
    manager = forms.EmailField(
        label=_("Manager's e-mail"), required=False, help_text=_("Empty: reports to nobody.")
    )

    def __init__(
        self, *args: Any, units: list[tuple[int, str]], sites: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].choices = [("", "—"), *units]  # type: ignore[attr-defined]
        self.fields["site"].choices = [("", "—"), *sites]  # type: ignore[attr-defined]


class SkillForm(forms.Form):
    name = forms.CharField(label=_("Skill"), max_length=80, required=False)
    level = forms.TypedChoiceField(
        label=_("Level"), choices=SkillLevel.choices, coerce=int, initial=SkillLevel.INTERMEDIATE
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", "—"), *sorted(LANGUAGES.items(), key=lambda i: i[1])],
    )
    level = forms.ChoiceField(label=_("Level"), choices=LanguageLevel.choices)


SkillFormSet = formset_factory(SkillForm, extra=3, max_num=50, validate_max=True)
LanguageFormSet = formset_factory(LanguageForm, extra=2, max_num=20, validate_max=True)


class TopicListsForm(forms.Form):
    """Areas of expertise, interests, projects and "ask me about", comma-separated."""

    expertise = forms.CharField(label=_("Areas of expertise"), required=False, max_length=4000)
    interest = forms.CharField(label=_("Interests"), required=False, max_length=4000)
    project = forms.CharField(label=_("Projects"), required=False, max_length=4000)
    ask = forms.CharField(label=_("Ask me about"), required=False, max_length=4000)

    def lists(self) -> dict[TopicKind, list[str]]:
        return {
            kind: [
                item.strip() for item in self.cleaned_data[kind.value].split(",") if item.strip()
            ]
            for kind in LIST_KINDS
        }


class StatusForm(forms.Form):
    availability = forms.ChoiceField(label=_("Availability"), choices=Availability.choices)
    status_text = forms.CharField(label=_("Status message"), max_length=100, required=False)


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_("Photo"), help_text=_("JPEG, PNG, WebP or GIF, 10 MB at most."))


class ProfileFieldForm(forms.Form):
    key = forms.SlugField(
        label=_("Key"), max_length=50, help_text=_("For the API and imports, e.g. badge-number.")
    )
    label = forms.CharField(label=_("Label"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=FieldKind.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        max_length=4000,
        help_text=_("For a choice field: the values, separated by commas."),
    )
    visibility = forms.ChoiceField(label=_("Visible to"), choices=Visibility.choices)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=1000, initial=0)


class OrgUnitForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=TEXT_MAX)
    parent = forms.TypedChoiceField(label=_("Inside"), required=False, coerce=int, empty_value=None)
    code = forms.CharField(
        label=_("Code"), max_length=64, required=False, help_text=_("The HR system's identifier.")
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("— Top level —")), *units]  # type: ignore[attr-defined]


class SiteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=TEXT_MAX)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.RegexField(
        label=_("Country"), regex=r"^[A-Z]{2}$", initial="FR", help_text=_("Two letters: FR, DE…")
    )
