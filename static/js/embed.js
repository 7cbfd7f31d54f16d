// Gebyrportal inside a library's website. The one snippet (docs/embedding.md):
//
//   <div data-gebyrportal="https://gebyr.example.dk/lyngby" data-lang="da"></div>
//   <script src="https://gebyr.example.dk/static/js/embed.js" defer></script>
//
// Each element with data-gebyrportal gets an iframe of <address>/embed (or /embed/summary with
// data-view="summary"), in the CMS page's language (data-lang, else <html lang>), with the
// library's colours and font (data-color-primary, data-color-text, data-color-background:
// #rgb or #rrggbb; data-font-family: names, commas, spaces and hyphens), which the portal checks.
// The iframe is as tall as its content: the embedded page posts its height, and a message counts
// only when it comes from the portal's origin AND from this element's own iframe.
// No inline script or style is needed on the CMS page (its CSP needs script-src and frame-src
// for the portal's origin).
(function () {
  "use strict";
  var THEME = ["color-primary", "color-text", "color-background", "font-family"];
  var TITLES = { da: "Dine mellemværender med biblioteket", en: "Your debts to the library" };
  var SUMMARY_TITLES = { da: "Det skylder du biblioteket", en: "What you owe the library" };

  function language(element) {
    var wanted = (element.getAttribute("data-lang") || document.documentElement.lang || "da").toLowerCase();
    return wanted.slice(0, 2) === "en" ? "en" : "da";
  }

  function frameUrl(element, base) {
    var summary = element.getAttribute("data-view") === "summary";
    var url = new URL(base.pathname.replace(/\/+$/, "") + (summary ? "/embed/summary" : "/embed"), base.origin);
    url.searchParams.set("lang", language(element));
    // The page the borrower comes back to after signing in or paying (never its #fragment).
    url.searchParams.set("parent", window.location.href.split("#")[0]);
    THEME.forEach(function (name) {
      var value = element.getAttribute("data-" + name);
      if (value) {
        url.searchParams.set(name, value);
      }
    });
    return url;
  }

  function mount(element) {
    if (element.getAttribute("data-gebyrportal-mounted") === "true") {
      return;
    }
    var base;
    try {
      base = new URL(element.getAttribute("data-gebyrportal"), document.baseURI);
    } catch (e) {
      return;
    }
    if (base.protocol !== "https:" && base.protocol !== "http:") {
      return;
    }
    element.setAttribute("data-gebyrportal-mounted", "true");
    var summary = element.getAttribute("data-view") === "summary";
    var frame = document.createElement("iframe");
    var lang = language(element);
    frame.src = frameUrl(element, base).href;
    frame.title = element.getAttribute("data-title") || (summary ? SUMMARY_TITLES : TITLES)[lang];
    frame.className = "gebyrportal-frame";
    // Set through the CSSOM, which a strict style-src allows (a style attribute it would not).
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = summary ? "8rem" : "24rem";
    element.appendChild(frame);

    window.addEventListener("message", function (event) {
      if (event.origin !== base.origin || event.source !== frame.contentWindow) {
        return;
      }
      var data = event.data;
      if (!data || data.type !== "gebyrportal:height") {
        return;
      }
      var height = Number(data.height);
      if (!isFinite(height) || height <= 0 || height > 100000) {
        return;
      }
      frame.style.height = Math.ceil(height) + "px";
      element.setAttribute("data-gebyrportal-height", String(Math.ceil(height)));
    });

    // A CMS that switches its language without a new page (<html lang> changes): follow it.
    if (!element.getAttribute("data-lang") && typeof window.MutationObserver === "function") {
      new window.MutationObserver(function () {
        if (language(element) !== lang) {
          lang = language(element);
          frame.title = element.getAttribute("data-title") || (summary ? SUMMARY_TITLES : TITLES)[lang];
          frame.src = frameUrl(element, base).href;
        }
      }).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
    }
  }

  function mountAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-gebyrportal]"), mount);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
