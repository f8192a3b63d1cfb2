// chatpay's web chat widget. A shop adds one tag to its own site:
//
//   <script src="https://chatpay.example/widget.js" data-shop="shop1" async></script>
//
// and gets a chat button in the corner that opens its web chat in a frame. The frame
// is chatpay's page, on chatpay's origin: the conversation, its address and its
// messages stay there. This script reads nothing of the page, stores nothing, sends
// nothing anywhere, and adds no inline style or markup, so it runs under a strict
// Content-Security-Policy that allows chatpay's origin in script-src and frame-src.
// Optional: data-lang (en, vi, th or fa) for the button's words, which otherwise
// follow the page's language.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var shop = script.getAttribute("data-shop") || "";
  if (!/^[a-z0-9-]{1,64}$/.test(shop) || document.querySelector("[data-chatpay-widget]")) {
    return; // no shop named, or the tag is on the page twice
  }
  var origin = new URL(script.src, location.href).origin;

  var words = {
    en: { open: "Chat with us", close: "Close chat" },
    vi: { open: "Nhắn tin với chúng tôi", close: "Đóng khung chat" },
    th: { open: "แชทกับเรา", close: "ปิดแชท" },
    fa: { open: "گفتگو با ما", close: "بستن گفتگو" },
  };
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "en")
    .slice(0, 2)
    .toLowerCase();
  var say = words[lang] || words.en;
  var rtl = lang === "fa";
  var accent = "#0b57d0";

  // Styles go through the CSSOM, which a page's style-src does not restrict, and live
  // in a closed shadow root, where the page's own style sheets do not reach.
  function css(el, rules) {
    for (var k in rules) {
      el.style.setProperty(k, rules[k]);
    }
    return el;
  }

  var host = document.createElement("div");
  host.setAttribute("data-chatpay-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "closed" }) : host;

  var button = css(document.createElement("button"), {
    position: "fixed",
    bottom: "20px",
    "inset-inline-end": "20px",
    "z-index": "2147483000",
    display: "flex",
    "align-items": "center",
    gap: "8px",
    "min-height": "52px",
    padding: "0 20px",
    border: "0",
    "border-radius": "26px",
    background: accent,
    color: "#fff",
    font: "600 16px/1.2 system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif",
    "box-shadow": "0 4px 14px rgba(0,0,0,.25)",
    cursor: "pointer",
  });
  button.type = "button";
  button.dir = rtl ? "rtl" : "ltr";
  button.setAttribute("aria-expanded", "false");
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "22");
  svg.setAttribute("height", "22");
  svg.setAttribute("aria-hidden", "true");
  var bubble = document.createElementNS("http://www.w3.org/2000/svg", "path");
  bubble.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  bubble.setAttribute("fill", "currentColor");
  svg.appendChild(bubble);
  button.appendChild(svg);
  button.appendChild(document.createTextNode(say.open));

  var panel = css(document.createElement("div"), {
    position: "fixed",
    "z-index": "2147483001",
    display: "none",
    "flex-direction": "column",
    background: "#fff",
    "box-shadow": "0 8px 30px rgba(0,0,0,.3)",
    overflow: "hidden",
  });
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", say.open);
  var bar = css(document.createElement("div"), {
    display: "flex",
    "justify-content": "flex-end",
    background: accent,
  });
  bar.dir = rtl ? "rtl" : "ltr";
  var close = css(document.createElement("button"), {
    width: "44px",
    height: "40px",
    border: "0",
    background: "transparent",
    color: "#fff",
    font: "24px/1 system-ui, sans-serif",
    cursor: "pointer",
  });
  close.type = "button";
  close.setAttribute("aria-label", say.close);
  close.title = say.close;
  close.textContent = "×";
  bar.appendChild(close);
  panel.appendChild(bar);

  var frame = null;
  var small = window.matchMedia("(max-width: 480px)");

  // place sizes the panel: a floating box above the button, the whole screen on a
  // phone, where a box would be too small to type in.
  function place() {
    // The longhands go before the shorthand is set: removing one afterwards would
    // take it out of the shorthand too.
    ["inset", "bottom", "inset-inline-end", "width", "height"].forEach(function (p) {
      panel.style.removeProperty(p);
    });
    if (small.matches) {
      css(panel, { inset: "0", "border-radius": "0" });
    } else {
      css(panel, {
        bottom: "88px",
        "inset-inline-end": "20px",
        width: "380px",
        height: "min(600px, calc(100vh - 112px))",
        "border-radius": "14px",
      });
    }
  }

  function open() {
    if (!frame) {
      frame = css(document.createElement("iframe"), { flex: "1", width: "100%", border: "0" });
      frame.title = say.open;
      // The shop's address is none of the chat's business.
      frame.referrerPolicy = "no-referrer";
      frame.src = origin + "/chat/" + shop + "/new";
      panel.appendChild(frame);
    }
    place();
    panel.style.display = "flex";
    button.setAttribute("aria-expanded", "true");
    if (small.matches) {
      button.style.display = "none";
    }
    frame.focus();
  }

  function shut() {
    panel.style.display = "none";
    button.style.display = "flex";
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  button.addEventListener("click", function () {
    if (panel.style.display === "none") {
      open();
    } else {
      shut();
    }
  });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      shut();
    }
  });
  var onResize = function () {
    if (panel.style.display !== "none") {
      open();
    }
  };
  if (small.addEventListener) {
    small.addEventListener("change", onResize);
  }

  root.appendChild(panel);
  root.appendChild(button);
  // An async script may run before the body exists.
  if (document.body) {
    document.body.appendChild(host);
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      document.body.appendChild(host);
    });
  }
})();
