"""Posts, comments, reactions, polls, files and what people do with them (read, follow,
save). Who sees a post is decided by access.PostRule from where it was posted (a
community, a profile, a company announcement) at the moment of reading; nothing here
decides it, so a post follows its community's visibility as it changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BODY_MAX = 20_000
CLIENT_ID_MAX = 64  # a client's own id for what it sends: a retry never writes it twice
COMMENT_MAX = 10_000
ATTACHMENTS_MAX = 10
POLL_OPTIONS_MAX = 10
POLL_OPTION_MAX = 200
HASHTAG_MAX = 50


class PostKind(models.TextChoices):
    POST = "post", _("Post")
    ANNOUNCEMENT = "announcement", _("Announcement")
    POLL = "poll", _("Poll")


class Post(models.Model):
    """Posted in a community, on its author's profile (``community`` empty, not an
    announcement), or as a company announcement (no community: to every employee, or to
    one org unit and its sub-units, or to one site)."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="posts",
    )
    kind = models.CharField(max_length=12, choices=PostKind.choices, default=PostKind.POST)
    org_unit = models.ForeignKey(
        "directory.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site = models.ForeignKey(
        "directory.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=BODY_MAX)
    html = models.TextField()  # body rendered and sanitised (content.markdown)
    must_read = models.BooleanField(default=False)
    pinned_at = models.DateTimeField(null=True, blank=True)
    link = models.ForeignKey(
        "LinkPreview", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept by the services (no COUNT per post on a feed page).
    comment_count = models.PositiveIntegerField(default=0)
    reaction_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    activity_at = models.DateTimeField(default=timezone.now)  # last comment or reaction
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A default in the database too: the demo and bench generators write rows in bulk.
    client_id = models.CharField(max_length=CLIENT_ID_MAX, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["community", "-created_at"], name="post_community_new"),
            models.Index(fields=["author", "-created_at"], name="post_author_new"),
            models.Index(
                fields=["-created_at"],
                condition=Q(community__isnull=True, kind="announcement"),
                name="post_announcement_new",
            ),
            models.Index(fields=["-created_at"], name="post_new"),
            # A community's pinned posts, at the top of its page: without it, every post
            # of the community was read to find the few pinned ones.
            models.Index(
                fields=["community", "-pinned_at"],
                condition=Q(pinned_at__isnull=False),
                name="post_pinned",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="announcement") | Q(must_read=False),
                name="post_must_read_is_announcement",
            ),
            models.CheckConstraint(
                condition=Q(org_unit__isnull=True, site__isnull=True)
                | Q(kind="announcement", community__isnull=True),
                name="post_targets_company_announcement",
            ),
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=~Q(client_id=""),
                name="post_client_id_once",
            ),
        ]

    def __str__(self) -> str:
        return f"post {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("post", args=[self.pk])

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_company_announcement(self) -> bool:
        return self.community_id is None and self.kind == PostKind.ANNOUNCEMENT


