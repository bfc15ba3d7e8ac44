// scimgate console, run pages: follow a queued or running run live.
//
// Polling rather than Server-Sent Events: each poll is an ordinary
// request, so the session check, the token's revocation and its rate
// limit apply to it as to any page, nothing holds a connection open
// against the server's timeouts or a proxy's buffering, and a run's
// counts change only once per written batch, so a look every two seconds
// misses nothing a person would notice.
"use strict";

(() => {
  const box = document.querySelector("[data-run-progress]");
  if (!box) return;
  const url = box.dataset.runProgress;
  const status = document.querySelector("[data-run-status]");
  const durationEl = document.querySelector("[data-run-duration]");
  const every = 2000;
  let failures = 0;

  function say(text) {
    // The status element is aria-live: a screen reader hears this once.
    status.textContent = text;
  }

  function apply(p) {
    status.textContent = p.statusWord;
    status.className = "run-status " + p.status;
    if (durationEl && p.duration) durationEl.textContent = p.duration;
    for (const [key, value] of Object.entries(p.counts || {})) {
      const cell = document.querySelector('[data-count="' + key + '"]');
      if (cell && cell.textContent !== String(value)) cell.textContent = String(value);
    }
  }

  async function poll() {
    let res;
    try {
      res = await fetch(url, { headers: { "X-Console-Fetch": "1" }, credentials: "same-origin", cache: "no-store" });
    } catch {
      return retry();
    }
    if (res.status === 401) {
      // "busy" is the token's request rate, for a moment; anything else
      // ended the session.
      const why = await res.json().catch(() => ({}));
      if (why.error === "busy") return retry();
      say("Your session has ended: sign in again to follow this run.");
      return;
    }
    if (!res.ok) return retry();
    const p = await res.json();
    failures = 0;
    apply(p);
    if (p.live) {
      setTimeout(poll, every);
      return;
    }
    // Finished: the page's change log, notes, error and decision buttons
    // come with the server's rendering, once.
    window.location.reload();
  }

  function retry() {
    failures++;
    if (failures >= 5) {
      say("Lost contact with the server: use Refresh to see where the run is.");
      return;
    }
    setTimeout(poll, every * failures);
  }

  setTimeout(poll, every);
})();
