// The ask page: questions like the one being typed appear under its title, so that the
// asker finds an answer before asking again. The list is a fragment rendered by the server
// (knowledge/similar.html), which decides what the asker may see.
(function () {
  "use strict";
  const form = document.querySelector("form[data-similar]");
  if (!form) return;
  const title = form.querySelector("#question-title");
  const target = document.getElementById("similar-questions");
  let timer = null;
  let asked = "";

  async function look() {
    const text = title.value.trim();
    if (text === asked) return;
    asked = text;
    if (text.length < 4) {
      target.replaceChildren();
      return;
    }
    const url = form.dataset.similar + "?q=" + encodeURIComponent(text);
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.ok && asked === text) target.innerHTML = await response.text();
  }

  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(look, 250);
  });
})();
