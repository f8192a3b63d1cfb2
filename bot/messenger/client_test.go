package messenger_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/messenger"
	"github.com/chatpay/chatpay/orders"
)

const (
	testPageID = "1234567890"
	testAppID  = "555000111"
	testToken  = "EAAtesttoken123"
	testSecret = "appsecret-xyz"
	// testProof is HMAC-SHA256(key "appsecret-xyz", "EAAtesttoken123") as
	// computed by `openssl dgst -sha256 -hmac`, not by the code under test.
	testProof = "706b7cd5e8a1635267cf5290f0dadaf10d6d552e3fe872280fc3b7d4b7540ed2"
	testPSID  = "24680135792468"
)

// graph stands in for the Graph API: it records each request and answers with
// the status, headers and body the test sets.
type graph struct {
	t      *testing.T
	mu     sync.Mutex
	calls  int32
	path   string
	query  map[string][]string
	ctype  string
	body   string
	status int
	header http.Header
	answer string
	delay  time.Duration
}

func (g *graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	atomic.AddInt32(&g.calls, 1)
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.path, g.query, g.ctype, g.body = r.URL.Path, r.URL.Query(), r.Header.Get("Content-Type"), string(body)
	status, header, answer, delay := g.status, g.header, g.answer, g.delay
	g.mu.Unlock()
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, vs := range header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (g *graph) sent() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.body
}

func newGraph(t *testing.T, answer string) (*graph, *messenger.Client) {
	t.Helper()
	g := &graph{t: t, answer: answer}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	c, err := messenger.NewClient(messenger.Config{
		PageID: testPageID, PageAccessToken: testToken, AppSecret: testSecret, AppID: testAppID,
		APIURL: srv.URL, Timeout: 2 * time.Second,
	})
	require.NoError(t, err)
	return g, c
}

const okAnswer = `{"recipient_id":"24680135792468","message_id":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"}`

func TestAppSecretProofKnownVector(t *testing.T) {
	t.Parallel()
	require.Equal(t, testProof, messenger.AppSecretProof(testToken, testSecret))
}

func TestNewClientValidates(t *testing.T) {
	t.Parallel()
	good := messenger.Config{PageID: testPageID, PageAccessToken: testToken, AppSecret: testSecret, AppID: testAppID}
	c, err := messenger.NewClient(good)
	require.NoError(t, err)
	require.Equal(t, testPageID, c.PageID())
	require.Equal(t, testAppID, c.AppID())

	cases := map[string]func(*messenger.Config){
		"no page id":         func(c *messenger.Config) { c.PageID = "" },
		"page id not digits": func(c *messenger.Config) { c.PageID = "12/../me" },
		"no token":           func(c *messenger.Config) { c.PageAccessToken = "  " },
		"token with space":   func(c *messenger.Config) { c.PageAccessToken = "EAA secret" },
		"no app secret":      func(c *messenger.Config) { c.AppSecret = "" },
		"no app id":          func(c *messenger.Config) { c.AppID = "" },
		"app id not digits":  func(c *messenger.Config) { c.AppID = "abc" },
		"api url not http":   func(c *messenger.Config) { c.APIURL = "ftp://graph.facebook.com" },
		"api url no host":    func(c *messenger.Config) { c.APIURL = "https://" },
		"api url with query": func(c *messenger.Config) { c.APIURL = "https://graph.facebook.com?x=1" },
		"bad version":        func(c *messenger.Config) { c.Version = "21" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			mutate(&cfg)
			_, err := messenger.NewClient(cfg)
			require.Error(t, err)
			require.NotContains(t, err.Error(), testSecret)
			require.NotContains(t, err.Error(), testToken)
		})
	}
}

func TestSendText(t *testing.T) {
	t.Parallel()
	g, c := newGraph(t, okAnswer)
	mid, err := c.Send(context.Background(), testPSID, messenger.Out{Text: "Your order #12 is ready: <b>pay</b>"}, messenger.SendOptions{})
	require.NoError(t, err)
	require.Equal(t, "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM", mid)

	require.Equal(t, "/v21.0/"+testPageID+"/messages", g.path)
	require.Equal(t, []string{testToken}, g.query["access_token"])
	require.Equal(t, []string{testProof}, g.query["appsecret_proof"])
	require.Equal(t, "application/json", g.ctype)
	require.JSONEq(t, `{
		"recipient": {"id": "24680135792468"},
		"messaging_type": "RESPONSE",
		"message": {"text": "Your order #12 is ready: <b>pay</b>"}
	}`, g.sent())
}

