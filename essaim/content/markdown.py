"""Markdown for everything people write — posts, comments, messages, answers, articles:
one renderer and one sanitiser, so that a hole closed here is closed everywhere.

markdown-it-py renders CommonMark with tables, strikethrough, hard line breaks (as chat
users expect) and bare URLs made links; raw HTML is shown as text, never passed through.
Images in the text become links to them (a remote image shown inline would tell its
server who reads the page, and when); pictures are attachments. nh3 (ammonia) then keeps only
the tags below, only http, https and mailto or relative link targets, and marks every
link rel="noopener noreferrer nofollow". The result is safe to insert in a page as is,
and sanitising it again changes nothing (tests/test_markdown.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

TAGS = {
    *("p", "br", "hr", "blockquote", "pre", "code", "em", "strong", "s", "del", "a"),
    *("ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "code": {"class"}}
SCHEMES = {"http", "https", "mailto"}

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True}).enable(
    ["table", "strikethrough", "linkify"]
)


def _image_as_link(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    token = tokens[idx]
    source = escapeHtml(str(token.attrGet("src") or ""))
    label = renderer.renderInline(token.children or [], options, env) or source
    return f'<a href="{source}">{label}</a>'


_renderer.add_render_rule("image", _image_as_link)


def render(text: str) -> str:
    """Safe HTML for ``text``, written in Markdown."""
    return sanitise(_renderer.render(text))


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow",
        # A language class on code blocks ("language-python") is all a class may say.
        attribute_filter=_only_language_classes,
    )


def _only_language_classes(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        return value if tag == "code" and value.startswith("language-") else None
    return value
