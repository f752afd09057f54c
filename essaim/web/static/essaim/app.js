// Essaim's small enhancements. Every page works without them.
"use strict";

// Language switcher: a choice made with the mouse or a finger is sent at once. Keyboard
// users confirm with the button, so that arrowing through the options does not reload
// the page under them.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  let byKeyboard = false;
  select.addEventListener("keydown", () => { byKeyboard = true; });
  select.addEventListener("pointerdown", () => { byKeyboard = false; });
  select.addEventListener("change", () => {
    if (!byKeyboard && select.form) select.form.requestSubmit();
  });
}

// User menu (a <details>): Escape or a click elsewhere closes it.
for (const menu of document.querySelectorAll("details.usermenu")) {
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
}

// Copy buttons: data-copy names the input whose value is copied.
if (navigator.clipboard) {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      const input = document.getElementById(button.dataset.copy);
      navigator.clipboard.writeText(input.value).then(() => {
        button.textContent = button.dataset.copiedLabel || button.textContent;
      }, () => input.select());
    });
  }
}

// On a phone the sections scroll sideways: bring the current one into view.
const currentSection = document.querySelector(".mainnav [aria-current='page']");
if (currentSection) currentSection.scrollIntoView({ block: "nearest", inline: "center" });

// Panels that stay open on wide screens and fold away on phones (directory filters),
// also after htmx replaced them.
const wide = window.matchMedia("(min-width: 60rem)");
function openOnWide(root) {
  if (!wide.matches) return;
  for (const panel of root.querySelectorAll("details[data-open-on-wide]")) panel.open = true;
}
openOnWide(document);
document.body.addEventListener("htmx:afterSwap", () => openOnWide(document));
