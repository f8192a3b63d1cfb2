package messengertest_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger/messengertest"
)

func TestThrottlingAndServerErrors(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)

	s.FailNext(messengertest.SendAPI, 2, messengertest.Throttled())
	s.FailNext(messengertest.SendAPI, 1, messengertest.AppRateLimited())
	s.FailNext(messengertest.SendAPI, 1, messengertest.ServerError(http.StatusServiceUnavailable))
	for range 2 {
		r := postJSON(t, s, textTo(d.PSID, "x"))
		requireError(t, r, 400, 613, 0, "(#613) Calls to this api have exceeded the rate limit.")
		require.Empty(t, r.Header.Get("Retry-After"), "Meta gives no Retry-After")
	}
	r := postJSON(t, s, textTo(d.PSID, "x"))
	requireError(t, r, 400, 4, 0, "Application request limit reached")
	require.True(t, r.Error.Transient)
	r = postJSON(t, s, textTo(d.PSID, "x"))
	requireError(t, r, 503, 2, 0, "unexpected error")
	require.True(t, r.Error.Transient)
	require.Empty(t, s.Sent(d.PSID), "failed calls sent nothing")

	require.Equal(t, 200, postJSON(t, s, textTo(d.PSID, "finally")).Status)
	st := s.Stats()
	require.Equal(t, messengertest.Stats{Requests: 5, OK: 1, Status4xx: 3, Status5xx: 1, Throttled: 3}, st)

	// A wrong token is refused before any fault is taken.
	s.FailNext(messengertest.SendAPI, 1, messengertest.Throttled())
	q := url.Values{"access_token": {"wrong"}}
	r = do(t, s.SendURL()+"?"+q.Encode(), "application/json", mustJSON(t, textTo(d.PSID, "x")), nil)
	require.Equal(t, 190, r.Error.Code)
	requireError(t, postJSON(t, s, textTo(d.PSID, "x")), 400, 613, 0, "rate limit")
}

// TestFaultAfterSending is the lost answer: Meta sent the message, the client
// saw a 500 and may send it again.
func TestFaultAfterSending(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	f := messengertest.ServerError(http.StatusInternalServerError)
	f.Apply = true
	s.FailNext(messengertest.SendAPI, 1, f)
	requireError(t, postJSON(t, s, textTo(d.PSID, "receipt")), 500, 2, 0, "unexpected error")
	require.Len(t, s.Sent(d.PSID), 1)
}

func TestTimeoutDropsTheConnection(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	s.FailNext(messengertest.SendAPI, 1, messengertest.Timeout(0))

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	q := url.Values{"access_token": {s.PageToken()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.SendURL()+"?"+q.Encode(), bytes.NewReader(mustJSON(t, textTo(d.PSID, "x"))))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	began := time.Now()
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(began), 5*time.Second)
	require.Equal(t, 1, s.Stats().Timeouts)

	// With its own short delay the fault drops the connection by itself.
	s.FailNext(messengertest.SendAPI, 1, messengertest.Timeout(20*time.Millisecond))
	req, err = http.NewRequestWithContext(t.Context(), http.MethodPost, s.SendURL()+"?"+q.Encode(), bytes.NewReader(mustJSON(t, textTo(d.PSID, "x"))))
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err)
	require.Equal(t, 200, postJSON(t, s, textTo(d.PSID, "x")).Status)
}
