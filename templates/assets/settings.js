// The settings page's live preview: as the owner types a message text, the server
// renders it for a sample order (POST to the form's data-preview-url) and the page
// shows the result, or why the text would be refused, under the box. "Preview" asks at
// once and "Reset to default" puts the built-in text back. Without this script both
// buttons post the form, and the page comes back showing the same.
(function () {
  "use strict";
  var form = document.getElementById("settings-form");
  if (!form || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var url = form.getAttribute("data-preview-url");
  var locale = form.elements.namedItem("tl").value;
  var failedNote = document.querySelector("[data-preview-failed]");
  var timers = {};
  var latest = {};

  function show(kind, text, buttons, error) {
    var section = document.getElementById("p-" + kind);
    if (!section) {
      return;
    }
    section.hidden = false;
    section.querySelector("[data-preview-text]").textContent = text;
    var row = section.querySelector("[data-preview-buttons]");
    row.textContent = "";
    buttons.forEach(function (label) {
      var pill = document.createElement("span");
      pill.className = "pill";
      pill.textContent = label;
      row.appendChild(pill);
      row.appendChild(document.createTextNode(" "));
    });
    section.querySelector("[data-preview-error]").textContent = error;
    var box = document.getElementById("t-" + kind);
    if (box) {
      if (error) {
        box.setAttribute("aria-invalid", "true");
      } else {
        box.removeAttribute("aria-invalid");
      }
    }
  }

  function preview(kind) {
    clearTimeout(timers[kind]);
    var box = document.getElementById("t-" + kind);
    if (!box) {
      return;
    }
    // Answers may arrive out of order; only the one for the latest text is shown.
    var n = (latest[kind] || 0) + 1;
    latest[kind] = n;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams({ locale: locale, kind: kind, text: box.value })
    }).then(function (res) {
      return res.json();
    }).then(function (answer) {
      if (latest[kind] !== n) {
        return;
      }
      if (answer.error) {
        show(kind, "", [], answer.error.message || "");
      } else {
        show(kind, answer.text || "", answer.buttons || [], "");
      }
    }).catch(function () {
      if (latest[kind] === n) {
        show(kind, "", [], failedNote ? failedNote.textContent : "");
      }
    });
  }

  form.addEventListener("input", function (e) {
    var kind = e.target.getAttribute && e.target.getAttribute("data-kind");
    if (!kind) {
      return;
    }
    clearTimeout(timers[kind]);
    timers[kind] = setTimeout(function () { preview(kind); }, 400);
  });

  form.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-preview], button[data-reset]");
    if (!button) {
      return;
    }
    e.preventDefault();
    var kind = button.getAttribute("data-preview") || button.getAttribute("data-reset");
    if (button.hasAttribute("data-reset")) {
      var box = document.getElementById("t-" + kind);
      var def = document.getElementById("d-" + kind);
      if (box && def) {
        box.value = def.textContent;
        box.focus();
      }
    }
    preview(kind);
  });
}());
