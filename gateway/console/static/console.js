// pitlane console: progressive enhancement. Pages work without this file; with it, forms marked
// data-console-form answer in place, and a region marked data-live refreshes itself when the
// change feed says a branch it shows moved on (polled every 2 s, at most one refresh at a time).
// A region someone is working in (typing, choosing, just answered) waits until it has been left
// alone for QUIET_MS: a refresh never wipes a half-filled form or a refusal being read.
(function () {
  "use strict";
  var POLL_MS = 2000, QUIET_MS = 8000;
  var touched = 0;

  function quiet() { return Date.now() - touched > QUIET_MS; }

  ["input", "change", "focusin", "pointerdown", "keydown"].forEach(function (kind) {
    document.addEventListener(kind, function (event) {
      if (live && live.contains(event.target)) touched = Date.now();
    }, true);
  });

  function enhanceForms(root) {
    root.querySelectorAll("form[data-console-form]").forEach(function (form) {
      if (form.dataset.enhanced) return;
      form.dataset.enhanced = "1";
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var refusal = form.querySelector(".refusal");
        var button = form.querySelector("button[type=submit]");
        if (button) button.disabled = true;
        fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-Console": "fetch" },
                             credentials: "same-origin" })
          .then(function (response) { return response.json().then(function (body) { return [response, body]; }); })
          .then(function (pair) {
            var response = pair[0], body = pair[1];
            if (!response.ok) {
              var text = body.error + (body.reasons && body.reasons.length ? ": " + body.reasons.join("; ") : "");
              if (refusal) { refusal.textContent = text; refusal.hidden = false; } else { say(text, "error"); }
              touched = Date.now();  // the refusal stays until it has been read
              var key = form.querySelector("input[name=key]");
              if (key) key.value = newKey();  // a refused action may be tried again as a new one
              return;
            }
            if (refusal) refusal.hidden = true;
            if (body.said) say(body.said, "ok");
            if (form.dataset.consoleForm === "reload") { window.location.reload(); return; }
            touched = 0;
            refresh(true);
          })
          .catch(function () { say("no answer from the server; try again", "error"); })
          .finally(function () { if (button) button.disabled = false; });
      });
    });
  }

  function newKey() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  function say(text, kind) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var p = document.createElement("p");
    p.className = "flash " + kind;
    p.textContent = text;
    flash.replaceChildren(p);
  }

  var live = null, seen = 0, busy = false;

  function refresh(asked, stamp) {
    if (!live || busy) return;
    busy = true;
    var started = Date.now();
    fetch(live.dataset.live, { headers: { "X-Console": "fragment" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        // someone started working in the region while this was on its way: theirs wins, and the
        // next poll brings the change once they have left it alone (`seen` has not moved)
        if (!asked && touched >= started) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live");
        if (!fresh) return;
        var focused = document.activeElement && document.activeElement.id;
        live.innerHTML = fresh.innerHTML;
        seen = Math.max(seen, stamp || 0, parseFloat(fresh.dataset.stamp || "0"));
        live.dataset.refreshedAt = String(Date.now());
        enhanceForms(live);
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      })
      .finally(function () { busy = false; });
  }

  function poll() {
    fetch(live.dataset.changes, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.stamp > seen && quiet()) refresh(false, body.stamp);
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, POLL_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceForms(document);
    live = document.getElementById("live");
    if (live && live.dataset.changes) {
      seen = parseFloat(live.dataset.stamp || "0");
      setTimeout(poll, POLL_MS);
    }
  });
})();
