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

// Push on this device: register the service worker, subscribe with the server's VAPID
// key, and hand the subscription to the server.
{
  const button = document.querySelector("[data-push-subscribe]");
  const status = document.querySelector("[data-push-status]");
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  async function subscribe() {
    const key = await (await fetch(button.dataset.pushSubscribe, { credentials: "same-origin" })).json();
    const registration = await navigator.serviceWorker.register("/sw.js");
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: key.public_key,
    });
    const saved = await fetch(button.dataset.pushSave, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(subscription.toJSON()),
    });
    if (!saved.ok) throw new Error(String(saved.status));
    location.reload();
  }

  if (button && "serviceWorker" in navigator && "PushManager" in window) {
    button.hidden = false;
    button.addEventListener("click", () => {
      button.disabled = true;
      subscribe().catch((error) => {
        button.disabled = false;
        status.textContent = button.dataset.failed || String(error);
      });
    });
  }
}
