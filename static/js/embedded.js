// Inside the library's iframe (templates/embed/frame.html): tell the embedding page how tall
// this page is, so static/js/embed.js can size the iframe to it. Posted only to the origin the
// server put in data-embed-parent-origin (the CMS page's, checked against the library's
// embed_origins), never to "*": the height is harmless, but nothing is sent where it was not asked for.
(function () {
  "use strict";
  var target = document.documentElement.getAttribute("data-embed-parent-origin");
  if (!target || window.parent === window) {
    return;
  }
  var last = -1;

  function post() {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height === last) {
      return;
    }
    last = height;
    window.parent.postMessage({ type: "gebyrportal:height", height: height }, target);
  }

  function start() {
    post();
    // Whatever changes the content's height (fonts, details opened, the card total) resizes the body.
    if (typeof window.ResizeObserver === "function") {
      new window.ResizeObserver(post).observe(document.body);
    }
    window.addEventListener("load", post);
    // Back to this page from the page cache: the embedding page may hold another page's height.
    window.addEventListener("pageshow", function () {
      last = -1;
      post();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// Cross-site, in a browser that blocks third-party cookies (Safari, Firefox, Chrome so set), the
// session cookie is not sent to this iframe: the page shows "signed out" though the borrower signed
// in at the top level. The Storage Access API lets the borrower allow it
// (templates/embed/signed_out.html, docs/embedding.md): one click, then the page is loaded again
// with the cookie. Where the permission was given before, it is used at once, without a click.
(function () {
  "use strict";
  var box = document.querySelector("[data-storage-access]");
  if (!box || typeof document.hasStorageAccess !== "function" || typeof document.requestStorageAccess !== "function") {
    return;
  }
  var ask = box.querySelector("[data-storage-access-ask]");
  var refused = box.querySelector("[data-storage-access-refused]");
  // Set just before loading the page again: a browser that does not keep the access across that
  // load must not make it load again and again.
  var RELOADED = "gebyrportal:storage-access-reloaded";

  function takeReloaded() {
    try {
      var was = window.sessionStorage.getItem(RELOADED) === "1";
      window.sessionStorage.removeItem(RELOADED);
      return was;
    } catch (e) {
      return false;
    }
  }

  function reload() {
    try {
      window.sessionStorage.setItem(RELOADED, "1");
    } catch (e) {
      // No storage either: loaded again once all the same (the access itself was just granted).
    }
    window.location.reload();
  }

  function show() {
    // The summary's box has no button: it only takes an access allowed before.
    if (ask) {
      box.hidden = false;
    }
  }

  function grantedBefore() {
    try {
      return navigator.permissions.query({ name: "storage-access" }).then(function (status) {
        return status.state === "granted";
      });
    } catch (e) {
      return Promise.resolve(false); // no Permissions API, or it does not know this permission
    }
  }

  var reloaded = takeReloaded();
  if (ask) {
    ask.addEventListener("click", function () {
      document.requestStorageAccess().then(reload, function () {
        refused.textContent = refused.getAttribute("data-storage-access-refused");
      });
    });
  }
  document.hasStorageAccess().then(function (has) {
    if (has) {
      return; // the cookie could be sent: signed out indeed
    }
    if (reloaded) {
      show();
      return;
    }
    grantedBefore().then(
      function (granted) {
        if (granted) {
          document.requestStorageAccess().then(reload, show);
        } else {
          show();
        }
      },
      show
    );
  }, show);
})();
