"""The one Markdown renderer: what people expect renders, and nothing that could run
script gets through (SECURITY.md 25 and 28): no tag or attribute outside the allowed
ones, link targets only http, https, mailto or relative, every link rel="noopener
noreferrer nofollow", no exception on any input, and sanitising its output again
changes nothing."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from essaim.content.markdown import ATTRIBUTES, TAGS, render, sanitise
from tests.xss_corpus import XSS

REL = "noopener noreferrer nofollow"


class Shape(HTMLParser):
    """Every tag and attribute of an HTML fragment, to check against the allowed ones."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def assert_safe(output: str) -> None:
    shape = Shape()
    shape.feed(output)
    for tag, attrs in shape.found:
        assert tag in TAGS, (tag, output)
        allowed = ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        assert set(attrs) <= allowed, (tag, attrs, output)
        if tag == "a":
            assert attrs["rel"] == REL, output
            target = html.unescape(attrs.get("href") or "").strip()
            assert urlsplit(target).scheme in ("", "http", "https", "mailto"), output
        if tag == "code" and "class" in attrs:
            assert (attrs["class"] or "").startswith("language-"), output


@pytest.mark.parametrize("attack", XSS)
def test_nothing_that_could_run_gets_through(attack: str) -> None:
    output = render(attack)
    assert_safe(output)
    assert sanitise(output) == output


def test_what_people_write_renders() -> None:
    assert render("**bold** and *em* and ~~gone~~") == (
        "<p><strong>bold</strong> and <em>em</em> and <s>gone</s></p>\n"
    )
    assert render("one\ntwo") == "<p>one<br>\ntwo</p>\n"  # a line break is a line break
    assert render("see https://essaim.example/a?b=1") == (
        f'<p>see <a href="https://essaim.example/a?b=1" rel="{REL}">'
        "https://essaim.example/a?b=1</a></p>\n"
    )
    assert render("[the guild](/c/design/)") == (
        f'<p><a href="/c/design/" rel="{REL}">the guild</a></p>\n'
    )
    assert render("```python\nprint(1 < 2)\n```") == (
        '<pre><code class="language-python">print(1 &lt; 2)\n</code></pre>\n'
    )
    assert "<table>" in render("| a | b |\n|---|---|\n| 1 | 2 |")
    assert render("3. three\n4. four").startswith('<ol start="3">')
    # An image becomes a link to it: nothing is fetched by a reader's browser.
    assert render("![the plan](https://files.example/plan.png)") == (
        f'<p><a href="https://files.example/plan.png" rel="{REL}">the plan</a></p>\n'
    )
    assert render("<b>raw</b> HTML") == "<p>&lt;b&gt;raw&lt;/b&gt; HTML</p>\n"


# Markdown's and HTML's special characters, and the words of attacks, in any order.
PIECES = [*"ab <>[]()!*_`~#|-:\\/\"'&;=\n\t", "javascript:", "http://", "onerror=", "&#x6A;"]
MARKDOWNISH = st.lists(st.sampled_from(PIECES), max_size=120).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(MARKDOWNISH, st.text(max_size=300)))
def test_any_input_renders_safely_and_sanitising_again_changes_nothing(text: str) -> None:
    output = render(text)
    assert_safe(output)
    assert sanitise(output) == output


@pytest.mark.parametrize(
    "pathological",
    [
        *("[" * 30_000, "*a" * 20_000, "> " * 5_000 + "x", "- " * 5_000 + "x", "`" * 30_000),
        *("<" * 30_000, "[a](" * 10_000, "*" * 30_000 + "a" + "*" * 30_000, "\\" * 30_000),
    ],
)
def test_pathological_input_renders_without_error(pathological: str) -> None:
    assert_safe(render(pathological))
