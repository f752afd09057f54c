"""``verify_action``: does a client that applies its events end up where a fresh fetch
would? In the manner of Zulip's verify_action, for every feature that sends events."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from essaim import access
from essaim.realtime import events

State = TypeVar("State")
AHEAD = 2**62  # past any position: ``after`` answers with a resync at the head
# The viewer's own notifications travel beside what the actions change: their centre's
# events are verified by tests/test_notifications.py.
NOTIFICATION_EVENTS = ("notification", "notification.read")


def verify_action(
    viewer: access.Viewer,
    fetch_state: Callable[[], State],
    action: Callable[[], object],
    apply: Callable[[State, dict[str, Any]], State],
) -> list[dict[str, Any]]:
    """Run ``action`` and check that the events ``viewer`` receives for it keep their
    state right; return those events, so the test also checks their types and data.

    - ``fetch_state()``: the viewer's state as the app gives it (through the selectors a
      page or the API reads), comparable with ``==``;
    - ``action()``: the change, committed: use ``pytest.mark.django_db(transaction=True)``
      so that ``transaction.on_commit`` publishes its events. It may expect its own
      failure (``with pytest.raises(...)``): then it must send nothing;
    - ``apply(state, event)``: what a client does with one event, a dict ``{"id", "type",
      "data"}`` as the API and the socket send it; returns the new state (without
      changing the one given).

    Reads the viewer's position at the head of the stream, fetches the state, runs the
    action, reads every event the viewer may receive after that position (page after
    page, as a client would; a resync fails the test), applies them in order to the state
    fetched before and asserts the result equals the state fetched after. An event the
    viewer should not receive shows as a state that does not match, or in the list
    returned; no event and an unchanged state give ``[]``."""
    position = events.after(viewer, AHEAD).last_event_id
    before = fetch_state()
    action()
    received: list[dict[str, Any]] = []
    while True:
        batch = events.after(viewer, position)
        assert not batch.resync, "the stream asked for a resync"
        if not batch.events:
            break
        received += [
            {"id": e.seq, "type": e.type, "data": e.data}
            for e in batch.events
            if e.type not in NOTIFICATION_EVENTS
        ]
        position = batch.last_event_id
    state = before
    for event in received:
        state = apply(state, event)
    after = fetch_state()
    assert state == after, f"events {received} turned {before} into {state}, not {after}"
    return received


def unmasked(html: bytes, path: str) -> bytes:
    """A page without its CSRF token, which is masked anew at every response, and
    without the address asked for (the language form sends it back): what a hidden and
    a missing thing's 404 pages must share to the byte."""
    html = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)
    return html.replace(path.replace("&", "&amp;").encode(), b"PATH")
