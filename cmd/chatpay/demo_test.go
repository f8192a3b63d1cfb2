package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/configs"
)

// startDemo starts chatpay as `go run ./cmd/chatpay` would on a fresh machine: the
// embedded default configuration, with only the address and database moved so tests
// can run side by side. It returns the app and what it printed.
func startDemo(t *testing.T) (*app, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	dir := t.TempDir()
	env := func(k string) (string, bool) {
		switch k {
		case "CHATPAY_DATABASE_URL":
			return "sqlite:" + filepath.Join(dir, "chatpay.db"), true
		case "CHATPAY_HTTP_ADDR":
			return ln.Addr().String(), true
		case "CHATPAY_PUBLIC_URL":
			return base, true
		}
		return "", false
	}
	cfg, err := configs.Load("", env)
	require.NoError(t, err)
	require.True(t, cfg.UsesDefaultShops())
	m := NewMain(cfg)
	var out bytes.Buffer
	m.Stdout = &out
	m.Listener = ln
	require.NoError(t, m.Open(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		require.NoError(t, m.Close(ctx))
	})
	return &app{t: t, m: m, url: base, client: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, out.String()
}

var demoLinkPattern = regexp.MustCompile(`(http://\S+/demo/start\?token=[A-Za-z0-9_-]{43})`)

// demoLink is the one-time sign-in link chatpay printed.
func demoLink(t *testing.T, out string) string {
	t.Helper()
	m := demoLinkPattern.FindStringSubmatch(out)
	require.NotNil(t, m, "chatpay prints a one-time demo sign-in link; it printed:\n%s", out)
	return m[1]
}

func TestFirstRunDemo(t *testing.T) {
	t.Parallel()
	a, out := startDemo(t)
	require.Contains(t, out, a.url+"/dashboard", "the dashboard URL is printed")
	link := demoLink(t, out)

	// Opening the link only shows a button: link previews must not spend it.
	resp, body := a.browse(http.MethodGet, link[len(a.url):], nil, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `name="token"`)
	token := link[len(link)-43:]

	// A cross-origin form cannot spend it.
	resp, _ = a.browse(http.MethodPost, "/demo/start", url.Values{"token": {token}}, "cross-site", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	resp, _ = a.browse(http.MethodPost, "/demo/start", url.Values{"token": {token}}, "same-origin", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/demo", resp.Header.Get("Location"))
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "chatpay_session" {
			session = c
		}
	}
	require.NotNil(t, session, "the link signs the browser in")

	resp, body = a.browse(http.MethodGet, "/demo", nil, "", session)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	chat := regexp.MustCompile(`<iframe src="(/chat/[^"]+|http[^"]+/chat/[^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, chat, "the customer's web chat is framed on the demo page:\n%s", body)
	require.Regexp(t, `<iframe src="/dashboard/inbox/[0-9a-f-]{36}"`, body, "so is the owner's inbox")

	// The dashboard may be framed by the demo page (same origin), never by others.
	req, err := http.NewRequest(http.MethodGet, a.url+"/dashboard", nil)
	require.NoError(t, err)
	req.AddCookie(session)
	req.Header.Set("Sec-Fetch-Dest", "iframe")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	framed, err := a.client.Do(req)
	require.NoError(t, err)
	framed.Body.Close()
	require.Equal(t, http.StatusOK, framed.StatusCode)
	require.Contains(t, framed.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	framed, err = a.client.Do(req)
	require.NoError(t, err)
	framed.Body.Close()
	require.Contains(t, framed.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")

	// The link is spent.
	resp, body = a.browse(http.MethodPost, "/demo/start", url.Values{"token": {token}}, "same-origin", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, "already been used")

	// The customer said hello; reloading the demo does not say it twice.
	resp, _ = a.browse(http.MethodGet, "/demo", nil, "", session)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	convs, err := a.m.Service.Store().ConversationByExternalID(context.Background(), "demo", "webchat", "demo-customer")
	require.NoError(t, err)
	require.Equal(t, "Lan", convs.CustomerName)
}

func TestNoDemoWithARealConfig(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	for _, path := range []string{"/demo", "/demo/start?token=" + strings.Repeat("a", 43)} {
		resp, _ := a.get(a.url + path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	_, err := a.m.Service.Shop("demo")
	require.Error(t, err, "the demo shop does not exist next to real shops")
}
