"""Markdown for everything people write — posts, comments, messages, answers, articles:
one renderer and one sanitiser, so that a hole closed here is closed everywhere.

markdown-it-py renders CommonMark with tables, strikethrough, hard line breaks (as chat
users expect) and bare URLs made links; raw HTML is shown as text, never passed through.
Images in the text become links to them (a remote image shown inline would tell its
server who reads the page, and when); pictures are attachments. nh3 (ammonia) then keeps only
the tags below, only http, https and mailto or relative link targets, and marks every
link rel="noopener noreferrer nofollow". The result is safe to insert in a page as is,
and sanitising it again changes nothing (tests/test_markdown.py).

Two inline rules of our own, outside code and links: ``#word`` is a hashtag (a link to
its page) and ``@**Name|42**`` (what the composer's typeahead inserts; ``@**Name**``
works when one person has that name) mentions a person; ``@all`` mentions the whole
community. ``render`` returns the references it found with the HTML, so what is linked
and what is notified never disagree."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
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

HASHTAG = re.compile(r"#([^\W_][\w-]{0,49})", re.UNICODE)
MENTION = re.compile(r"@\*\*([^*|\n]{1,100}?)(?:\|(\d{1,18}))?\*\*")
EVERYONE = re.compile(r"@(all|everyone|tous|community|communauté)(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Person:
    """Someone a mention names, as the resolver found them."""

    id: int
    name: str


# A mention as written: the name, and the id when the typeahead gave one.
MentionKey = tuple[str, int | None]
Resolver = Callable[[list[MentionKey]], dict[MentionKey, Person]]


@dataclass
class Refs:
    hashtags: list[str] = field(default_factory=list)  # lower case, in order, once each
    people: list[Person] = field(default_factory=list)  # mentions the resolver knew
    everyone: bool = False  # "@all"


def _word_start(state: StateInline) -> bool:
    """At the start of a word, and not inside a link's text."""
    if state.linkLevel > 0:
        return False
    return state.pos == 0 or not (
        state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "_&/#@"
    )


def _hashtag(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "#" or not _word_start(state):
        return False
    found = HASHTAG.match(state.src, state.pos)
    if not found:
        return False
    if not silent:
        token = state.push("hashtag", "", 0)
        token.meta = {"name": found.group(1).lower(), "text": found.group(0)}
    state.pos = found.end()
    return True


def _mention(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "@" or not _word_start(state):
        return False
    found = MENTION.match(state.src, state.pos) or EVERYONE.match(state.src, state.pos)
    if not found:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        if found.re is EVERYONE:
            token.meta = {"everyone": True, "text": found.group(0)}
        else:
            person_id = int(found.group(2)) if found.group(2) else None
            token.meta = {"key": (found.group(1).strip(), person_id), "text": found.group(0)}
    state.pos = found.end()
    return True


def _render_hashtag(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    meta = tokens[idx].meta
    return f'<a href="/tags/{escapeHtml(meta["name"])}/">{escapeHtml(meta["text"])}</a>'


def _render_mention(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    meta = tokens[idx].meta
    if meta.get("everyone"):
        return f"<strong>{escapeHtml(meta['text'])}</strong>"
    person = env.get("people", {}).get(meta["key"])
    if person is None:  # nobody the author may name: plain text, no link, no notice
        return escapeHtml(f"@{meta['key'][0]}")
    return f'<a href="/people/{person.id}/">@{escapeHtml(person.name)}</a>'


_renderer.inline.ruler.before("emphasis", "essaim_mention", _mention)
_renderer.inline.ruler.before("emphasis", "essaim_hashtag", _hashtag)
_renderer.add_render_rule("hashtag", _render_hashtag)
_renderer.add_render_rule("mention", _render_mention)


def render(text: str) -> str:
    """Safe HTML for ``text``, written in Markdown (mentions shown as plain text)."""
    return render_with_refs(text)[0]


def render_with_refs(text: str, resolve: Resolver | None = None) -> tuple[str, Refs]:
    """Safe HTML for ``text`` and the hashtags and mentions in it; ``resolve`` says who
    each mention names (the people the author may name), the others stay plain text."""
    env: dict[str, Any] = {}
    tokens = _renderer.parse(text, env)
    refs = Refs()
    keys: list[MentionKey] = []
    for token in tokens:
        for child in token.children or ():
            if child.type == "hashtag" and child.meta["name"] not in refs.hashtags:
                refs.hashtags.append(child.meta["name"])
            elif child.type == "mention" and child.meta.get("everyone"):
                refs.everyone = True
            elif child.type == "mention" and child.meta["key"] not in keys:
                keys.append(child.meta["key"])
    people = resolve(keys) if resolve and keys else {}
    refs.people = list({p.id: p for p in people.values()}.values())
    env["people"] = people
    return sanitise(_renderer.renderer.render(tokens, _renderer.options, env)), refs


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