func TestSendUpdateAndVersion(t *testing.T) {
	t.Parallel()
	g := &graph{t: t, answer: okAnswer}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	c, err := messenger.NewClient(messenger.Config{
		PageID: testPageID, PageAccessToken: testToken, AppSecret: testSecret, AppID: testAppID,
		APIURL: srv.URL + "/", Version: "v23.0",
	})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), testPSID, messenger.Out{Text: "Paid, thank you."}, messenger.SendOptions{MessagingType: messenger.Update})
	require.NoError(t, err)
	require.Equal(t, "/v23.0/"+testPageID+"/messages", g.path)
	require.JSONEq(t, `{
		"recipient": {"id": "24680135792468"},
		"messaging_type": "UPDATE",
		"message": {"text": "Paid, thank you."}
	}`, g.sent())
}

func TestSendButtonTemplate(t *testing.T) {
	t.Parallel()
	g, c := newGraph(t, okAnswer)
	out := messenger.Out{
		Text: "Order #12: 2 × Tea, 9.80 EUR",
		Buttons: []orders.Button{
			{Label: "Pay now", URL: "https://pay.example.com/o/12?t=abc"},
			{Label: "Cancel the whole order please", Data: "cancel:12"},
			{Label: "  Talk to us  ", Data: "human", SameRow: true},
		},
	}
	_, err := c.Send(context.Background(), testPSID, out, messenger.SendOptions{})
	require.NoError(t, err)
	require.JSONEq(t, `{
		"recipient": {"id": "24680135792468"},
		"messaging_type": "RESPONSE",
		"message": {"attachment": {"type": "template", "payload": {
			"template_type": "button",
			"text": "Order #12: 2 × Tea, 9.80 EUR",
			"buttons": [
				{"type": "web_url", "url": "https://pay.example.com/o/12?t=abc", "title": "Pay now"},
				{"type": "postback", "title": "Cancel the whole or…", "payload": "cancel:12"},
				{"type": "postback", "title": "Talk to us", "payload": "human"}
			]
		}}}
	}`, g.sent())
}

func TestButtonTitle(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Pay now", messenger.ButtonTitle(" Pay now "))
	require.Equal(t, "12345678901234567890", messenger.ButtonTitle("12345678901234567890"))
	require.Equal(t, "1234567890123456789…", messenger.ButtonTitle("123456789012345678901"))
	// Runes, not bytes: 21 Cyrillic letters are cut to 19 and an ellipsis.
	got := messenger.ButtonTitle(strings.Repeat("ж", 21))
	require.Equal(t, strings.Repeat("ж", 19)+"…", got)
	// A cut that ends on a space does not leave it before the ellipsis.
	require.Equal(t, "Cancel the whole or…", messenger.ButtonTitle("Cancel the whole order"))
	require.Equal(t, "Cancel the very…", messenger.ButtonTitle("Cancel the very     long"))
}

func TestSendRefusesBeforeCalling(t *testing.T) {
	t.Parallel()
	four := []orders.Button{{Label: "a", Data: "1"}, {Label: "b", Data: "2"}, {Label: "c", Data: "3"}, {Label: "d", Data: "4"}}
	cases := map[string]struct {
		psid string
		out  messenger.Out
		opts messenger.SendOptions
		want string
	}{
		"four buttons":           {testPSID, messenger.Out{Text: "x", Buttons: four}, messenger.SendOptions{}, "4 buttons"},
		"template text too long": {testPSID, messenger.Out{Text: strings.Repeat("a", 641), Buttons: four[:1]}, messenger.SendOptions{}, "641 characters"},
		"text too long":          {testPSID, messenger.Out{Text: strings.Repeat("a", 2001)}, messenger.SendOptions{}, "2001 characters"},
		"empty text":             {testPSID, messenger.Out{Text: "  "}, messenger.SendOptions{}, "empty"},
		"button without label":   {testPSID, messenger.Out{Text: "x", Buttons: []orders.Button{{Label: " ", Data: "1"}}}, messenger.SendOptions{}, "no label"},
		"link and data":          {testPSID, messenger.Out{Text: "x", Buttons: []orders.Button{{Label: "a", Data: "1", URL: "https://x.example"}}}, messenger.SendOptions{}, "both"},
		"neither link nor data":  {testPSID, messenger.Out{Text: "x", Buttons: []orders.Button{{Label: "a"}}}, messenger.SendOptions{}, "neither"},
		"javascript link":        {testPSID, messenger.Out{Text: "x", Buttons: []orders.Button{{Label: "a", URL: "javascript:alert(1)"}}}, messenger.SendOptions{}, "not an http"},
		"payload too long":       {testPSID, messenger.Out{Text: "x", Buttons: []orders.Button{{Label: "a", Data: strings.Repeat("d", 1001)}}}, messenger.SendOptions{}, "1000 characters"},
		"bad psid":               {"my psid", messenger.Out{Text: "x"}, messenger.SendOptions{}, "page-scoped id"},
		"message tag":            {testPSID, messenger.Out{Text: "x"}, messenger.SendOptions{MessagingType: "MESSAGE_TAG"}, "not supported"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, c := newGraph(t, okAnswer)
			_, err := c.Send(context.Background(), tc.psid, tc.out, tc.opts)
			require.Error(t, err)
			require.True(t, bot.IsPermanent(err), "%v", err)
			var p *bot.PermanentError
			require.ErrorAs(t, err, &p)
			require.Contains(t, p.Reason, tc.want)
			require.Zero(t, atomic.LoadInt32(&g.calls), "nothing may reach Meta")
		})
	}
}

