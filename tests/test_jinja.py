"""essaim.web.jinja: Django's i18n tags in Jinja2 templates, escaping, forgotten calls."""

from __future__ import annotations

import pytest
from django.template import engines
from django.utils import translation


def render(source: str, **context: object) -> str:
    return engines["jinja2"].from_string(source).render(context)


def test_blocktranslate_escapes_values_and_translates_the_text() -> None:
    hello = "{% blocktranslate with who=name %}Hello {{ who }},{% endblocktranslate %}"
    source = hello + ' {{ _("Search") }}'
    assert render(source, name="<b>Ann</b>") == "Hello &lt;b&gt;Ann&lt;/b&gt;, Search"
    with translation.override("fr"):
        assert render('{% blocktranslate context "verb" %}Search{% endblocktranslate %}') == (
            "Rechercher"
        )


def test_blocktranslate_counts_and_takes_names_from_the_context() -> None:
    source = (
        "{% blocktranslate count counter=n %}{{ counter }} comment{% plural %}"
        "{{ counter }} comments{% endblocktranslate %} · "
        "{% blocktranslate %}Page {{ page }}{% endblocktranslate %}"
    )
    assert render(source, n=1, page=3) == "1 comment · Page 3"
    with translation.override("fr"):
        assert render(source, n=2, page=3) == "2 commentaires · Page 3"


def test_a_method_printed_without_its_call_fails() -> None:
    with pytest.raises(TypeError, match="call"):
        render("{{ text.upper }}", text="a")
    assert render("{{ text.upper() }}", text="a") == "A"