class Comment(models.Model):
    """A reply to a post, or to a comment of the post (one level: a reply to a reply
    is attached to the same parent)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=COMMENT_MAX)
    html = models.TextField()
    reaction_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["post", "created_at"], name="comment_post_order")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.post_id}"


class Revision(models.Model):
    """The text a post or comment had before an edit."""

    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions"
    )
    body = models.TextField()
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(post__isnull=True) ^ Q(comment__isnull=True), name="revision_of_one"
            )
        ]

    def __str__(self) -> str:
        return f"revision {self.pk}"


class ReactionKind(models.TextChoices):
    LIKE = "like", _("Like")
    CELEBRATE = "celebrate", _("Celebrate")
    SUPPORT = "support", _("Support")
    INSIGHTFUL = "insightful", _("Insightful")
    CURIOUS = "curious", _("Curious")
    THANKS = "thanks", _("Thanks")


class Reaction(models.Model):
    """One per person and post or comment; choosing another replaces it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="reactions"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="reactions"
    )
    kind = models.CharField(max_length=12, choices=ReactionKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(post__isnull=True) ^ Q(comment__isnull=True), name="reaction_on_one"
            ),
            models.UniqueConstraint(
                fields=["post", "user"], condition=Q(comment__isnull=True), name="reaction_post"
            ),
            models.UniqueConstraint(
                fields=["comment", "user"], condition=Q(post__isnull=True), name="reaction_comment"
            ),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="reaction_user_new")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class Mention(models.Model):
    """A person named in a post or comment who may read it (the others are not recorded:
    they are not told, and the mention reveals nothing to them). ``everyone``: the
    community was mentioned as a whole (by one of its owners or animators)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    everyone = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="mention_user_new")]

    def __str__(self) -> str:
        return f"mention in {self.post_id}"


class Poll(models.Model):
    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="poll")
    multiple = models.BooleanField(default=False)
    anonymous = models.BooleanField(default=False)
    closes_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"poll of {self.post_id}"

    @property
    def closed(self) -> bool:
        return self.closes_at is not None and self.closes_at <= timezone.now()


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=POLL_OPTION_MAX)
    position = models.PositiveSmallIntegerField()
    vote_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.label


class PollVote(models.Model):
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="votes")
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["option", "user"], name="poll_vote_once"),
        ]
        indexes = [models.Index(fields=["poll", "user"])]

    def __str__(self) -> str:
        return f"{self.user_id} for {self.option_id}"


class PostState(models.Model):
    """What one person did with a post: read it, acknowledged it (must-read
    announcements), saved it, follows it (told about new comments) or muted it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="states")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    saved_at = models.DateTimeField(null=True, blank=True)
    # None: the default (authors and commenters follow); True/False: chosen.
    following = models.BooleanField(null=True, blank=True)
    muted = models.BooleanField(default=False)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="post_state_once")]
        indexes = [
            models.Index(
                fields=["user", "-saved_at"], condition=Q(saved_at__isnull=False), name="saved"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.post_id}"


class Hashtag(models.Model):
    """A post's hashtags, one row each, for the hashtag pages."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=HASHTAG_MAX)  # lower case, without '#'
    created_at = models.DateTimeField()  # the post's, so a page reads one index

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "name"], name="hashtag_once")]
        indexes = [
            models.Index(fields=["name", "-created_at"], name="hashtag_new"),
            # "Trending": the recent rows, read from the index alone.
            models.Index(fields=["created_at", "name", "post"], name="hashtag_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.name}"


class Attachment(models.Model):
    """A file uploaded by ``uploader``; unattached until a post, a comment, a question, an
    answer or a chat message takes it (the worker removes unattached files after a day).
    Stored under a random key (content.files), never under the uploaded name. A comment's
    file also names its post, an answer's its question."""

    UNATTACHED = Q(post__isnull=True, question__isnull=True, message__isnull=True)

    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    question = models.ForeignKey(
        "knowledge.Question",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    answer = models.ForeignKey(
        "knowledge.Answer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    message = models.ForeignKey(
        "chat.Message",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    key = models.CharField(max_length=200, unique=True)
    thumb_key = models.CharField(max_length=200, blank=True, default="")
    name = models.CharField(max_length=200)
    mime = models.CharField(max_length=100)
    kind = models.CharField(max_length=16)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["post"], name="attachment_post"),
            models.Index(fields=["uploader", "created_at"], name="attachment_uploader"),
        ]

    def __str__(self) -> str:
        return self.name


class PreviewState(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class LinkPreview(models.Model):
    """The card of an external link, fetched once by the worker (content.previews, with
    its SSRF guard) and shared by every post that links there. Plain text only."""

    url = models.CharField(max_length=2000)
    url_hash = models.CharField(max_length=64, unique=True)  # sha256 of url
    state = models.CharField(
        max_length=8, choices=PreviewState.choices, default=PreviewState.PENDING
    )
    final_url = models.CharField(max_length=2000, blank=True, default="")
    title = models.CharField(max_length=300, blank=True, default="")
    description = models.CharField(max_length=1000, blank=True, default="")
    site_name = models.CharField(max_length=100, blank=True, default="")
    image_url = models.CharField(max_length=2000, blank=True, default="")
    fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.url
