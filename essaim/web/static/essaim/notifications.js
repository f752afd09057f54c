// The notification badge of every page, and the notification centre's list, kept live:
// an event says something changed, the server says what (it counts only what the person
// may still see).
"use strict";
{
  const link = document.querySelector("[data-notification-badge]");
  const list = document.querySelector("[data-notification-list]");
  const events = window.Essaim && window.Essaim.events;

  function refreshBadge() {
    fetch(link.dataset.notificationBadge, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(({ unread }) => {
        const badge = link.querySelector(".nav-count");
        badge.querySelector("[data-count]").textContent = unread.toLocaleString();
        badge.hidden = unread === 0;
        link.dataset.unread = unread;
      })
      .catch(() => {}); // kept as it was; the next event tries again
  }

  function refreshList() {
    fetch(list.dataset.notificationList, {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => { list.innerHTML = html; })
      .catch(() => {});
  }

  function changed() {
    if (link) refreshBadge();
    if (list) refreshList();
  }

  if (events && (link || list)) {
    for (const type of ["notification", "notification.read", "resync"]) events.on(type, changed);
  }
}
