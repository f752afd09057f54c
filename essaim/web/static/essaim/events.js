// Essaim's event stream: one WebSocket to /ws/ per page that asks for it (an element with
// data-events-from="<stream position the page was rendered at>"), kept open across
// network drops, and the events handed to the page.
//
//   Essaim.events.on(type, handler)  handler(data, frame) for each frame of that type
//                                    ("community.member_joined", "typing", "resync", "*"
//                                    for all); returns a function that unsubscribes
//   Essaim.events.send(frame)        send a JSON frame now; false when not connected
//   Essaim.events.state              "idle" | "connecting" | "open" | "retrying" | "stopped",
//                                    mirrored in data-events-state for CSS and tests
//
// A "resync" frame means events were lost for this page: its handlers fetch their state
// again; the stream then continues from the position it names.
// A classic deferred script in a block of its own: app.js's top-level names stay apart.
"use strict";
{
  const FIRST_DELAY = 500; // ms; doubles after each failed attempt …
  const MAX_DELAY = 30000; // … up to this
  const STAYED_UP = 10000; // ms open before the delays start again from FIRST_DELAY
  const CREDENTIALS_DIED = 4401; // the session ended: reconnecting cannot help

  const root = document.querySelector("[data-events-from]");
  const handlers = new Map();
  let socket = null;
  let lastId = 0;
  let failures = 0;
  let timer = 0;

  const api = {
    state: "idle",
    on(type, handler) {
      if (!handlers.has(type)) handlers.set(type, new Set());
      handlers.get(type).add(handler);
      return () => handlers.get(type).delete(handler);
    },
    send(frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    },
  };
  window.Essaim = Object.assign(window.Essaim || {}, { events: api });

  function setState(state) {
    api.state = state;
    for (const element of document.querySelectorAll("[data-events-from]")) {
      element.dataset.eventsState = state;
    }
  }

  function dispatch(frame) {
    for (const type of [frame.type, "*"]) {
      for (const handler of handlers.get(type) || []) {
        // One broken handler must not starve the others.
        try { handler(frame.data || {}, frame); } catch (error) { console.error(error); }
      }
    }
  }

  function receive(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "resync") {
      lastId = Number(frame.data && frame.data.last_event_id) || 0;
    } else if (typeof frame.id === "number") {
      // A stored event already seen (sent again around a reconnection) is dropped.
      if (frame.id <= lastId) return;
      lastId = frame.id;
    } else if (frame.type === "error") {
      console.warn("Essaim events:", frame.data && frame.data.message);
    }
    dispatch(frame);
  }

  function connect() {
    clearTimeout(timer);
    timer = 0;
    if (api.state !== "retrying") setState("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/`);
    let openedAt = 0;
    socket = ws;
    ws.addEventListener("open", () => {
      openedAt = Date.now();
      setState("open");
      ws.send(JSON.stringify({ type: "resume", last_event_id: lastId }));
      if (document.hidden) api.send({ type: "presence", away: true });
    });
    ws.addEventListener("message", (message) => receive(message.data));
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      if (event.code === CREDENTIALS_DIED) return setState("stopped");
      if (openedAt && Date.now() - openedAt >= STAYED_UP) failures = 0;
      retry();
    });
  }

  function retry() {
    // Exponential backoff with jitter, so that a restarted server is not hit by every
    // page at the same instant.
    const delay = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** failures);
    failures += 1;
    setState("retrying");
    timer = setTimeout(connect, delay / 2 + (Math.random() * delay) / 2);
  }

  if (root) {
    // Several parts of a page may ask for events (the page, the notification badge):
    // the stream starts at the earliest position any of them was rendered at.
    const positions = [...document.querySelectorAll("[data-events-from]")].map(
      (element) => Number(element.dataset.eventsFrom) || 0,
    );
    lastId = Math.min(...positions);
    // A page in a hidden tab shows its person away (unless another tab is in view).
    document.addEventListener("visibilitychange", () => {
      api.send({ type: "presence", away: document.hidden });
    });
    // Back online: no need to wait for the rest of the delay.
    window.addEventListener("online", () => { if (timer) connect(); });
    // The other deferred scripts subscribe first: connect once they all ran.
    document.addEventListener("DOMContentLoaded", connect);
  }
}

