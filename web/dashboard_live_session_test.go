package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/orders"
)

// liveRedraw is the header live.js sends on the page fetches it makes by itself.
var liveRedraw = http.Header{"X-Chatpay-Live": {"1"}, "Accept": {"text/html"}}

// signedInOwner signs shop-a's owner in on d and returns the session cookie.
func signedInOwner(t *testing.T, d *dash) *http.Cookie {
	t.Helper()
	rec := d.signIn("owner@example.com", authtest.Password)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	return sessionCookieOf(t, rec, sessionCookie)
}

// requireSignIn checks that rec sends the browser to the sign-in page.
func requireSignIn(t *testing.T, rec *httptest.ResponseRecorder, msg string) {
	t.Helper()
	res := rec.Result()
	require.Equal(t, http.StatusSeeOther, res.StatusCode, msg)
	require.Equal(t, signInPath, res.Header.Get("Location"), msg)
}

// TestLiveRedrawsDoNotKeepSessionAlive: a tab left open on a busy shop redraws (and
// reconnects its stream) all the time, but none of that is the user's doing, so the
// session still idles out at the idle timeout (the test service's is 1 h).
func TestLiveRedrawsDoNotKeepSessionAlive(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	ck := signedInOwner(t, d)
	o := d.newOrder("shop-a", orders.Customer{Name: "Redrawn"}, nil)

	// Redraws of the list and an order page every 5 minutes, and the stream
	// reconnecting now and then, for 55 minutes: all answered, none counts as use.
	for range 11 {
		d.clock.Advance(5 * time.Minute)
		body := requirePage(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw, ck), http.StatusOK)
		require.Contains(t, body, "Redrawn")
		requirePage(t, d.do(http.MethodGet, "/dashboard/orders/"+o.ID, nil, liveRedraw, ck), http.StatusOK)
		rec := d.do(http.MethodGet, liveEventsPath, nil, http.Header{"Accept": {"text/event-stream"}}, ck)
		require.Equal(t, http.StatusNoContent, rec.Code, "no hub here: the stream answers 204 once past requireUser")
	}

	// An hour after sign-in, the last use, the redraw meets the sign-in page and the
	// cookie is cleared, as any request with an idle session would.
	d.clock.Advance(5 * time.Minute)
	rec := d.do(http.MethodGet, "/dashboard", nil, liveRedraw, ck)
	requireSignIn(t, rec, "the redraw after the idle timeout")
	require.Equal(t, -1, sessionCookieOf(t, rec, sessionCookie).MaxAge)
	requireSignIn(t, d.do(http.MethodGet, "/dashboard", nil, nil, ck), "and the session is over for good")
	requireSignIn(t, d.do(http.MethodGet, liveEventsPath, nil, nil, ck), "the stream too")
}

// TestLiveRedrawUserRequestsExtendSession: what the user does still counts as use,
// page views and form posts alike, the latter even if they carry the live header.
func TestLiveRedrawUserRequestsExtendSession(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	ck := signedInOwner(t, d)

	// 50 minutes on, the user opens the list: good until 1:50.
	d.clock.Advance(50 * time.Minute)
	requirePage(t, d.do(http.MethodGet, "/dashboard", nil, nil, ck), http.StatusOK)
	d.clock.Advance(55 * time.Minute) // 1:45, 55 minutes after the page view
	requirePage(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw, ck), http.StatusOK)

	// A form post at 1:45, marked or not, is the user's doing: good until 2:45. (The
	// order does not exist, which the handler finds only after requireUser.)
	post := http.Header{"Sec-Fetch-Site": {"same-origin"}, "X-Chatpay-Live": {"1"}}
	rec := d.do(http.MethodPost, "/dashboard/orders/no-such-order/resend", url.Values{}, post, ck)
	requirePage(t, rec, http.StatusNotFound)
	d.clock.Advance(55 * time.Minute) // 2:40
	requirePage(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw, ck), http.StatusOK)
	d.clock.Advance(5 * time.Minute) // 2:45, an hour after the post
	requireSignIn(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw, ck), "idle since the post")
}

// TestLiveRedrawSameChecks: the live header changes only whether a request counts as
// use. A marked request needs a working session and meets every other check the same.
func TestLiveRedrawSameChecks(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	ctx := context.Background()
	_, err := d.auth.AddUser(ctx, "shop-a", "staff@example.com", auth.RoleStaff, authtest.Password)
	require.NoError(t, err)
	owner := signedInOwner(t, d)
	rec := d.signIn("staff@example.com", authtest.Password)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	staff := sessionCookieOf(t, rec, sessionCookie)
	other := d.newOrder("shop-b", orders.Customer{Name: "Customer-of-B"}, nil)

	// No session, or a bogus one: the sign-in page.
	requireSignIn(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw), "no cookie")
	bogus := &http.Cookie{Name: sessionCookie, Value: "not-a-session"}
	requireSignIn(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw, bogus), "bogus cookie")

	// The same authorisation as without the header: staff may not see settings, and
	// no one sees another shop's order.
	for _, h := range []http.Header{nil, liveRedraw} {
		requirePage(t, d.do(http.MethodGet, settingsPath, nil, h, staff), http.StatusForbidden)
		requirePage(t, d.do(http.MethodGet, "/dashboard/orders/"+other.ID, nil, h, owner), http.StatusNotFound)
	}

	// A cross-site post is refused whatever it carries, and ends nothing.
	cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "X-Chatpay-Live": {"1"}}
	requirePage(t, d.do(http.MethodPost, signOutPath, url.Values{}, cross, owner), http.StatusForbidden)
	requirePage(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw, owner), http.StatusOK)

	// A session ended elsewhere, or a disabled user, is refused to a marked request.
	require.NoError(t, d.auth.EndSession(ctx, owner.Value))
	requireSignIn(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw, owner), "signed out elsewhere")
	u, err := d.auth.CheckSession(ctx, staff.Value)
	require.NoError(t, err)
	require.NoError(t, d.auth.DisableUser(ctx, "shop-a", u.ID))
	requireSignIn(t, d.do(http.MethodGet, "/dashboard", nil, liveRedraw, staff), "user disabled")
}
