// scimgate console, source form: previews the schedule's next runs as it
// is typed (the "Preview" button does the same without JavaScript).
"use strict";

(() => {
  const input = document.getElementById("f-schedule");
  const region = document.getElementById("schedule-preview");
  if (!input || !region) return;
  let timer = 0;
  let asked = 0;

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  });

  async function update() {
    const ask = ++asked;
    const url = new URL(region.dataset.previewUrl, window.location.href);
    url.searchParams.set("schedule", input.value.trim());
    let answer;
    try {
      const res = await fetch(url, { headers: { "X-Console-Fetch": "1" }, credentials: "same-origin" });
      if (res.status === 401) {
        show([], "Your session has ended: sign in again to preview.");
        return;
      }
      if (!res.ok) return; // the Preview button still works
      answer = await res.json();
    } catch (_) {
      return;
    }
    if (ask !== asked) return; // a newer answer is on its way
    show(answer.next || [], answer.problem || "");
  }

  // show replaces the preview with the answer, built from text nodes.
  function show(next, problem) {
    region.replaceChildren();
    const p = document.createElement("p");
    if (problem) {
      p.className = "field-error";
      p.textContent = "Preview: " + problem;
      region.append(p);
      return;
    }
    if (next.length === 0) {
      p.textContent = "No scheduled runs: the source runs only when you press \"Run now\".";
      region.append(p);
      return;
    }
    p.textContent = "Next runs:";
    const list = document.createElement("ol");
    for (const when of next) {
      const li = document.createElement("li");
      li.textContent = when;
      list.append(li);
    }
    region.append(p, list);
  }
})();
