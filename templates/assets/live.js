// Live updates for dashboard pages. Pages work without this script; with it, the
// parts of a page that a change concerns redraw themselves when the change commits,
// on this replica or any other (a payment lands, a message is sent or received).
//
// The contract for page authors (keep it exactly; pages rely on it):
//
//   Mark an element with an id and a data-live attribute holding space-separated
//   filters. It is redrawn when a matching change arrives:
//
//     orders            any change of any order (kind "order")
//     conversations     any change of any chat message (kind "message")
//     order:ID          any change about order ID, of either kind
//     conversation:ID   any change in conversation ID, of either kind
//
//   e.g. <tbody id="orders" data-live="orders"> or
//        <section id="timeline" data-live="order:0192… conversation:0193…">
//
//   Redrawing fetches the page again (location.href, same origin, with the session
//   cookie, marked "X-Chatpay-Live: 1" so that it does not count as use of the
//   session), finds the element with the same id in it and puts that element's
//   contents (innerHTML) into the one on screen; the element itself, its attributes
//   and its place stay. Changes arriving together are gathered: one fetch per
//   ~300 ms however many there are. An element holding the focused form field is
//   left alone while the user is in it, so no typing is lost; it is redrawn once
//   focus leaves. After a redraw the element dispatches "live:updated" (it bubbles),
//   so scripts that bound to its old contents can bind again. Whether a region
//   announces itself (aria-live="polite") is the page author's choice.
//
// The changes come as server-sent events from /dashboard/events, which streams the
// signed-in user's shop only. When the stream breaks, the script reconnects with a
// growing, jittered delay, and on reconnecting redraws every live element, since
// changes may have been missed meanwhile. When there is no stream at all (the server
// answers 204), it gives up after a few tries. When the session ends (signed out in
// another tab, revoked, expired), the server ends the stream with an "end" event and
// the script stops for good; and should that event be lost, a reconnection that the
// server refuses is followed by one fetch of the page, and the script stops if that
// lands on the sign-in page, rather than retrying into it for as long as the tab
// stays open.
(function () {
  "use strict";

  var STREAM = "/dashboard/events";
  var SIGN_IN = "/dashboard/signin";
  var GATHER_MS = 300;
  var MAX_RETRY_MS = 60000;
  // A stream that stayed up this long counts as healthy: the next break starts the
  // delays from the shortest again.
  var HEALTHY_MS = 30000;
  // Without ever opening, the stream is taken to be absent after this many tries.
  var MAX_FIRST_TRIES = 5;
  // The script's own fetches of the page (redraws, and the probe for an ended session)
  // say so, and the server then does not count them as use of the session: otherwise
  // a tab left open on a busy shop would never reach the session's idle timeout. The
  // stream needs no mark; the server knows it by its path.
  var LIVE_HEADERS = { Accept: "text/html", "X-Chatpay-Live": "1" };

  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  if (!document.querySelector("[id][data-live]")) return;

  var pending = new Set(); // ids of elements waiting for a redraw
  var timer = 0;
  var fetching = false;

  function filtersOf(el) {
    return (el.getAttribute("data-live") || "").split(/\s+/).filter(Boolean);
  }

  function matches(filter, ch) {
    if (filter === "orders") return ch.kind === "order";
    if (filter === "conversations") return ch.kind === "message";
    var i = filter.indexOf(":");
    if (i < 0 || i === filter.length - 1) return false;
    var what = filter.slice(0, i), id = filter.slice(i + 1);
    if (what === "order") return ch.order === id;
    if (what === "conversation") return ch.conversation === id;
    return false;
  }

  function liveElements() {
    return document.querySelectorAll("[id][data-live]");
  }

  function onChange(ch) {
    liveElements().forEach(function (el) {
      if (filtersOf(el).some(function (f) { return matches(f, ch); })) pending.add(el.id);
    });
    schedule();
  }

  function redrawAll() {
    liveElements().forEach(function (el) { pending.add(el.id); });
    schedule();
  }

  // schedule starts the gathering window, unless one is open or a fetch is under way
  // (its end schedules again). The window is not restarted by later changes, so a
  // steady flow of them still redraws every GATHER_MS.
  function schedule() {
    if (!pending.size || timer || fetching) return;
    timer = setTimeout(function () { timer = 0; redraw(); }, GATHER_MS);
  }

  // typingIn reports whether the focused form field is inside el.
  function typingIn(el) {
    var f = document.activeElement;
    if (!f || f === document.body || !el.contains(f)) return false;
    return f.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(f.tagName);
  }

  function redraw() {
    var ids = Array.from(pending).filter(function (id) {
      var el = document.getElementById(id);
      if (!el) pending.delete(id);
      return el && !typingIn(el);
    });
    if (!ids.length) return; // only elements in use: focusout schedules again
    ids.forEach(function (id) { pending.delete(id); });
    fetching = true;
    fetch(location.href, { credentials: "same-origin", cache: "no-store", headers: LIVE_HEADERS })
      .then(function (res) {
        // Sent to the sign-in page: the session has ended, so the stream stops too
        // (it would be refused on its next connection anyway).
        if (res.redirected && new URL(res.url).pathname === SIGN_IN) stop();
        // Redirected elsewhere or an error page: not this page, nothing to take.
        if (!res.ok || (res.redirected && new URL(res.url).pathname !== location.pathname)) {
          throw new Error("live: page answered " + res.status);
        }
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          var el = document.getElementById(id), fresh = doc.getElementById(id);
          if (!el || !fresh) return;
          if (typingIn(el)) { // focus moved in while the page was fetched
            pending.add(id);
            return;
          }
          if (el.innerHTML === fresh.innerHTML) return;
          el.innerHTML = fresh.innerHTML;
          el.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
        });
      })
      .catch(function () {
        // The page stays as it is; the next change tries again.
      })
      .then(function () {
        fetching = false;
        schedule();
      });
  }

  // Leaving a field lets the element around it redraw; by the time the gathering
  // window closes, focus has settled elsewhere.
  document.addEventListener("focusout", schedule);

  var source = null;
  var retryTimer = 0;
  var tries = 0;
  var everOpened = false;
  var openedAt = 0;

  function stop() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (source) {
      source.close();
      source = null;
    }
  }

  // signedOut resolves to whether the page now sends the browser to the sign-in page,
  // that is, whether the session has ended. It fetches the page, not the stream, so
  // that asking opens no stream; a failed fetch counts as not signed out.
  function signedOut() {
    return fetch(location.href, { credentials: "same-origin", cache: "no-store", headers: LIVE_HEADERS })
      .then(function (res) {
        return res.redirected && new URL(res.url).pathname === SIGN_IN;
      })
      .catch(function () { return false; });
  }

  function retry() {
    if (openedAt && Date.now() - openedAt > HEALTHY_MS) tries = 0;
    openedAt = 0;
    tries++;
    if (!everOpened && tries >= MAX_FIRST_TRIES) return;
    var delay = Math.min(MAX_RETRY_MS, 1000 * Math.pow(2, tries - 1));
    retryTimer = setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }

  function connect() {
    retryTimer = 0;
    var es = new EventSource(STREAM);
    source = es;
    source.addEventListener("open", function () {
      if (everOpened) redrawAll();
      everOpened = true;
      openedAt = Date.now();
    });
    // The server ends the stream with this event when the session no longer works:
    // reconnecting would only meet the sign-in page. The page stays as it is; the
    // next thing the user does there leads to the sign-in page.
    source.addEventListener("end", function () {
      stop();
    });
    source.addEventListener("change", function (e) {
      var ch;
      try {
        ch = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      if (ch && typeof ch === "object") onChange(ch);
    });
    source.addEventListener("error", function () {
      // The browser would retry some failures by itself, at a fixed pace; the script
      // retries all of them instead, backing off.
      var refused = es.readyState === EventSource.CLOSED;
      es.close();
      if (source !== es) return; // stopped, or replaced, meanwhile
      source = null;
      if (!refused || !everOpened) {
        retry();
        return;
      }
      // The server answered, but not with a stream (the browser gives up on such an
      // answer by itself): an error, a proxy's page during a deploy, or the sign-in
      // page that an ended session is sent to. Only the last is for good.
      retryTimer = -1; // a retry is being decided: pageshow must not connect meanwhile
      signedOut().then(function (out) {
        if (retryTimer !== -1) return; // pagehide came meanwhile
        retryTimer = 0;
        if (!out) retry();
      });
    });
  }

  // A page put in the back-forward cache lets go of its stream, and takes it up
  // again, redrawn, when it is shown again.
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && !source && !retryTimer) connect(); // its open redraws
  });

  connect();
})();
