// Search: the suggestions under the top bar's box (arrows and Escape), and a keyword
// watch's page kept live (new matches and messages appear as they are made).
"use strict";
{
  const box = document.getElementById("topsearch-q");
  const options = () => [...document.querySelectorAll("#search-suggestions .suggestion")];
  if (box) {
    box.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" && options().length) {
        event.preventDefault();
        options()[0].focus();
      } else if (event.key === "Escape") {
        document.getElementById("search-suggestions").replaceChildren();
      }
    });
    document.addEventListener("keydown", (event) => {
      const list = options();
      const at = list.indexOf(document.activeElement);
      if (at < 0) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const next = at + (event.key === "ArrowDown" ? 1 : -1);
        (next < 0 ? box : list[Math.min(next, list.length - 1)]).focus();
      } else if (event.key === "Escape") {
        box.focus();
        document.getElementById("search-suggestions").replaceChildren();
      }
    });
    document.addEventListener("click", (event) => {
      if (!event.target.closest(".topsearch")) {
        document.getElementById("search-suggestions").replaceChildren();
      }
    });
  }

  const page = document.querySelector("[data-watch]");
  const events = window.Essaim && window.Essaim.events;
  if (page && events && window.htmx) {
    const watch = Number(page.dataset.watch);
    const refresh = (selector) =>
      window.htmx.ajax("GET", window.location.pathname, { target: selector, select: selector, swap: "outerHTML" });
    events.on("watch.matched", (data) => { if (data.watch === watch) refresh("#watch-matches"); });
    events.on("watch.commented", (data) => { if (data.watch === watch) refresh("#watch-comments"); });
    events.on("resync", () => { refresh("#watch-matches"); refresh("#watch-comments"); });
  }
}
