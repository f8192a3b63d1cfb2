package messenger

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
)

// outcome is what a failure means for the delivery job.
type outcome int

const (
	retryable outcome = iota
	permanent
	rateLimited
)

func TestClassifyDocumentedErrors(t *testing.T) {
	t.Parallel()
	noScrub := func(s string) string { return s }
	cases := []struct {
		name                                 string
		status                               int
		body                                 string
		want                                 outcome
		reason                               string // for permanent failures, a part of the reason
		window, unavailable, token, throttle bool
	}{
		{
			// The example error of Meta's Graph API error handling guide.
			name: "expired token (guide example)", status: 400,
			body: `{"error":{"message":"Message describing the error","type":"OAuthException","code":190,"error_subcode":460,"error_user_title":"A title","error_user_msg":"A message","fbtrace_id":"EJplcsCHuLu"}}`,
			want: permanent, reason: ReasonTokenExpired, token: true,
		},
		{
			// The example error of the Messenger Platform error codes page.
			name: "invalid oauth token (messenger example)", status: 400,
			body: `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"error_subcode":1234567,"fbtrace_id":"BLBz/WZt8dN"}}`,
			want: permanent, reason: ReasonTokenExpired, token: true,
		},
		{
			name: "outside the 24-hour window", status: 400,
			body: `{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"Ab"}}`,
			want: permanent, reason: ReasonWindowClosed, window: true,
		},
		{
			name: "person not available (551)", status: 400,
			body: `{"error":{"message":"(#551) This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041,"fbtrace_id":"Ab"}}`,
			want: permanent, reason: ReasonUserUnavailable, unavailable: true,
		},
		{
			name: "no matching user", status: 400,
			body: `{"error":{"message":"(#100) No matching user found","type":"OAuthException","code":100,"error_subcode":2018001,"fbtrace_id":"Ab"}}`,
			want: permanent, reason: ReasonUserUnavailable, unavailable: true,
		},
		{
			name: "cannot message this person", status: 400,
			body: `{"error":{"message":"(#100) This person cannot receive messages","type":"OAuthException","code":100,"error_subcode":2018108}}`,
			want: permanent, reason: ReasonUserUnavailable, unavailable: true,
		},
		{
			name: "rate limit 613", status: 400,
			body: `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613}}`,
			want: rateLimited, throttle: true,
		},
		{
			name: "application throttled (4)", status: 403,
			body: `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"is_transient":true}}`,
			want: rateLimited, throttle: true,
		},
		{
			name: "account throttled (17)", status: 400,
			body: `{"error":{"message":"(#17) User request limit reached","type":"OAuthException","code":17}}`,
			want: rateLimited, throttle: true,
		},
		{
			name: "page throttled (32)", status: 400,
			body: `{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32}}`,
			want: rateLimited, throttle: true,
		},
		{
			name: "messenger rate limit (80006)", status: 400,
			body: `{"error":{"message":"There have been too many messenger api calls to this Page account.","type":"OAuthException","code":80006}}`,
			want: rateLimited, throttle: true,
		},
		{
			name: "bare 429", status: 429, body: `Too Many Requests`,
			want: rateLimited, throttle: true,
		},
		{
			name: "temporary (2)", status: 500,
			body: `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true}}`,
			want: retryable,
		},
		{
			name: "unknown (1) with 400", status: 400,
			body: `{"error":{"message":"An unknown error has occurred.","type":"OAuthException","code":1}}`,
			want: retryable,
		},
		{
			name: "transient flag on another code", status: 400,
			body: `{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":100,"is_transient":true}}`,
			want: retryable,
		},
		{name: "proxy 503 page", status: 503, body: `<html>unavailable</html>`, want: retryable},
		{name: "empty 504", status: 504, body: ``, want: retryable},
		{
			name: "4xx without an explanation", status: 404, body: `Not Found`,
			want: permanent, reason: "HTTP 404",
		},
		{
			name: "already replied privately", status: 400,
			body: `{"error":{"message":"(#10900) Activity already replied to","type":"OAuthException","code":10900}}`,
			want: permanent, reason: "already has a private reply",
		},
		{
			name: "cannot reply to this activity", status: 400,
			body: `{"error":{"message":"(#10903) This user cant reply to this activity","type":"OAuthException","code":10903}}`,
			want: permanent, reason: "private reply",
		},
		{
			name: "policy block", status: 400,
			body: `{"error":{"message":"(#368) The action attempted has been deemed abusive or is otherwise disallowed","type":"OAuthException","code":368}}`,
			want: permanent, reason: "policy",
		},
		{
			name: "permission", status: 403,
			body: `{"error":{"message":"(#200) Permissions error","type":"OAuthException","code":200}}`,
			want: permanent, reason: "Permissions error",
		},
		{
			name: "invalid parameter", status: 400,
			body: `{"error":{"message":"(#100) Param recipient[id] must be a valid ID string","type":"OAuthException","code":100}}`,
			want: permanent, reason: "Messenger rejected the message: (#100) Param recipient[id]",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := classify("send", tc.status, http.Header{}, []byte(tc.body), noScrub)
			require.Error(t, err)
			_, limited := bot.RetryAfter(err)
			switch tc.want {
			case permanent:
				require.True(t, bot.IsPermanent(err), "%v", err)
				require.False(t, limited)
				var p *bot.PermanentError
				require.ErrorAs(t, err, &p)
				require.Contains(t, p.Reason, tc.reason)
			case rateLimited:
				require.False(t, bot.IsPermanent(err), "%v", err)
				require.True(t, limited)
			case retryable:
				require.False(t, bot.IsPermanent(err), "%v", err)
				require.False(t, limited)
			}
			require.Equal(t, tc.window, IsWindowClosed(err))
			require.Equal(t, tc.unavailable, IsUserUnavailable(err))
			require.Equal(t, tc.token, IsTokenExpired(err))
			require.Equal(t, tc.throttle, IsThrottled(err))
			var api *APIError
			require.ErrorAs(t, err, &api)
			require.Equal(t, tc.status, api.HTTPStatus)
			require.True(t, strings.HasPrefix(api.Error(), "messenger send: "), api.Error())
		})
	}
}

