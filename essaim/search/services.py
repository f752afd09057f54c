"""Writes of the search app: what the other apps' services call when a searchable thing
changes, the record of searches for the analytics, and keyword watches."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from essaim import access
from essaim.access import VIEW
from essaim.accounts.models import User
from essaim.accounts.services import ServiceError, clean_text
from essaim.communities.models import RUNNERS, Community
from essaim.content.models import COMMENT_MAX, Attachment
from essaim.notifications import services as notifications
from essaim.notifications.models import Kind as Told
from essaim.realtime import events

from .analysis import LANGUAGES, fold
from .documents import KIND_OF, KINDS, Document
from .engine import Filters, IndexBusy, Request, engine
from .models import (
    TITLE_MAX,
    FileText,
    Pending,
    SearchLog,
    Watch,
    WatchComment,
    WatchFrequency,
    WatchMatch,
    WatchSubscription,
)
from .query import QUERY_MAX, parse


def changed(model: type[Model], *ids: int, at_once: bool = False) -> None:
    """Queue these things for the index, in the caller's transaction (the outbox): their
    documents are written, or dropped, once it commits. ``at_once``: written now too, for
    a change of the keys a document carries (``access.search_keys_of``) that hides it —
    in the caller's transaction on PostgreSQL; before the commit in the embedded engine,
    where a rollback leaves the thing hidden until its next change, and where a separate
    worker holds the files, its indexer hides it within a second (the results shown are
    read again through the policy meanwhile)."""
    kind = KIND_OF[model]
    Pending.objects.bulk_create(Pending(kind=kind, object_id=pk) for pk in ids)
    wake_indexer_on_commit()
    if at_once:
        from .indexer import documents_of

        with suppress(IndexBusy):
            engine().write(*documents_of(kind, ids))


def outbox_kind(model: type[Model]) -> str:
    """The outbox's name for ``model``'s things."""
    return KIND_OF[model]


def wake_indexer_on_commit() -> None:
    """For a caller that wrote its outbox rows itself (chat's one-statement send)."""
    from .indexer import wake

    transaction.on_commit(wake)


def search_logged(*, text: str, results: int, corrected: bool) -> SearchLog:
    """Record a search for the analytics (the text folded, nobody's name)."""
    return SearchLog.objects.create(
        text=" ".join(fold(text).split())[: SearchLog._meta.get_field("text").max_length],
        results=results,
        corrected=corrected,
    )


def search_clicked(log_id: int) -> None:
    """A result of that search was opened (the first time counts)."""
    SearchLog.objects.filter(pk=log_id, clicked_at__isnull=True).update(clicked_at=timezone.now())


# --- Keyword watches ------------------------------------------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise access.Forbidden


def _watch_event(
    type: str, watch: Watch, data: dict[str, Any], users: list[int] | None = None
) -> None:
    """An event about ``watch`` to those who see it (narrowed to ``users``)."""
    data = {"watch": watch.pk, **data}
    if watch.community is not None:
        events.emit(type, data, community=watch.community, users=users)
    elif watch.shared:
        events.emit(type, data, everyone=True, users=users)
    else:
        events.emit(type, data, users=[watch.owner_id] if users is None else users)


def watch_create(
    *,
    actor: User,
    title: str,
    text: str,
    kinds: Sequence[str] = (),
    shared: bool = False,
    community: Community | None = None,
    language: str = "en",
) -> Watch:
    """A keyword watch, its owner subscribed. Shared ones are for every employee; one a
    community hosts (made by its owners and animators) for the community's readers."""
    _require(access.is_active(actor))
    if community is not None:
        _require(access.community_role(actor, community) in RUNNERS and not community.archived)
        shared = True
    elif shared:
        _require(access.sees_everyone(actor))
    title = clean_text(title, "title", TITLE_MAX, required=True)
    text = clean_text(text, "text", QUERY_MAX, required=True)
    language = language if language in LANGUAGES else "en"
    if parse(text, language=language).empty:
        raise ServiceError(_("Watch at least one word."), field="text")
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ServiceError(_("Unknown type of content."), field="kinds")
    with transaction.atomic():
        watch = Watch.objects.create(
            title=title,
            text=text,
            language=language,
            kinds=sorted(set(kinds)),
            owner=actor,
            community=community,
            shared=shared,
        )
        WatchSubscription.objects.create(watch=watch, user=actor)
    return watch


def watch_delete(*, actor: User, watch: Watch) -> None:
    _require(access.can(actor, "manage", watch))
    watch.delete()


def watch_subscribe(
    *, actor: User, watch: Watch, frequency: str = WatchFrequency.INSTANT
) -> WatchSubscription:
    _require(access.can(actor, "subscribe", watch))
    if frequency not in WatchFrequency.values:
        raise ServiceError(_("Choose how often to hear of new matches."), field="frequency")
    subscription, _created = WatchSubscription.objects.update_or_create(
        watch=watch, user=actor, defaults={"frequency": frequency}
    )
    return subscription


def watch_unsubscribe(*, actor: User, watch: Watch) -> None:
    WatchSubscription.objects.filter(watch=watch, user=actor).delete()


def watch_comment(*, actor: User, watch: Watch, body: str) -> WatchComment:
    """A message in the watch's discussion, live to those who see the watch."""
    from essaim.content.services import render_text  # content's services import this module

    _require(access.can(actor, "comment", watch))
    body = clean_text(body, "body", COMMENT_MAX, required=True)
    with transaction.atomic():
        comment = WatchComment.objects.create(
            watch=watch, author=actor, body=body, html=render_text(actor, body)[0]
        )
        _watch_event("watch.commented", watch, {"comment": comment.pk, "author": actor.pk})
    return comment


def watches_match(written: Sequence[Document]) -> int:
    """Record which watches the documents just indexed match (each match once), and tell
    each subscriber who may see the matched thing, live. Called by the indexer."""
    if not written:
        return 0
    by_id = {doc.id: doc for doc in written}
    keys = sorted({key for doc in written for key in doc.keys})
    readers: dict[int, set[str]] = {}  # subscriber -> access.search_keys, read once
    matched = 0
    for watch in Watch.objects.select_related("community", "owner"):
        query = parse(watch.text, language=watch.language)
        only = Filters(kinds=list(watch.kinds), documents=list(by_id))
        hits = engine().search(Request(query, keys, only, limit=len(by_id))).hits
        if not hits:
            continue
        earlier = watch.matches.filter(object_id__in=[h.pk for h in hits])
        known = set(earlier.values_list("kind", "object_id"))
        new = [h for h in hits if (h.kind, h.pk) not in known]
        WatchMatch.objects.bulk_create(
            [WatchMatch(watch=watch, kind=h.kind, object_id=h.pk) for h in new],
            ignore_conflicts=True,
        )
        matched += len(new)
        subscriptions = list(watch.subscriptions.select_related("user"))
        subscribers = [s.user for s in subscriptions]
        instant = {s.user_id for s in subscriptions if s.frequency == WatchFrequency.INSTANT}
        for hit in new:
            doc_keys = set(by_id[f"{hit.kind}:{hit.pk}"].keys)
            told = []
            for user in subscribers:
                if user.pk not in readers:
                    readers[user.pk] = set(access.search_keys(user))
                if readers[user.pk] & doc_keys and access.can(user, VIEW, watch):
                    told.append(user.pk)
            if told:
                data = {"kind": hit.kind, "id": hit.pk}
                _watch_event("watch.matched", watch, data, users=told)
                # The watch's feed shows the author's own post; a notification would not.
                told = [u for u in told if u != by_id[f"{hit.kind}:{hit.pk}"].author_id]
                at_once = [u for u in told if u in instant]
                notifications.notify(Told.WATCH, at_once, target=watch, detail=data)
                later = [u for u in told if u not in instant]
                notifications.notify(Told.WATCH, later, target=watch, detail=data, digest_only=True)
    return matched


def file_text_set(*, attachment: Attachment, text: str) -> FileText:
    """Keep a file's text (the worker's extraction) and index the file again."""
    with transaction.atomic():
        found, _created = FileText.objects.update_or_create(
            attachment=attachment, defaults={"text": text, "extracted_at": timezone.now()}
        )
        changed(Attachment, attachment.pk)
    return found


def file_text_wanted(attachment: Attachment) -> None:
    """Have the worker read an uploaded document's text, once the upload is committed."""
    if attachment.kind in ("document", "text"):
        from .tasks import extract_file_text  # the tasks import this module

        pk = attachment.pk
        transaction.on_commit(lambda: extract_file_text.enqueue(attachment_id=pk))
