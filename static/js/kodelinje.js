// Copy buttons for the code line's fields (templates/components/kodelinje.html).
// Progressive enhancement: the buttons stay hidden without a clipboard, and the values are plain
// text to select. No inline script (strict CSP), so this file is included from the overview layout.
(function () {
  "use strict";

  function announce(block, text) {
    var status = block.querySelector("[data-copy-status]");
    if (status) {
      // Emptied first, so a screen reader hears the same "Copied" again after a second copy.
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
  }

  function setUp(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    var block = button.closest("[data-kodelinje-block]");
    if (!target || !block) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        announce(block, button.getAttribute("data-copied-text"));
      }, function () {
        // No permission: select the value so the citizen can copy it by hand.
        var range = document.createRange();
        range.selectNodeContents(target);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // The clipboard API exists only on secure pages (https, localhost).
    if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), setUp);
  });
})();
