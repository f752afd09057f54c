// Essaim's service worker: shows the push notifications the server sends (already
// worded in the person's language, confidential ones without content) and opens the
// place a tap leads to, in a tab of Essaim when one is open.
"use strict";

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = {}; }
  const title = data.title || "Essaim";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag,
    data: { url: data.url || "/notifications/" },
    icon: "/static/essaim/icon.svg",
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url, self.location.origin);
  if (url.origin !== self.location.origin) return; // only Essaim's own pages
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const tab of tabs) {
      if (new URL(tab.url).origin === url.origin && "navigate" in tab) {
        await tab.focus();
        return tab.navigate(url.href);
      }
    }
    return self.clients.openWindow(url.href);
  })());
});