func TestSendUtility(t *testing.T) {
	t.Parallel()
	g, c := newGraph(t, okAnswer)
	mid, err := c.SendUtility(context.Background(), testPSID, messenger.UtilityTemplate{
		Name: "jaspers_market_order_delivery_update_us", Language: "en",
		HeaderParameters: []messenger.TemplateParameter{{Text: "Order"}},
		Parameters:       []messenger.TemplateParameter{{Text: "566701"}},
	})
	require.NoError(t, err)
	require.NotEmpty(t, mid)
	// The example of Meta's utility message page, verbatim but for ids.
	require.JSONEq(t, `{
		"recipient": {"id": "24680135792468"},
		"message": {"template": {
			"name": "jaspers_market_order_delivery_update_us",
			"language": {"code": "en"},
			"components": [
				{"type": "header", "parameters": [{"type": "text", "text": "Order"}]},
				{"type": "body", "parameters": [{"type": "text", "text": "566701"}]}
			]
		}}
	}`, g.sent())
	require.Equal(t, []string{testProof}, g.query["appsecret_proof"])

	_, err = c.SendUtility(context.Background(), testPSID, messenger.UtilityTemplate{
		Name: "order_paid", Language: "en_US",
		Parameters: []messenger.TemplateParameter{{Name: "order_id", Text: "12"}, {Name: "customer_name", Text: "John"}},
	})
	require.NoError(t, err)
	require.JSONEq(t, `{
		"recipient": {"id": "24680135792468"},
		"message": {"template": {
			"name": "order_paid",
			"language": {"code": "en_US"},
			"components": [
				{"type": "body", "parameters": [
					{"type": "text", "parameter_name": "order_id", "text": "12"},
					{"type": "text", "parameter_name": "customer_name", "text": "John"}
				]}
			]
		}}
	}`, g.sent())
}

func TestSendUtilityRefuses(t *testing.T) {
	t.Parallel()
	cases := map[string]messenger.UtilityTemplate{
		"no name":      {Language: "en"},
		"bad name":     {Name: "Order Paid", Language: "en"},
		"no language":  {Name: "order_paid"},
		"bad language": {Name: "order_paid", Language: "english please"},
		"empty value":  {Name: "order_paid", Language: "en", Parameters: []messenger.TemplateParameter{{Text: " "}}},
		"mixed naming": {Name: "order_paid", Language: "en", Parameters: []messenger.TemplateParameter{{Name: "a", Text: "1"}, {Text: "2"}}},
	}
	for name, tmpl := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, c := newGraph(t, okAnswer)
			_, err := c.SendUtility(context.Background(), testPSID, tmpl)
			require.True(t, bot.IsPermanent(err), "%v", err)
			require.Zero(t, atomic.LoadInt32(&g.calls))
		})
	}
}

func TestPrivateReply(t *testing.T) {
	t.Parallel()
	g, c := newGraph(t, okAnswer)
	psid, mid, err := c.PrivateReply(context.Background(), "461184817813069_542998526103632",
		messenger.Out{Text: "Here is your order link.", Buttons: []orders.Button{{Label: "Order", URL: "https://shop.example/o/9"}}})
	require.NoError(t, err)
	require.Equal(t, testPSID, psid)
	require.Equal(t, "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM", mid)
	require.JSONEq(t, `{
		"recipient": {"comment_id": "461184817813069_542998526103632"},
		"messaging_type": "RESPONSE",
		"message": {"attachment": {"type": "template", "payload": {
			"template_type": "button",
			"text": "Here is your order link.",
			"buttons": [{"type": "web_url", "url": "https://shop.example/o/9", "title": "Order"}]
		}}}
	}`, g.sent())
	require.Equal(t, []string{testToken}, g.query["access_token"])

	_, _, err = c.PrivateReply(context.Background(), "", messenger.Out{Text: "x"})
	require.True(t, bot.IsPermanent(err))
}

