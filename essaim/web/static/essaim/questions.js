// Questions live. On the ask page, questions like the one being typed appear under its
// title, with the people who may know the answer, so that the asker finds one before
// asking again. On a question's page, the question and its answers follow the events (a
// new answer, a vote, an acceptance): events carry ids, never text, so the page is fetched
// again and access.py decides once more. The server renders every list it shows.
"use strict";
{
  const form = document.querySelector("form[data-similar]");
  if (form) {
    const title = form.querySelector("#question-title");
    const tags = form.querySelector("#question-tags");
    const target = document.getElementById("similar-questions");
    let timer = 0;
    let asked = "";

    const look = async () => {
      const text = title.value.trim();
      const query = `q=${encodeURIComponent(text)}&tags=${encodeURIComponent(tags.value)}`;
      if (query === asked) return;
      asked = query;
      if (text.length < 4) {
        target.replaceChildren();
        return;
      }
      const response = await fetch(`${form.dataset.similar}?${query}`, { credentials: "same-origin" });
      if (response.ok && asked === query) target.innerHTML = await response.text();
    };

    for (const field of [title, tags]) {
      field.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(look, 250);
      });
    }
  }

  const page = document.querySelector("[data-question-page]");
  const events = window.Essaim && window.Essaim.events;
  if (page && events) {
    const questionId = Number(page.dataset.questionPage);
    const DELAY = 300; // ms: a burst of votes costs one fetch
    let pending = 0;

    // Not while the person writes a comment inside the answers: they would lose it.
    const busy = () => {
      const answers = document.getElementById("answers");
      const active = document.activeElement;
      return answers && active && answers.contains(active) && active.value;
    };

    const refresh = () => {
      if (pending) return;
      pending = setTimeout(function run() {
        if (busy()) {
          pending = setTimeout(run, 2000);
          return;
        }
        pending = 0;
        fetch(location.pathname, { credentials: "same-origin" })
          .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
          .then((html) => {
            const fresh = new DOMParser().parseFromString(html, "text/html");
            for (const id of ["question-head", "answers"]) {
              const old = document.getElementById(id);
              const replacement = fresh.getElementById(id);
              if (old && replacement) old.replaceWith(replacement);
            }
          }, () => {});
      }, DELAY);
    };

    const types = ["question.updated", "question.accepted", "answer.created", "answer.updated",
      "answer.deleted", "answer.voted", "answer.commented", "answer.comment_deleted"];
    for (const type of types) {
      events.on(type, (data) => {
        if (data.question === questionId) refresh();
      });
    }
    events.on("resync", refresh);
  }
}
