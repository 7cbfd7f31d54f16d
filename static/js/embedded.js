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
