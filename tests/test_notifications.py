"""Notifications: who is told of what, grouped; preferences; audience when shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

import pytest
from django.test import Client

from essaim.accounts.models import Role as GlobalRole
from essaim.accounts.models import User, UserRole
from essaim.accounts.services import ServiceError, user_deactivate
from essaim.chat import services as chat
from essaim.communities import services as communities
from essaim.communities.models import Community, Membership, Role, Visibility
from essaim.content import services as content
from essaim.http import CLI
from essaim.knowledge import services as knowledge
from essaim.notifications import selectors, services
from essaim.notifications.models import Kind, Level, Notification, Preferences
from essaim.realtime import events
from tests.conftest import Personas

API = "/api/v1"


def place(personas: Personas, visibility: str = Visibility.PRIVATE) -> Community:
    """A community with the owner, an animator and a member in it."""
    community = communities.community_create(
        actor=personas.owner, origin=CLI, name=f"Place {visibility}", visibility=visibility
    )
    Membership.objects.create(community=community, user=personas.animator, role=Role.ANIMATOR)
    Membership.objects.create(community=community, user=personas.member, role=Role.MEMBER)
    return community


def kinds(user: object) -> list[str]:
    return [item.notification.kind for item in selectors.page(user)]


def texts(user: object) -> list[str]:
    return [str(item.text) for item in selectors.page(user)]


def received(user: object, since: int) -> list[str]:
    events.publish()
    return [e.type for e in events.after(user, since).events]


def test_a_mention_tells_the_person_named_at_once(personas: Personas) -> None:
    community = place(personas)
    since = events.head_now()
    post = content.post_create(
        actor=personas.owner, community=community, body="Over to you @**Member|0**"
    )
    assert kinds(personas.member) == []  # a made-up id names nobody
    post = content.post_create(
        actor=personas.owner,
        community=community,
        body=f"Over to you @**Member|{personas.member.pk}**",
    )
    row = Notification.objects.get(user=personas.member)
    assert (row.kind, row.priority, row.target_id) == (Kind.MENTION, 2, post.pk)
    assert texts(personas.member) == [
        "<strong>Owner</strong> mentioned you in <strong>Over to you @Member</strong>"
    ]
    assert selectors.unread_count(personas.member) == 1
    assert "notification" in received(personas.member, since)
    # Nobody else is told, not even the author.
    assert Notification.objects.count() == 1
    assert "notification" not in received(personas.animator, since)


def test_reactions_are_grouped_into_one_notification(personas: Personas) -> None:
    community = place(personas)
    Membership.objects.create(community=community, user=personas.hr, role=Role.MEMBER)
    post = content.post_create(actor=personas.member, community=community, body="Lunch?")
    for person in (personas.owner, personas.animator, personas.hr):
        content.react(actor=person, post=post, kind="like")
    content.react(actor=personas.hr, post=post, kind="thanks")  # a change, not a new one
    content.react(actor=personas.member, post=post, kind="like")  # one's own: nothing
    [row] = Notification.objects.filter(user=personas.member)
    assert (row.kind, row.actor_count, row.priority) == (Kind.REACTION, 3, 0)
    assert row.actors == [personas.hr.pk, personas.animator.pk, personas.owner.pk]
    assert texts(personas.member) == [
        "<strong>Hr</strong> and 2 others reacted to <strong>Lunch?</strong>"
    ]
    # Once read, the next reaction is news again.
    services.mark_all_read(actor=personas.member)
    content.react(actor=personas.owner, post=post, kind=None)
    content.react(actor=personas.owner, post=post, kind="like")
    assert [(i.unread, i.notification.actor_count) for i in selectors.page(personas.member)] == [
        (True, 1),
        (False, 3),
    ]


def test_comments_tell_the_author_the_followers_and_the_named(personas: Personas) -> None:
    community = place(personas)
    Membership.objects.create(community=community, user=personas.hr, role=Role.MEMBER)
    Membership.objects.create(community=community, user=personas.moderator, role=Role.MEMBER)
    post = content.post_create(actor=personas.owner, community=community, body="Plan")
    content.post_state_set(actor=personas.hr, post=post, following=True)
    content.post_state_set(actor=personas.moderator, post=post, following=True)
    content.post_state_set(actor=personas.moderator, post=post, muted=True)
    comment = content.comment_create(
        actor=personas.member, post=post, body=f"Agreed, @**Hr|{personas.hr.pk}**"
    )
    assert kinds(personas.owner) == [Kind.REPLY]
    assert kinds(personas.hr) == [Kind.MENTION]  # named: one notification, not two
    assert kinds(personas.moderator) == []  # muted
    assert selectors.page(personas.owner)[0].url == f"/posts/{post.pk}/#comment-{comment.pk}"
    # Commenting follows the post: the member hears of the next comment.
    content.comment_create(actor=personas.animator, post=post, body="Me too")
    assert kinds(personas.member) == [Kind.REPLY]
    [row] = Notification.objects.filter(user=personas.owner)
    assert row.actor_count == 2  # the owner's one unread notification, grouped


def test_a_silenced_community_tells_nothing_and_a_close_one_everything(
    personas: Personas,
) -> None:
    community = place(personas)
    services.community_level_set(actor=personas.member, community=community, level=Level.NOTHING)
    services.community_level_set(actor=personas.animator, community=community, level=Level.ALL)
    content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** hi"
    )
    assert kinds(personas.member) == []
    assert kinds(personas.animator) == [Kind.POST]
    # Back to the default: mentions again, no new posts.
    services.community_level_set(actor=personas.member, community=community, level="default")
    services.community_level_set(actor=personas.animator, community=community, level="default")
    content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** hi"
    )
    assert kinds(personas.member) == [Kind.MENTION]
    assert kinds(personas.animator) == [Kind.POST]
    with pytest.raises(ServiceError):
        services.community_level_set(actor=personas.member, community=community, level="loud")


def test_everyone_mention_tells_every_member(personas: Personas) -> None:
    community = place(personas)
    content.post_create(actor=personas.owner, community=community, body="@all meeting at 3")
    told = dict(Notification.objects.values_list("user_id", "priority"))
    assert told == {personas.animator.pk: 1, personas.member.pk: 1}  # told, not urgently


def test_an_edit_tells_only_the_newly_mentioned_who_may_read_it(personas: Personas) -> None:
    community = place(personas)
    post = content.post_create(
        actor=personas.animator, community=community, body=f"@**Member|{personas.member.pk}**"
    )
    content.post_edit(
        actor=personas.animator,
        post=post,
        body=f"@all @**Member|{personas.member.pk}** @**Owner|{personas.owner.pk}** "
        f"@**Outsider|{personas.outsider.pk}**",
    )
    assert kinds(personas.owner) == [Kind.MENTION]  # newly named
    assert Notification.objects.filter(user=personas.member).count() == 1  # not told again
    assert not Notification.objects.filter(user=personas.outsider).exists()  # cannot read it
    # "@all" added by an edit tells nobody: a whole community is told when a post is made.
    assert Notification.objects.count() == 2


def test_what_is_shown_follows_access_when_it_is_shown(
    personas: Personas, api_session: Callable[..., Client]
) -> None:
    community = place(personas)
    post = content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** see"
    )
    row = Notification.objects.get(user=personas.member)
    client = api_session(personas.member)
    assert client.get(f"{API}/notifications").json()["unread"] == 1
    communities.member_remove(
        actor=personas.owner, origin=CLI, community=community, person=personas.member
    )
    # Gone from the list and the count, and its link is a 404 like a missing one.
    assert selectors.page(personas.member) == []
    assert selectors.unread_count(personas.member) == 0
    listed = client.get(f"{API}/notifications").json()
    assert (listed["results"], listed["unread"]) == ([], 0)
    hidden = client.post(f"{API}/notifications/{row.pk}/read")
    missing = client.post(f"{API}/notifications/{row.pk + 1000}/read")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert client.get(f"/notifications/{row.pk}/").status_code == 404
    assert client.get("/notifications/badge/").json() == {"unread": 0}
    assert "see" not in client.get("/notifications/").content.decode().split("<main", 1)[1]
    assert Notification.objects.get(pk=row.pk).read_at is None  # changed nothing
    # Someone else's notification is nobody else's business.
    other = api_session(personas.owner).post(f"{API}/notifications/{row.pk}/read")
    assert other.status_code == 404
    # Access back: shown again. A deleted post: gone for good.
    Membership.objects.create(community=community, user=personas.member, role=Role.MEMBER)
    assert kinds(personas.member) == [Kind.MENTION]
    content.post_delete(actor=personas.owner, origin=CLI, post=post)
    assert kinds(personas.member) == []


def test_the_deactivated_are_told_nothing(personas: Personas) -> None:
    community = place(personas)
    user_deactivate(actor=personas.admin, origin=CLI, user=personas.member)
    content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** x"
    )
    assert not Notification.objects.filter(user=personas.member).exists()


def test_direct_messages_are_grouped_by_conversation_and_muting_silences_them(
    personas: Personas,
) -> None:
    conversation, _new = chat.direct_open(actor=personas.owner, person=personas.member)
    for text in ("Hi", "Are you there?"):
        chat.message_send(actor=personas.owner, conversation=conversation, body=text)
    [row] = Notification.objects.filter(user=personas.member)
    assert (row.kind, row.actor_count, row.priority) == (Kind.MESSAGE, 1, 2)
    assert selectors.page(personas.member)[0].url.startswith(f"/chat/{conversation.pk}/#message-")
    chat.settings_set(actor=personas.owner, conversation=conversation, muted=True, favourite=None)
    chat.message_send(actor=personas.member, conversation=conversation, body="Yes")
    assert not Notification.objects.filter(user=personas.owner).exists()


def test_questions_tell_their_author_of_answers_and_answerers_of_acceptance(
    personas: Personas,
) -> None:
    question = knowledge.question_ask(
        actor=personas.member, community=None, title="Where is the VPN guide?", body="?"
    )
    answer = knowledge.answer_create(actor=personas.owner, question=question, body="Here.")
    assert kinds(personas.member) == [Kind.ANSWER]
    assert selectors.page(personas.member)[0].url == f"/questions/{question.pk}/#answer-{answer.pk}"
    knowledge.question_accept(actor=personas.member, question=question, answer_id=answer.pk)
    assert kinds(personas.owner) == [Kind.ACCEPTED]


def test_invitations_and_join_requests_reach_who_acts_on_them(personas: Personas) -> None:
    community = place(personas)
    communities.invite(actor=personas.owner, origin=CLI, community=community, people=[personas.hr])
    assert kinds(personas.hr) == [Kind.INVITATION]
    communities.join_request(actor=personas.outsider, community=community, message="Please")
    assert kinds(personas.owner) == [Kind.JOIN_REQUEST]
    assert kinds(personas.animator) == [Kind.JOIN_REQUEST]
    assert kinds(personas.member) == []
    assert selectors.page(personas.owner)[0].url == f"/c/{community.slug}/members/"


def test_channels_turned_off_keep_the_app_quiet(personas: Personas) -> None:
    community = place(personas)
    services.preferences_set(actor=personas.member, channels={"mention": ["email"]})
    content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** a"
    )
    # Kept for the e-mail, but nothing in the app.
    row = Notification.objects.get(user=personas.member)
    assert row.read_at is None and not row.in_app
    assert selectors.unread_count(personas.member) == 0 and selectors.page(personas.member) == []
    services.preferences_set(actor=personas.member, channels={"mention": []})
    content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** b"
    )
    assert Notification.objects.filter(user=personas.member).count() == 1


def test_bad_preferences_are_refused_and_change_nothing(
    personas: Personas, api_session: Callable[..., Client]
) -> None:
    client = api_session(personas.member)
    before = client.get(f"{API}/notifications/preferences").json()
    assert before["channels"]["mention"] == ["app", "email", "push"]
    assert before["channels"]["reaction"] == ["app"]
    for body in (
        {"channels": {"mention": ["pigeon"]}},
        {"channels": {"gossip": ["app"]}},
        {"digest": "hourly"},
        {"quiet_from": "22:00"},
        {"quiet_from": "22:00", "quiet_until": "22:00"},
    ):
        refused = client.put(
            f"{API}/notifications/preferences", body, content_type="application/json"
        )
        assert refused.status_code == 422, body
        assert refused.json()["error"]["fields"], body
    assert client.get(f"{API}/notifications/preferences").json() == before
    assert not Preferences.objects.exists()
    done = client.put(
        f"{API}/notifications/preferences",
        {"digest": "weekly", "quiet_from": "22:00", "quiet_until": "07:00"},
        content_type="application/json",
    ).json()
    assert (done["digest"], done["quiet_from"], done["quiet_until"]) == (
        "weekly",
        "22:00:00",
        "07:00:00",
    )
    prefs = Preferences.objects.get(user=personas.member)
    assert (prefs.quiet_from, prefs.quiet_until) == (time(22), time(7))


def test_the_api_lists_reads_and_counts(
    personas: Personas, api_session: Callable[..., Client]
) -> None:
    community = place(personas)
    for n in range(3):
        content.post_create(
            actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** {n}"
        )
    client = api_session(personas.member)
    listed = client.get(f"{API}/notifications").json()
    assert listed["unread"] == 3 and len(listed["results"]) == 3
    first = listed["results"][0]
    assert (first["kind"], first["priority"], first["unread"]) == ("mention", "high", True)
    assert client.post(f"{API}/notifications/{first['id']}/read").json() == {"unread": 2}
    assert len(client.get(f"{API}/notifications?unread=true").json()["results"]) == 2
    assert client.post(f"{API}/notifications/read").json() == {"unread": 0}
    assert client.get(f"{API}/notifications?before=abc").status_code == 422
    level = client.put(
        f"{API}/communities/{community.pk}/notifications",
        {"level": "nothing"},
        content_type="application/json",
    )
    assert level.json() == {"community": community.pk, "level": "nothing"}
    # A community the caller cannot see: 404, as for a missing one.
    secret = communities.community_create(
        actor=personas.owner, origin=CLI, name="Hush", visibility=Visibility.SECRET
    )
    for community_id in (secret.pk, secret.pk + 1000):
        refused = client.put(
            f"{API}/communities/{community_id}/notifications",
            {"level": "all"},
            content_type="application/json",
        )
        assert refused.status_code == 404


def test_the_centre_page_opens_a_notification_where_it_happened(
    personas: Personas, signed_in: Callable[..., Client]
) -> None:
    community = place(personas)
    post = content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** look"
    )
    client = signed_in(personas.member)
    page = client.get("/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "mentioned you in" in html and 'class="badge badge-count nav-count"' in html
    row = Notification.objects.get(user=personas.member)
    opened = client.get(f"/notifications/{row.pk}/")
    assert opened.status_code == 302 and opened["Location"] == f"/posts/{post.pk}/"
    assert Notification.objects.get(pk=row.pk).read_at is not None
    assert client.get("/notifications/badge/").json() == {"unread": 0}
    # An outsider's own centre shows none of it.
    assert "look" not in signed_in(personas.outsider).get("/notifications/").content.decode()


def test_opening_what_it_is_about_reads_the_notification(
    personas: Personas, signed_in: Callable[..., Client]
) -> None:
    community = place(personas)
    post = content.post_create(
        actor=personas.owner, community=community, body=f"@**Member|{personas.member.pk}** look"
    )
    content.react(actor=personas.animator, post=post, kind="like")  # the owner's, unread
    question = knowledge.question_ask(
        actor=personas.member, community=None, title="Where is the VPN guide?", body="?"
    )
    knowledge.answer_create(actor=personas.owner, question=question, body="Here.")
    assert selectors.unread_count(personas.member) == 2
    since = events.head_now()
    # Someone who may not see the post opens nothing and reads nothing.
    assert signed_in(personas.outsider).get(f"/posts/{post.pk}/").status_code == 404
    member = signed_in(personas.member)
    assert member.get(f"/posts/{post.pk}/").status_code == 200
    assert kinds(personas.member) == [Kind.ANSWER, Kind.MENTION]
    assert selectors.unread_count(personas.member) == 1
    assert "notification.read" in received(personas.member, since)
    assert selectors.unread_count(personas.owner) == 1  # another's notification stays unread
    assert member.get(f"/questions/{question.pk}/").status_code == 200
    assert selectors.unread_count(personas.member) == 0
    # A conversation: read to its last message; a thread's replies: when the thread is read.
    conversation, _new = chat.direct_open(actor=personas.owner, person=personas.member)
    first, _ = chat.message_send(actor=personas.owner, conversation=conversation, body="Hi")
    last, _ = chat.message_send(actor=personas.owner, conversation=conversation, body="There?")
    chat.read_up_to(actor=personas.member, conversation=conversation, message_id=first.pk)
    assert selectors.unread_count(personas.member) == 1
    chat.read_up_to(actor=personas.member, conversation=conversation, message_id=last.pk)
    assert selectors.unread_count(personas.member) == 0
    chat.message_send(actor=personas.owner, conversation=conversation, body="So?", parent=first)
    chat.read_up_to(actor=personas.member, conversation=conversation, message_id=last.pk + 10)
    assert selectors.unread_count(personas.member) == 1
    chat.thread_read(actor=personas.member, message=first)
    assert selectors.unread_count(personas.member) == 0


def test_a_must_read_announcement_tells_everyone_it_reaches(personas: Personas) -> None:
    UserRole.objects.create(user=personas.hr, role=GlobalRole.COMMUNICATIONS)
    comms = User.objects.get(pk=personas.hr.pk)
    content.post_create(
        actor=comms, community=None, body="Read the new charter", kind="announcement",
        must_read=True,
    )  # fmt: skip
    told = set(Notification.objects.filter(kind=Kind.ANNOUNCEMENT).values_list("user", flat=True))
    assert personas.member.pk in told and personas.owner.pk in told
    assert personas.external.pk not in told and personas.hr.pk not in told
    assert personas.deactivated.pk not in told
    # Not a must-read: nobody is told.
    content.post_create(actor=comms, community=None, body="FYI", kind="announcement")
    assert Notification.objects.count() == len(told)