// The home page's live activity panel: what happens in the person's communities, newest
// first. Its data-live-panel holds JSON: the person, their communities, the texts.
{
  const panel = document.querySelector("[data-live-panel]");
  const KEEP = 20; // items shown

  if (panel) {
    const list = panel.querySelector(".live-list");
    const read = (page) => JSON.parse(page.querySelector("[data-live-panel]").dataset.livePanel);
    const { me, texts } = read(document);
    let { communities } = read(document); // id → {name, url}
    const lang = document.documentElement.lang || "en";
    const plural = new Intl.PluralRules(lang);

    // The panel's state, fetched again from the page: after a resync, or when the
    // communities changed in a way the event alone does not tell (joined one elsewhere).
    const refresh = () =>
      fetch(location.pathname, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
        .then((html) => {
          communities = read(new DOMParser().parseFromString(html, "text/html")).communities;
        })
        .catch(() => {}); // kept as it was; the next event or resync tries again

    // "%(name)s joined %(community)s" with the values as text or nodes: no HTML parsing.
    function fill(template, values) {
      const out = document.createDocumentFragment();
      const parts = template.split(/%\((\w+)\)s/); // odd indexes: the placeholders' names
      parts.forEach((part, i) => out.append(i % 2 ? values[part] ?? "" : part));
      return out;
    }

    // "%(counter)s member(s)": the page gives both forms, the number's plural rule picks.
    function members(count) {
      const form = plural.select(count) === "one" ? texts.one : texts.other;
      return form.replace("%(counter)s", count.toLocaleString(lang));
    }

    // A new item on top: the template filled with the community's link and the person's
    // name, then an optional detail ("3 members").
    function show(template, data, detail) {
      const link = document.createElement("a");
      link.href = communities[data.community].url;
      link.textContent = communities[data.community].name;
      const name = document.createElement("strong");
      name.textContent = data.name || "";
      const item = document.createElement("li");
      item.className = "live-item";
      const text = document.createElement("span");
      text.append(fill(template, { name, community: link }));
      item.append(text);
      if (detail) {
        const meta = document.createElement("span");
        meta.className = "live-meta";
        meta.textContent = detail;
        item.append(" ", meta);
      }
      list.prepend(item);
      while (list.children.length > KEEP) list.lastElementChild.remove();
    }

    function membership(template, joined) {
      return (data) => {
        const mine = data.user === me;
        // Joined one elsewhere: learn its name first.
        const unknown = !communities[data.community];
        const ready = mine && joined && unknown ? refresh() : Promise.resolve();
        ready.then(() => {
          if (!communities[data.community]) return; // not one of the person's communities
          show(template, data, Number.isInteger(data.members) ? members(data.members) : "");
          if (mine && !joined) delete communities[data.community];
        });
      };
    }

    const events = window.Essaim.events;
    events.on("community.member_joined", membership(texts.joined, true));
    events.on("community.member_left", membership(texts.left, false));
    events.on("community.updated", (data) => {
      if (!communities[data.community]) return;
      communities[data.community].name = data.name; // its name here is the new one
      show(data.archived ? texts.archived : texts.updated, { community: data.community });
    });
    events.on("resync", refresh);
    panel.hidden = false; // without JavaScript it would never fill: it stays hidden
  }
}

// A community's member count (data-live-count="<community id>", data-forms: the two plural
// forms of "%(counter)s members") follows joins and leaves.
{
  const count = document.querySelector("[data-live-count]");
  if (count) {
    const [one, other] = JSON.parse(count.dataset.forms);
    const lang = document.documentElement.lang || "en";
    const plural = new Intl.PluralRules(lang);
    const update = (data) => {
      if (String(data.community) !== count.dataset.liveCount) return;
      const form = plural.select(data.members) === "one" ? one : other;
      count.textContent = form.replace("%(counter)s", data.members.toLocaleString(lang));
    };
    window.Essaim.events.on("community.member_joined", update);
    window.Essaim.events.on("community.member_left", update);
  }
}