func TestClassifySuccess(t *testing.T) {
	t.Parallel()
	require.NoError(t, classify("send", 200, http.Header{}, []byte(`{"recipient_id":"1","message_id":"m_1"}`), nil))
	require.NoError(t, classify("send", 200, http.Header{}, []byte(`not json`), nil))
	// An error object wins even with a 200.
	err := classify("send", 200, http.Header{}, []byte(`{"error":{"message":"x","code":551}}`), func(s string) string { return s })
	require.True(t, IsUserUnavailable(err))
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	cases := map[string]struct {
		header http.Header
		want   time.Duration
	}{
		"nothing":         {h(), DefaultThrottleWait},
		"zero minutes":    {h("X-Business-Use-Case-Usage", `{"1":[{"type":"messenger","estimated_time_to_regain_access":0}]}`), DefaultThrottleWait},
		"largest entry":   {h("X-Business-Use-Case-Usage", `{"1":[{"estimated_time_to_regain_access":3}],"2":[{"estimated_time_to_regain_access":7},{"estimated_time_to_regain_access":5}]}`), 7 * time.Minute},
		"garbled":         {h("X-Business-Use-Case-Usage", `{"1":`), DefaultThrottleWait},
		"retry-after":     {h("Retry-After", "120"), 2 * time.Minute},
		"retry-after bad": {h("Retry-After", "soon"), DefaultThrottleWait},
		"capped":          {h("X-Business-Use-Case-Usage", `{"1":[{"estimated_time_to_regain_access":100000}]}`), maxThrottleWait},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, retryAfter(tc.header))
		})
	}
}

func TestPermanentErrorKeepsTheAPIError(t *testing.T) {
	t.Parallel()
	err := classify("private reply", 400, http.Header{}, []byte(`{"error":{"message":"(#10900) Activity already replied to","type":"OAuthException","code":10900,"fbtrace_id":"Zz"}}`), func(s string) string { return s })
	var api *APIError
	require.True(t, errors.As(err, &api))
	require.Equal(t, 10900, api.Code)
	require.Equal(t, "private reply", api.Op)
	require.Contains(t, err.Error(), "fbtrace_id=Zz")
	require.Contains(t, err.Error(), "(#10900) Activity already replied to")
	require.Equal(t, 1, strings.Count(err.Error(), "(#10900)"), err.Error())
}
