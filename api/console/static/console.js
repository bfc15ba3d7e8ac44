// scimgate console: the little behaviour plain HTML cannot give.
// Loaded from /ui/static (the CSP allows no inline script).
"use strict";

document.addEventListener("click", (ev) => {
  // A "Copy" button copies the text of the element its data-copy names.
  const copy = ev.target.closest("button[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copy);
    if (!source) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(
      () => announce(copy, "Copied"),
      () => announce(copy, "Copy failed: select the text and copy it by hand"));
    return;
  }
  // A button with data-confirm asks before its form is sent.
  const confirmed = ev.target.closest("button[data-confirm]");
  if (confirmed && !window.confirm(confirmed.dataset.confirm)) {
    ev.preventDefault();
  }
});

// announce tells screen readers (and everyone) what a button did, in the
// live region next to it.
function announce(button, text) {
  let region = button.parentElement.querySelector("[data-announce]");
  if (!region) {
    region = document.createElement("span");
    region.setAttribute("data-announce", "");
    region.setAttribute("role", "status");
    button.after(region);
  }
  region.textContent = text;
}