func TestGraphFailuresThroughTheClient(t *testing.T) {
	t.Parallel()
	t.Run("window closed", func(t *testing.T) {
		t.Parallel()
		g, c := newGraph(t, `{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"A1b2C3"}}`)
		g.status = http.StatusBadRequest
		_, err := c.Send(context.Background(), testPSID, messenger.Out{Text: "hi"}, messenger.SendOptions{})
		require.True(t, messenger.IsWindowClosed(err))
		require.True(t, bot.IsPermanent(err))
		var p *bot.PermanentError
		require.ErrorAs(t, err, &p)
		require.Equal(t, messenger.ReasonWindowClosed, p.Reason)
		var api *messenger.APIError
		require.ErrorAs(t, err, &api)
		require.Equal(t, "A1b2C3", api.FBTraceID)
		require.Equal(t, http.StatusBadRequest, api.HTTPStatus)
	})
	t.Run("throttled with a usage header", func(t *testing.T) {
		t.Parallel()
		g, c := newGraph(t, `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"X"}}`)
		g.status = http.StatusBadRequest
		g.header = http.Header{"X-Business-Use-Case-Usage": {`{"1234567890":[{"type":"messenger","call_count":100,"total_cputime":12,"total_time":20,"estimated_time_to_regain_access":19}]}`}}
		_, err := c.Send(context.Background(), testPSID, messenger.Out{Text: "hi"}, messenger.SendOptions{})
		require.True(t, messenger.IsThrottled(err))
		require.False(t, bot.IsPermanent(err))
		wait, ok := bot.RetryAfter(err)
		require.True(t, ok)
		require.Equal(t, 19*time.Minute, wait)
	})
	t.Run("proxy error page", func(t *testing.T) {
		t.Parallel()
		g, c := newGraph(t, `<html><body>502 Bad Gateway</body></html>`)
		g.status = http.StatusBadGateway
		_, err := c.Send(context.Background(), testPSID, messenger.Out{Text: "hi"}, messenger.SendOptions{})
		require.Error(t, err)
		require.False(t, bot.IsPermanent(err))
		_, limited := bot.RetryAfter(err)
		require.False(t, limited)
	})
	t.Run("success without message id", func(t *testing.T) {
		t.Parallel()
		_, c := newGraph(t, `{"recipient_id":"1"}`)
		_, err := c.Send(context.Background(), testPSID, messenger.Out{Text: "hi"}, messenger.SendOptions{})
		require.Error(t, err)
		require.False(t, bot.IsPermanent(err))
	})
	t.Run("meta quoting the token", func(t *testing.T) {
		t.Parallel()
		g, c := newGraph(t, `{"error":{"message":"Malformed access token EAAtesttoken123 (proof 706b7cd5e8a1635267cf5290f0dadaf10d6d552e3fe872280fc3b7d4b7540ed2)","type":"OAuthException","code":190}}`)
		g.status = http.StatusBadRequest
		_, err := c.Send(context.Background(), testPSID, messenger.Out{Text: "hi"}, messenger.SendOptions{})
		require.True(t, messenger.IsTokenExpired(err))
		require.NotContains(t, err.Error(), testToken)
		require.NotContains(t, err.Error(), testProof)
		require.Contains(t, err.Error(), messenger.ReasonTokenExpired)
	})
}

func TestTimeoutIsRetryableAndScrubbed(t *testing.T) {
	t.Parallel()
	g := &graph{t: t, answer: okAnswer, delay: time.Minute}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	c, err := messenger.NewClient(messenger.Config{
		PageID: testPageID, PageAccessToken: testToken, AppSecret: testSecret, AppID: testAppID,
		APIURL: srv.URL, Timeout: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Send(context.Background(), testPSID, messenger.Out{Text: "hi"}, messenger.SendOptions{})
	require.Error(t, err)
	require.Less(t, time.Since(start), 30*time.Second, "the per-call timeout must cut the call")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, bot.IsPermanent(err))
	requireNoSecrets(t, err)
}

func TestUnreachableIsScrubbed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there any more
	c, err := messenger.NewClient(messenger.Config{
		PageID: testPageID, PageAccessToken: testToken, AppSecret: testSecret, AppID: testAppID, APIURL: addr,
	})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), testPSID, messenger.Out{Text: "hi"}, messenger.SendOptions{})
	require.Error(t, err)
	require.False(t, bot.IsPermanent(err))
	requireNoSecrets(t, err)
	require.Contains(t, err.Error(), "messenger send")
}

// requireNoSecrets checks every error in err's chain for the token and proof,
// since callers may log any of them.
func requireNoSecrets(t *testing.T, err error) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		require.NotContains(t, e.Error(), testToken)
		require.NotContains(t, e.Error(), testProof)
		b, _ := json.Marshal(e)
		require.NotContains(t, string(b), testToken)
	}
}
