// A conversation page: new messages appear without a reload, Enter sends (Shift+Enter:
// a new line) with a client id per message so that a retried send never writes twice,
// the read position follows what is shown, and who is typing is said.
"use strict";
{
  const main = document.querySelector("[data-chat]");
  const events = window.Essaim && window.Essaim.events;
  const sidebar = document.querySelector(".chat-list");
  if (sidebar && events) {
    // The conversations and their unread badges follow the other conversations' news.
    let pending = 0;
    let asked = 0; // the fetches sent, numbered …
    let shown = 0; // … and the newest one shown: an older answer arriving late is dropped
    const refresh = () => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        const mine = ++asked;
        fetch("/chat/", { credentials: "same-origin" })
          .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
          .then((html) => {
            if (mine < shown) return;
            shown = mine;
            const fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".chat-list ul");
            const old = sidebar.querySelector("ul");
            if (fresh && old) {
              const current = main && Number(main.dataset.chat);
              for (const link of fresh.querySelectorAll(".chat-link")) {
                const here = current && link.getAttribute("href") === `/chat/${current}/`;
                link.classList.toggle("current", Boolean(here));
                if (here) link.querySelector("[data-unread]")?.remove();
              }
              old.replaceWith(fresh);
              const threads = sidebar.querySelector(".chat-threads-link");
              const freshThreads = fresh.ownerDocument.querySelector(".chat-threads-link");
              if (threads && freshThreads) threads.replaceWith(document.adoptNode(freshThreads));
            } else if (fresh) {
              location.reload(); // the first conversation: the list replaces its empty state
            }
          }, () => {});
      }, 300);
    };
    for (const type of ["chat.message", "chat.conversation", "chat.read"]) {
      events.on(type, (data) => {
        if (!main || data.conversation !== Number(main.dataset.chat)) refresh();
      });
    }
  }
  if (main && events) {
    const conversation = Number(main.dataset.chat);
    const me = Number(main.dataset.me);
    const list = document.getElementById("messages");
    const form = main.querySelector("[data-chat-composer]");
    const typingLine = main.querySelector("[data-typing]");
    const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
    const lastId = () => {
      const items = list.querySelectorAll("[data-message]");
      return items.length ? Number(items[items.length - 1].dataset.message) : 0;
    };
    let fetching = false;
    let again = false;

    const markRead = () => {
      const last = lastId();
      if (!last || document.hidden || !csrf) return;
      fetch(`/api/v1/conversations/${conversation}/read`, {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf.value },
        body: JSON.stringify({ message: last }),
      }).catch(() => {});
    };

    const fetchNewer = () => {
      if (!main.dataset.newer) return; // a thread page reloads its replies below
      if (fetching) { again = true; return; }
      fetching = true;
      fetch(`${main.dataset.newer}?after=${lastId()}`, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
        .then((html) => {
          const fresh = new DOMParser().parseFromString(`<ol>${html}</ol>`, "text/html");
          for (const item of fresh.querySelectorAll("[data-message]")) {
            if (!document.getElementById(item.id)) list.append(document.adoptNode(item));
          }
          if (lastId()) list.lastElementChild.scrollIntoView({ block: "nearest" });
          markRead();
        }, () => {})
        .finally(() => {
          fetching = false;
          if (again) { again = false; fetchNewer(); }
        });
    };

    const replaceMessage = (id) => {
      const old = document.getElementById(`message-${id}`);
      if (!old) return;
      fetch(location.pathname, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
        .then((html) => {
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(old.id);
          if (fresh) old.replaceWith(document.adoptNode(fresh));
        }, () => {});
    };

    events.on("chat.message", (data) => {
      if (data.conversation !== conversation) return;
      if (main.dataset.thread) {
        if (String(data.parent) === main.dataset.thread) location.reload();
        return;
      }
      if (!data.parent) fetchNewer();
      else replaceMessage(data.parent); // its reply count
    });
    // Read receipts: who has read up to where, as the page shows them.
    events.on("chat.seen", (data) => {
      if (data.conversation !== conversation || main.dataset.thread) return;
      fetch(location.pathname, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
        .then((html) => {
          const fresh = new DOMParser().parseFromString(html, "text/html");
          for (const seen of list.querySelectorAll("[data-seen]")) seen.remove();
          for (const seen of fresh.querySelectorAll("#messages [data-seen]")) {
            const item = document.getElementById(seen.closest("[data-message]").id);
            if (item) item.querySelector(".prose").after(document.adoptNode(seen));
          }
        }, () => {});
    });
    // The other person's presence (one-to-one): watched over the socket, each time it
    // opens; do not disturb also shows above the composer.
    const presenceLine = main.querySelector("[data-presence]");
    if (presenceLine) {
      const person = Number(presenceLine.dataset.presence);
      const labels = JSON.parse(presenceLine.dataset.labels);
      const note = main.querySelector("[data-dnd-note]");
      let heard = false; // a change heard since the last watch outranks its snapshot
      const show = (state) => {
        if (!state || state.user !== person) return;
        presenceLine.dataset.status = state.status;
        presenceLine.querySelector("[data-presence-label]").textContent = labels[state.status] || state.status;
        presenceLine.querySelector("[data-presence-message]").textContent = state.message ? ` · ${state.message}` : "";
        if (note) note.hidden = state.status !== "dnd";
      };
      events.on("presence", (state) => { heard = true; show(state); });
      events.on("presence.snapshot", (data) => { if (!heard) (data.users || []).forEach(show); });
      const watch = () => {
        if (events.state === "open" && events.send({ type: "watch", users: [person] })) heard = false;
      };
      const root = document.querySelector("[data-events-from]");
      new MutationObserver(watch).observe(root, { attributes: true, attributeFilter: ["data-events-state"] });
      watch();
    }
    for (const type of ["chat.message_edited", "chat.message_deleted", "resync"]) {
      events.on(type, (data) => {
        if (type === "resync" || data.conversation === conversation) location.reload();
      });
    }

    // "Alice is typing…" for a few seconds after each typing frame of this conversation.
    const typists = new Map();
    const showTyping = () => {
      const names = [...typists.values()].map((t) => t.name);
      typingLine.textContent = names.length ? `${names.join(", ")} ${typingLine.dataset.label || "…"}` : "";
    };
    if (typingLine) {
      typingLine.dataset.label = main.dataset.typingLabel || "…";
      events.on("typing", (data) => {
        if (data.conversation !== conversation || data.user === me) return;
        const known = typists.get(data.user);
        if (known) clearTimeout(known.timer);
        const name = data.name || "";
        typists.set(data.user, { name, timer: setTimeout(() => { typists.delete(data.user); showTyping(); }, 4000) });
        showTyping();
      });
    }

    if (form) {
      const body = form.querySelector("textarea");
      let lastTyping = 0;
      body.addEventListener("input", () => {
        const now = Date.now();
        if (now - lastTyping > 2000) {
          lastTyping = now;
          events.send({ type: "typing", conversation });
        }
      });
      body.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      form.addEventListener("submit", (event) => {
        const files = form.querySelector("input[type=file]");
        if (main.dataset.thread || (files && files.files.length)) return; // the form posts
        event.preventDefault();
        if (!body.value.trim()) return;
        const clientId = form.elements.client_id.value;
        const text = body.value;
        fetch(`/api/v1/conversations/${conversation}/messages`, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf.value },
          body: JSON.stringify({ body: text, client_id: clientId }),
        }).then((response) => {
          if (!response.ok) return response.json().then((e) => Promise.reject(e));
          body.value = "";
          form.elements.client_id.value = crypto.randomUUID().replaceAll("-", "");
          if (new URLSearchParams(location.search).has("quote")) history.replaceState(null, "", location.pathname);
          fetchNewer();
        }).catch((error) => {
          // Kept in the box, same client id: sending again cannot write it twice.
          window.alert((error && error.error && error.error.message) || "…");
        });
      });
    }
    // Scrolling up to the "Earlier messages" link brings them in above, and so on back.
    const earlier = main.querySelector("[data-earlier]");
    if (earlier && !new URLSearchParams(location.search).has("before")) {
      let loading = false;
      const loadEarlier = () => {
        if (loading) return;
        loading = true;
        fetch(earlier.href, { credentials: "same-origin" })
          .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
          .then((html) => {
            const fresh = new DOMParser().parseFromString(html, "text/html");
            const items = [...fresh.querySelectorAll("#messages [data-message]")]
              .filter((item) => !document.getElementById(item.id));
            const height = document.documentElement.scrollHeight;
            list.prepend(...items.map((item) => document.adoptNode(item)));
            window.scrollBy(0, document.documentElement.scrollHeight - height); // stay put
            const next = fresh.querySelector("[data-earlier]");
            if (next && items.length) earlier.href = next.href;
            else { observer.disconnect(); earlier.remove(); }
          }, () => {})
          .finally(() => { loading = false; });
      };
      const observer = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadEarlier();
      });
      setTimeout(() => observer.observe(earlier), 500); // after the first scroll to the end
    }
    markRead();
    if (lastId()) list.lastElementChild.scrollIntoView({ block: "nearest" });
    document.addEventListener("visibilitychange", markRead);
  }
}
