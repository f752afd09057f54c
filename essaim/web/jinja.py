"""The Jinja2 environment of Essaim's templates.

Pages are Jinja2 templates: they render the long lists (feeds, comments, members) several
times faster than Django's template language (bench/README.md, docs/architecture.md).
They keep Django's i18n tags, ``{{ _("…") }}`` and ``{% blocktranslate %}`` (with, count,
trimmed, context), so that ``makemessages`` finds their texts as it always did.
"""

from __future__ import annotations

import functools
from typing import Any

from django.template import defaultfilters
from django.templatetags.i18n import language_name_translated
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from jinja2 import Environment, Undefined, nodes, select_autoescape
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.runtime import Context
from markupsafe import Markup

from essaim.content.models import PollOption, ReactionKind


def url_for(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def reaction_label(kind: str) -> str:
    return _reaction_labels(translation.get_language())[kind]


@functools.cache
def _reaction_labels(language: str) -> dict[str, str]:
    with translation.override(language):
        return {kind.value: str(kind.label) for kind in ReactionKind}


def total_votes(options: list[PollOption]) -> int:
    return sum(o.vote_count for o in options)


def _no_callables(value: Any) -> Any:
    """A method printed without its call is a template mistake (Django's language called
    it silently): fail loudly instead of printing "<bound method …>"."""
    if callable(value) and not isinstance(value, str | Undefined):
        raise TypeError(f"call {value!r} in the template")
    return value


class BlockTranslate(Extension):
    """Django's ``{% blocktranslate [with a=x …] [count n=x] [context "c"] [trimmed] %}…
    [{% plural %}…]{% endblocktranslate %}``: the same message ids, the variables
    escaped, the translated text trusted, as in Django's template language."""

    tags = {"blocktranslate"}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        values: dict[str, nodes.Expr] = {}
        counter: str | None = None
        context: str | None = None
        trimmed = False
        while parser.stream.current.type != "block_end":
            word = parser.stream.expect("name").value
            if word == "with" or word == "and":
                continue
            if word == "trimmed":
                trimmed = True
            elif word == "context":
                context = parser.stream.expect("string").value
            elif word == "count":
                counter = parser.stream.expect("name").value
                parser.stream.expect("assign")
                values[counter] = parser.parse_expression()
            else:
                parser.stream.expect("assign")
                values[word] = parser.parse_expression()
        next(parser.stream)
        singular, end = self._text(parser, values)
        plural = None
        if end == "plural":
            parser.stream.expect("block_end")
            plural, end = self._text(parser, values)
        if end != "endblocktranslate":
            parser.fail(f"unexpected {end!r} in blocktranslate", lineno)
        if trimmed:
            singular = translation.trim_whitespace(singular)
            plural = translation.trim_whitespace(plural) if plural is not None else None
        arguments = [
            nodes.ContextReference(),
            nodes.Const(singular),
            nodes.Const(plural),
            nodes.Const(context),
            nodes.Const(counter),
            nodes.Dict([nodes.Pair(nodes.Const(k), v) for k, v in values.items()]),
        ]
        call = self.call_method("_translate", arguments, lineno=lineno)
        return nodes.Output([call], lineno=lineno)

    @staticmethod
    def _text(parser: Parser, values: dict[str, nodes.Expr]) -> tuple[str, str]:
        """The text up to the next tag, ``{{ name }}`` as ``%(name)s`` (a name that
        ``with`` did not give comes from the context); and that tag's name (its block
        end is left to the caller)."""
        text = []
        while True:
            token = next(parser.stream)
            if token.type == "data":
                text.append(token.value.replace("%", "%%"))
            elif token.type == "variable_begin":
                name = parser.stream.expect("name")
                values.setdefault(name.value, nodes.Name(name.value, "load", lineno=name.lineno))
                text.append(f"%({name.value})s")
                parser.stream.expect("variable_end")
            elif token.type == "block_begin":
                return "".join(text), parser.stream.expect("name").value
            else:
                parser.fail(f"only text and plain variables in blocktranslate, not {token}")

    @staticmethod
    def _translate(
        context: Context,
        singular: str,
        plural: str | None,
        message_context: str | None,
        counter: str | None,
        values: dict[str, Any],
    ) -> str:
        if plural is None or counter is None:
            text = (
                translation.pgettext(message_context, singular)
                if message_context
                else translation.gettext(singular)
            )
        elif message_context:
            text = translation.npgettext(message_context, singular, plural, values[counter])
        else:
            text = translation.ngettext(singular, plural, values[counter])
        if context.eval_ctx.autoescape:
            # The translation is ours, trusted as the template's own text; the values
            # are escaped by Markup's %.
            return Markup(text) % values  # noqa: S704
        return text % values


def environment(**options: Any) -> Environment:
    options.pop("autoescape", None)
    env = Environment(
        extensions=[BlockTranslate],
        finalize=_no_callables,
        # HTML escaped, the plain-text e-mails not (they are not HTML).
        autoescape=select_autoescape(["html"], default_for_string=True),
        **options,
    )
    env.globals.update(
        _=translation.gettext,
        url_for=url_for,
        static=static,
        reaction_label=reaction_label,
    )
    env.filters.update(
        date=defaultfilters.date,
        filesizeformat=defaultfilters.filesizeformat,
        truncatechars=defaultfilters.truncatechars,
        yesno=defaultfilters.yesno,
        cut=defaultfilters.cut,
        capfirst=defaultfilters.capfirst,
        total_votes=total_votes,
        language_name_translated=language_name_translated,
    )
    return env
