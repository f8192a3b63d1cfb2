// Copy buttons: a <button data-copy="#id"> copies the text of the element it names,
// or its value when it is an input, and says so for a moment. Without this script the
// button stays hidden and the text can be selected by hand. Buttons in a part of the
// page that live.js redraws are bound again after each redraw.
(function () {
  "use strict";
  if (!navigator.clipboard) return;

  function bind(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (btn) {
      var sel = btn.getAttribute("data-copy");
      if (!document.querySelector(sel) || btn.hasAttribute("data-copy-bound")) return;
      btn.setAttribute("data-copy-bound", "");
      btn.hidden = false;
      var label = btn.textContent;
      btn.addEventListener("click", function () {
        var target = document.querySelector(sel);
        if (!target) return;
        var text = "value" in target && target.value !== undefined ? target.value : target.textContent;
        navigator.clipboard.writeText(text.trim()).then(function () {
          btn.textContent = btn.getAttribute("data-copied") || label;
          setTimeout(function () { btn.textContent = label; }, 1500);
        });
      });
    });
  }

  bind(document);
  document.addEventListener("live:updated", function (e) { bind(e.target); });
})();
