"""Slack's incoming-webhook JSON, read into a message's Markdown, so that the tools that
post to Slack post to Essaim unchanged: ``text``, the legacy ``attachments`` (pretext,
title and its link, text, else fallback) and the ``blocks`` that carry text (header,
section with its fields, context). Slack's own markup ("mrkdwn") becomes Markdown."""

from __future__ import annotations

import re
from typing import Any

# <https://example.com|label>, <https://example.com>, <mailto:…>; <!here>, <@U123>, <#C1|x>.
_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<([!@#])([^|>]*)(?:\|([^>]*))?>")
# Slack's *bold* and ~strike~ are Markdown's **bold** and ~~strike~~ (_italic_ is the same).
_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"(?<![~\w])~(?=\S)([^~\n]+?)(?<=\S)~(?![~\w])")


def markdown(mrkdwn: str) -> str:
    def link(found: re.Match[str]) -> str:
        url, label = found.group(1), found.group(2)
        return f"[{label}]({url})" if label else url

    def special(found: re.Match[str]) -> str:
        sigil, name, label = found.groups()
        if sigil == "!":
            return f"@{name.split('^')[0]}"  # <!here>, <!channel>, <!date^…|fallback>
        return f"{sigil}{label or name}"

    text = _SPECIAL.sub(special, _LINK.sub(link, mrkdwn))
    text = _STRIKE.sub(r"~~\1~~", _BOLD.sub(r"**\1**", text))
    # Slack asks senders to escape these three; the renderer escapes what it must.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(value: Any) -> str:
    """A text object's text ({"type": "mrkdwn", "text": …}) or a plain string."""
    if isinstance(value, dict):
        value = value.get("text")
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _block_lines(block: Any) -> list[str]:
    if not isinstance(block, dict):
        return []
    kind = block.get("type")
    if kind == "header":
        return [f"**{_text_of(block.get('text'))}**"]
    if kind == "section":
        fields = _list(block.get("fields"))
        return [_text_of(block.get("text")), *(_text_of(f) for f in fields)]
    if kind == "context":
        return [" ".join(_text_of(e) for e in _list(block.get("elements")))]
    return []


def _attachment_lines(attachment: Any) -> list[str]:
    if not isinstance(attachment, dict):
        return []
    title, link = _text_of(attachment.get("title")), _text_of(attachment.get("title_link"))
    heading = f"<{link}|{title}>" if title and link.startswith("http") else title
    body = _text_of(attachment.get("text")) or _text_of(attachment.get("fallback"))
    return [_text_of(attachment.get("pretext")), f"*{heading}*" if heading else "", body]


def message_text(payload: Any) -> str:
    """The message a webhook payload carries, as Markdown ("" when it carries none)."""
    if not isinstance(payload, dict):
        return ""
    blocks = _list(payload.get("blocks"))
    lines = [_text_of(payload.get("text"))] if not blocks else []
    # Slack shows the blocks instead of ``text`` (then only a notification's fallback).
    for block in blocks:
        lines.extend(_block_lines(block))
    for attachment in _list(payload.get("attachments")):
        lines.extend(_attachment_lines(attachment))
    return markdown("\n\n".join(line for line in lines if line.strip())).strip()
