// The customer's web chat (pages/webchat.html and webchat_start.html). Both pages
// work without it; with it, messages are sent without reloading, the shop's answers
// appear as they are sent (server-sent events), times show in the reader's own zone,
// and the browser remembers the visitor's chat so the widget reopens it.
//
// The chat's address is remembered in this origin's localStorage, which browsers
// keep apart per top-level site: a visitor of one shop's site gets that shop's chat
// back, and the address (a credential) never reaches the shop page's scripts.
(function () {
  "use strict";

  var KEY = "chatpay.chat.";
  var CHAT_PATH = /^\/chat\/[a-z0-9-]{1,64}\.[A-Za-z0-9_-]{43}$/;

  function store() {
    try {
      return window.localStorage;
    } catch (e) {
      return null; // storage blocked: every visit is a new chat
    }
  }

  var startForm = document.getElementById("start");
  if (startForm) {
    resume(startForm);
    return;
  }
  var root = document.querySelector(".chat[data-path]");
  if (root) {
    chat(root);
  }

  // resume opens the chat this browser started with the shop before, if it still
  // exists. Inside the widget's frame, a visitor without one gets a new chat at once:
  // tapping the widget's button was the request for it.
  function resume(form) {
    var framed = window.parent !== window;
    var st = store();
    var key = KEY + form.dataset.shop;
    var saved = st && st.getItem(key);
    var fresh = function () {
      if (framed) {
        form.submit();
      }
    };
    if (!saved || !CHAT_PATH.test(saved)) {
      fresh();
      return;
    }
    fetch(saved + "/messages", { headers: { Accept: "application/json" }, credentials: "omit" }).then(
      function (res) {
        if (res.status === 404) {
          st.removeItem(key);
          fresh();
          return;
        }
        location.replace(saved);
      },
      function () {
        location.replace(saved); // offline: the chat page says so itself
      }
    );
  }

  function chat(root) {
    var path = root.dataset.path;
    var st = store();
    if (st && root.dataset.shop && CHAT_PATH.test(path)) {
      try {
        st.setItem(KEY + root.dataset.shop, path);
      } catch (e) {
        // full or blocked: the chat still works, it is just not remembered
      }
    }
    var list = document.getElementById("msgs");
    var scroller = document.getElementById("scroller");
    var form = document.getElementById("compose");
    var box = document.getElementById("text");
    var failed = document.getElementById("send-error");
    var intro = root.querySelector(".intro");
    var you = root.dataset.you || "";
    var shopName = (root.querySelector(".chat-head .shop") || {}).textContent || "";
    var lang = document.documentElement.lang || undefined;
    var timeFmt = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
    var dayFmt = new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    var seen = {}; // the drawn messages by ID
    var last = "";

    Array.prototype.forEach.call(list.children, function (li) {
      seen[li.dataset.id] = li;
      last = li.dataset.id;
      var t = li.querySelector("time");
      if (t) {
        localTime(t);
      }
    });
    // The page's own layout keeps the newest message in view without script; from
    // here on this script does, and only when the reader is already at the bottom.
    root.classList.add("live");
    toEnd();

    function localTime(t) {
      var d = new Date(t.dateTime);
      if (isNaN(d)) {
        return;
      }
      var today = new Date();
      t.textContent = d.toDateString() === today.toDateString() ? timeFmt.format(d) : dayFmt.format(d);
      t.title = d.toLocaleString(lang);
    }

    function atEnd() {
      return scroller.scrollHeight - scroller.clientHeight - scroller.scrollTop < 80;
    }

    function toEnd() {
      scroller.scrollTop = scroller.scrollHeight;
    }

    function el(tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) {
        e.className = cls;
      }
      if (text !== undefined) {
        e.textContent = text;
      }
      return e;
    }

    function draw(m) {
      var li = el("li", "msg " + (m.mine ? "mine" : "theirs") + (m.card ? " ordercard" : ""));
      li.dataset.id = m.id;
      li.appendChild(el("span", "sr-only", (m.mine ? you : shopName) + ":"));
      li.appendChild(el("p", "text", m.text));
      (m.buttons || []).forEach(function (b) {
        if (!/^https?:\/\//i.test(b.url)) {
          return;
        }
        var a = el("a", "btn", b.label);
        a.href = b.url;
        a.target = "_blank"; // out of the widget's frame: a pay page is never framed
        a.rel = "noopener";
        li.appendChild(a);
      });
      var t = el("time", "", m.time);
      t.dateTime = m.time_iso;
      localTime(t);
      li.appendChild(t);
      return li;
    }

    // looks is what a drawn message shows: its text and buttons. Comparing it tells an
    // edited message from one that is as the page drew it, also for the messages the
    // server drew into the page.
    function looks(li) {
      var text = li.querySelector(".text");
      var parts = [li.className, text ? text.textContent : ""];
      Array.prototype.forEach.call(li.querySelectorAll("a.btn"), function (a) {
        parts.push(a.textContent, a.href);
      });
      return JSON.stringify(parts);
    }

    function add(messages, follow) {
      var stay = follow || atEnd();
      var added = false;
      messages.forEach(function (m) {
        var shown = seen[m.id];
        var li = draw(m);
        if (!shown) {
          seen[m.id] = li;
          list.appendChild(li);
          added = true;
        } else if (looks(li) !== looks(shown)) {
          // The shop edited a message the page shows (an order card, once the order
          // is paid or cancelled, loses its Pay now): redraw it where it is.
          list.replaceChild(li, shown);
          seen[m.id] = li;
        }
      });
      if (messages.length > 0) {
        last = messages[messages.length - 1].id;
      }
      if (added) {
        intro.hidden = true;
        if (stay) {
          toEnd();
        }
      }
    }

    // refresh fetches what is new; changes that arrive while it runs make it run
    // once more afterwards, never twice at once. With all, it fetches the latest
    // messages whether new or not, so that a message the page shows that was edited
    // since (the server trims ?after= to what is new) is redrawn.
    var busy = false;
    var again = false;
    var follow = false;
    var full = false;
    function refresh(mine, all) {
      follow = follow || mine === true;
      full = full || all === true;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      var everything = full;
      full = false;
      var url = path + "/messages" + (last && !everything ? "?after=" + encodeURIComponent(last) : "");
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (res) {
          return res.ok ? res.json() : null;
        })
        .then(function (body) {
          if (body && body.messages) {
            add(body.messages, follow);
            follow = false;
          } else {
            full = full || everything; // try it again with the next refresh
          }
        })
        .catch(function () {
          full = full || everything;
        })
        .then(function () {
          busy = false;
          if (again) {
            again = false;
            refresh();
          }
        });
    }

    // A message's nonce makes sending it idempotent: it changes only once the server
    // has the message, so a retry after a lost answer records it once.
    function nonce() {
      var b = new Uint8Array(16);
      crypto.getRandomValues(b);
      return btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    }

    var sending = false;
    var tried = null; // the text last sent with the current nonce, until it is recorded
    function send() {
      if (sending || box.value.trim() === "") {
        return;
      }
      if (tried !== null && tried !== box.value) {
        // The visitor changed a message whose sending failed: it is another message
        // now, which the server must not take for a retry of the first.
        form.elements.nonce.value = nonce();
      }
      tried = box.value;
      sending = true;
      failed.hidden = true;
      var body = new URLSearchParams();
      body.set("nonce", form.elements.nonce.value);
      body.set("text", box.value);
      fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (res) {
          if (res.ok) {
            box.value = "";
            tried = null;
            form.elements.nonce.value = nonce();
            refresh(true);
            return;
          }
          return res.json().then(
            function (j) {
              refused(j && j.error && j.error.reason);
            },
            function () {
              refused("");
            }
          );
        }, function () {
          refused("");
        })
        .then(function () {
          sending = false;
        });
    }

    function refused(reason) {
      var named = { too_fast: "tooFast", too_long: "tooLong", expired: "expired" }[reason];
      failed.textContent = (named && root.dataset[named]) || root.dataset.failed || failed.textContent;
      failed.hidden = false;
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      send();
    });
    var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    box.addEventListener("keydown", function (e) {
      // Enter sends and Shift+Enter breaks the line, except on touch keyboards and
      // while an input method composes (Vietnamese, Thai and Persian keyboards).
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !touch) {
        e.preventDefault();
        send();
      }
    });

    var polling = false;
    function poll() {
      if (!polling) {
        polling = true;
        // Without events the page cannot tell an edit from nothing: it looks at
        // the latest messages in full every time.
        setInterval(function () {
          refresh(false, true);
        }, 10000);
      }
    }
    if (window.EventSource) {
      var events = new EventSource(path + "/events");
      events.addEventListener("change", function (e) {
        // A message change that names an order may be an edit of its card (paid
        // or cancelled), which can be older than what ?after= returns: fetch the
        // latest in full. An order's own changes (status, payments) never edit a
        // message; its card's edit comes as a message change of its own.
        var about = null;
        try {
          about = JSON.parse(e.data);
        } catch (err) {
          about = null;
        }
        refresh(false, !about || (about.kind === "message" && !!about.order));
      });
      // On every (re)connection: what was sent, or edited, while the stream was down.
      events.onopen = function () {
        refresh(false, true);
      };
      events.onerror = function () {
        if (events.readyState === EventSource.CLOSED) {
          poll(); // no live updates here (or too many tabs): look now and then
        }
      };
    } else {
      poll();
    }
  }
})();
