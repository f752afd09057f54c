// Mentions as you type: in a textarea with data-mentions, "@" and two letters or more
// propose people from the directory (GET /api/v1/people, which shows only whom the
// writer may see); choosing one writes @**Name|id**, which the server resolves again.
"use strict";
{
  const WORD = /(?:^|\s)@([\p{L}\p{N}._'-]{2,40})$/u;
  let counter = 0;

  function attach(area) {
    const list = document.createElement("ul");
    list.className = "mention-list";
    list.id = `mentions-${++counter}`;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", area.dataset.mentions || "People");
    list.hidden = true;
    area.after(list);
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", list.id);
    let people = [];
    let active = -1;
    let timer = 0;
    let asked = "";

    function close() {
      list.hidden = true;
      people = [];
      active = -1;
      area.removeAttribute("aria-activedescendant");
    }

    function show(found) {
      people = found;
      list.replaceChildren(...found.map((person, index) => {
        const item = document.createElement("li");
        item.id = `${list.id}-${index}`;
        item.setAttribute("role", "option");
        item.textContent = person.display_name;
        if (person.job_title) {
          const title = document.createElement("span");
          title.className = "muted small";
          title.textContent = ` · ${person.job_title}`;
          item.append(title);
        }
        item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(index); });
        return item;
      }));
      list.hidden = found.length === 0;
      move(found.length ? 0 : -1);
    }

    function move(index) {
      active = index;
      for (const [i, item] of [...list.children].entries()) {
        item.setAttribute("aria-selected", String(i === index));
      }
      if (index >= 0) area.setAttribute("aria-activedescendant", `${list.id}-${index}`);
    }

    function choose(index) {
      const person = people[index];
      const before = area.value.slice(0, area.selectionStart);
      const found = before.match(WORD);
      if (!person || !found) return close();
      const name = person.display_name.replace(/[*|]/g, " ");
      const start = before.length - found[1].length - 1;
      const inserted = `@**${name}|${person.id}** `;
      area.value = area.value.slice(0, start) + inserted + area.value.slice(area.selectionStart);
      area.selectionStart = area.selectionEnd = start + inserted.length;
      close();
      area.focus();
    }

    area.addEventListener("input", () => {
      const found = area.value.slice(0, area.selectionStart).match(WORD);
      clearTimeout(timer);
      if (!found) return close();
      asked = found[1];
      timer = setTimeout(() => {
        const query = asked;
        fetch(`/api/v1/people?page_size=6&q=${encodeURIComponent(query)}`, { credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : { results: [] }))
          .then((page) => { if (query === asked) show(page.results || []); }, close);
      }, 150);
    });
    area.addEventListener("keydown", (event) => {
      if (list.hidden) return;
      if (event.key === "ArrowDown") move((active + 1) % people.length);
      else if (event.key === "ArrowUp") move((active - 1 + people.length) % people.length);
      else if (event.key === "Enter" || event.key === "Tab") choose(active);
      else if (event.key === "Escape") close();
      else return;
      event.preventDefault();
    });
    area.addEventListener("blur", () => setTimeout(close, 100));
  }

  for (const area of document.querySelectorAll("textarea[data-mentions]")) attach(area);
  document.body.addEventListener("htmx:afterSwap", (event) => {
    for (const area of event.target.querySelectorAll("textarea[data-mentions]:not([aria-controls])")) attach(area);
  });
}
