// The editor form's live preview: each text is rendered by the server while the editor types.
// Progressive enhancement: the page already shows a preview of every text as loaded; this keeps it
// up to date. The server renders with the citizen page's own renderer, so the preview cannot differ
// from what citizens get; the answer is sanitised HTML from the portal itself (strict CSP, no inline script).
(function () {
  "use strict";

  var DELAY_MS = 300; // after the editor pauses typing: one request per pause, not per key

  function start(form) {
    var url = form.getAttribute("data-preview-url");
    var token = form.querySelector("input[name=csrf_token]");
    if (!url || !token || !window.fetch) {
      return;
    }
    Array.prototype.forEach.call(form.querySelectorAll("[data-preview-field]"), function (preview) {
      var source = document.getElementById(preview.getAttribute("data-preview-source"));
      var body = preview.querySelector("[data-preview-body]");
      if (!source || !body) {
        return;
      }
      var timer = null;
      var latest = 0;
      function refresh() {
        var asked = ++latest;
        var data = new URLSearchParams();
        data.append("csrf_token", token.value);
        data.append("field", preview.getAttribute("data-preview-field"));
        data.append("text", source.value);
        fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            return response.ok ? response.json() : null;
          })
          .then(function (answer) {
            // An older answer arriving late must not replace a newer one.
            if (answer && asked === latest && typeof answer.html === "string") {
              body.innerHTML = answer.html;
            }
          })
          .catch(function () {
            // Offline or signed out: the preview stays as it was; saving still works.
          });
      }
      source.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(refresh, DELAY_MS);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-preview-url]"), start);
  });
})();
