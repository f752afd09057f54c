// Posts live: a feed shows "N new posts" as they are published, and the posts on a page
// follow their reactions, comments, votes and edits. Events carry ids, never text: the
// page fetches the changed post or comments again, and access.py decides once more.
"use strict";
{
  const events = window.Essaim && window.Essaim.events;
  const feed = document.querySelector("[data-feed]");
  const DELAY = 300; // ms: a burst of reactions costs one fetch

  function fetchFragment(postId, fragment) {
    return fetch(`/posts/${postId}/?fragment=${fragment}`, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => new DOMParser().parseFromString(html, "text/html"));
  }

  function replaceWith(old, fresh) {
    if (!old || !fresh) return;
    old.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
  }

  // One pending fetch per post and fragment; none while the person types in it.
  const pending = new Map();
  function refresh(postId, fragment, find) {
    const key = `${postId}:${fragment}`;
    if (pending.has(key)) return;
    pending.set(key, setTimeout(function run() {
      const current = find();
      if (current && current.contains(document.activeElement) && document.activeElement !== document.body) {
        pending.set(key, setTimeout(run, 2000));
        return;
      }
      pending.delete(key);
      if (!current) return;
      fetchFragment(postId, fragment).then((page) => {
        const selector = current.id ? `#${CSS.escape(current.id)}` : `.${current.classList[0]}`;
        replaceWith(find(), page.querySelector(selector));
      }, () => {});
    }, DELAY));
  }

  function card(postId) { return document.getElementById(`post-${postId}`); }
  function commentList(postId) {
    return document.querySelector(`[data-comments="${postId}"] .comment-list`);
  }

  if (events) {
    for (const type of ["reaction.changed", "poll.voted", "post.updated", "comment.created", "comment.deleted"]) {
      events.on(type, (data) => {
        if (card(data.post)) refresh(data.post, "card", () => card(data.post));
        if (type.startsWith("comment.") || (type === "reaction.changed" && data.comment)) {
          if (commentList(data.post)) refresh(data.post, "comments", () => commentList(data.post));
        }
      });
    }
    events.on("post.deleted", (data) => {
      const gone = card(data.post);
      if (gone && !document.querySelector(`[data-post-page="${data.post}"]`)) gone.remove();
    });
  }

  if (events && feed) {
    const filter = JSON.parse(feed.dataset.feed || "{}");
    const forms = JSON.parse(feed.dataset.newForms || "[]");
    const banner = feed.querySelector(".new-posts");
    const link = banner.querySelector("[data-new-posts]");
    let fresh = 0;
    const belongs = (data) => {
      if (filter.kind && data.kind !== filter.kind) return false;
      if (data.community && (filter.communities || []).includes(data.community)) return true;
      if ((filter.authors || []).includes(data.author)) return true;
      return Boolean(filter.announcements && !data.community && data.kind === "announcement");
    };
    events.on("post.created", (data) => {
      if (!belongs(data) || card(data.post)) return;
      fresh += 1;
      link.textContent = (fresh === 1 ? forms[0] : forms[1]).replace("%(counter)s", fresh);
      banner.hidden = false;
    });
  }

  // Posts a feed showed for a second are read: the "unread" filter leaves them out.
  if (feed && "IntersectionObserver" in window) {
    const shown = new Set();
    const timers = new Map();
    const token = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const id = Number(entry.target.dataset.post);
        if (entry.isIntersecting) {
          timers.set(id, setTimeout(() => { shown.add(id); observer.unobserve(entry.target); }, 1000));
        } else {
          clearTimeout(timers.get(id));
        }
      }
    }, { threshold: 0.6 });
    const watch = (root) => {
      for (const post of root.querySelectorAll("article.post[data-post]")) observer.observe(post);
    };
    watch(feed);
    document.body.addEventListener("htmx:afterSwap", (event) => watch(event.target.parentNode || feed));
    setInterval(() => {
      if (!shown.size) return;
      const posts = [...shown].slice(0, 100);
      for (const id of posts) shown.delete(id);
      fetch("/api/v1/posts/read", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token() },
        body: JSON.stringify({ posts }),
      }).catch(() => {});
    }, 3000);
  }
}
