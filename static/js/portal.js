// Start DKFDS's components. Everything on the page also works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  if (window.DKFDS && typeof window.DKFDS.init === "function") {
    window.DKFDS.init();
  }
});

// Card payment: small improvements on pages that work without them (strict CSP: no inline script).
(function () {
  "use strict";

  // The server's format (portal.i18n.money): "1.234,50 kr." in Danish, "DKK 1,234.50" in English.
  // Amounts are whole øre (integers), so no floating-point sum can be off by an øre.
  function formatOre(ore, language) {
    var kroner = Math.floor(ore / 100).toString();
    var rest = String(ore % 100).padStart(2, "0");
    var english = language === "en";
    var grouped = kroner.replace(/\B(?=(\d{3})+(?!\d))/g, english ? "," : ".");
    return english ? "DKK\u00a0" + grouped + "." + rest : grouped + "," + rest + "\u00a0kr.";
  }

  // "Betal med kort": the total follows the ticked fees; no fee ticked, no payment.
  function cardForm(form) {
    var total = form.querySelector("[data-card-total]");
    var submit = form.querySelector("[data-card-submit]");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][data-amount-ore]"));
    var language = document.documentElement.lang;
    function update() {
      var sum = 0;
      var chosen = 0;
      boxes.forEach(function (box) {
        if (box.checked) {
          sum += parseInt(box.getAttribute("data-amount-ore"), 10);
          chosen += 1;
        }
      });
      if (total) {
        total.textContent = formatOre(sum, language);
      }
      if (submit) {
        submit.disabled = chosen === 0;
      }
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", update);
    });
    // A second click sends nothing new (the server would answer with the same checkout anyway).
    form.addEventListener("submit", function () {
      if (submit) {
        window.setTimeout(function () { submit.disabled = true; }, 0);
      }
    });
    // Back from the payment window (page cache): the button works again.
    window.addEventListener("pageshow", update);
    update();
  }

  // The order page: ask for the state now and then; reload once it changed, to show the news.
  function pollOrder(element) {
    var url = element.getAttribute("data-poll-url");
    var state = element.getAttribute("data-order-state");
    var delay = 2000;
    function next() {
      delay = Math.min(Math.round(delay * 1.5), 30000);
      window.setTimeout(ask, delay);
    }
    function ask() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && data.state !== state) {
            window.location.reload();
          } else {
            next();
          }
        })
        .catch(next);
    }
    window.setTimeout(ask, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-card-payment]"), cardForm);
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll-url]"), pollOrder);
    // "Print" on the receipt and "Print or save as PDF" on the citizen's page: the print
    // stylesheet (portal.css) turns the page into a dated statement without navigation or forms.
    Array.prototype.forEach.call(document.querySelectorAll("button[data-print]"), function (button) {
      button.hidden = false; // useless without JavaScript, so shown only with it
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
