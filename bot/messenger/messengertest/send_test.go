package messengertest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger/messengertest"
)

func TestSendTextAnswersLikeMeta(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "Do you ship to Hanoi?")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.Status)

	r := postJSON(t, s, textTo(d.PSID, "Yes, 2 days."))
	require.Equal(t, http.StatusOK, r.Status)
	require.Nil(t, r.Error)
	require.Equal(t, d.PSID, r.RecipientID)
	require.True(t, strings.HasPrefix(r.MessageID, "m_"), r.MessageID)

	sent := s.Sent(d.PSID)
	require.Len(t, sent, 1)
	require.Equal(t, messengertest.Message{
		MID: r.MessageID, PSID: d.PSID, MessagingType: "RESPONSE", Text: "Yes, 2 days.", At: start,
	}, sent[0])

	conv, ok := s.Conversation(d.PSID)
	require.True(t, ok)
	require.True(t, conv.WindowOpen)
	require.Equal(t, []string{"customer", "bot"}, []string{conv.Lines[0].From, conv.Lines[1].From})
}

// TestSendAcceptsEveryEncoding sends the same message the ways Graph API
// clients do: JSON with the token in the body, form-encoded fields holding
// JSON, Meta's own sample with single-quoted JSON, and a bearer token.
func TestSendAcceptsEveryEncoding(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	meURL := s.URL() + "/" + s.GraphVersion() + "/me/messages"

	cases := map[string]struct {
		target, ct string
		body       string
		header     http.Header
	}{
		"json, token in body": {meURL, "application/json",
			`{"access_token":"` + s.PageToken() + `","recipient":{"id":"` + d.PSID + `"},"messaging_type":"RESPONSE","message":{"text":"a"}}`, nil},
		"json, numeric PSID": {meURL + "?access_token=" + url.QueryEscape(s.PageToken()), "application/json",
			`{"recipient":{"id":` + d.PSID + `},"message":{"text":"b"}}`, nil},
		"form with JSON fields": {s.SendURL(), "application/x-www-form-urlencoded",
			url.Values{"access_token": {s.PageToken()}, "recipient": {`{"id":"` + d.PSID + `"}`},
				"messaging_type": {"UPDATE"}, "message": {`{"text":"c"}`}}.Encode(), nil},
		"form as in Meta's sample": {s.SendURL(), "application/x-www-form-urlencoded",
			url.Values{"access_token": {s.PageToken()}, "recipient": {"{'id':'" + d.PSID + "'}"},
				"messaging_type": {"RESPONSE"}, "message": {"{'text':'d'}"}}.Encode(), nil},
		"bearer header": {s.SendURL(), "application/json",
			`{"recipient":{"id":"` + d.PSID + `"},"messaging_type":"RESPONSE","message":{"text":"e"}}`,
			http.Header{"Authorization": {"Bearer " + s.PageToken()}}},
	}
	for name, c := range cases {
		r := do(t, c.target, c.ct, []byte(c.body), c.header)
		require.Equal(t, http.StatusOK, r.Status, "%s: %+v", name, r.Error)
		require.Equal(t, d.PSID, r.RecipientID, name)
	}
	var texts []string
	for _, m := range s.Sent(d.PSID) {
		texts = append(texts, m.Text)
	}
	require.ElementsMatch(t, []string{"a", "b", "c", "d", "e"}, texts)
}

func TestAccessTokenAndAppSecretProof(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t, messengertest.WithPageToken("tok-1"), messengertest.WithAppSecret("sec-1"))
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	body := mustJSON(t, textTo(d.PSID, "x"))

	wrong := do(t, s.SendURL()+"?access_token=tok-2", "application/json", body, nil)
	requireError(t, wrong, 400, 190, 0, "Invalid OAuth access token.")
	require.Equal(t, "OAuthException", wrong.Error.Type)
	require.Contains(t, wrong.Header.Get("WWW-Authenticate"), "invalid_token")

	missing := do(t, s.SendURL(), "application/json", body, nil)
	requireError(t, missing, 400, 104, 0, "access token is required")

	// The proof is the hex HMAC-SHA256 of the token keyed with the secret.
	mac := hmac.New(sha256.New, []byte("sec-1"))
	mac.Write([]byte("tok-1"))
	proof := hex.EncodeToString(mac.Sum(nil))
	require.Equal(t, proof, s.AppSecretProof("tok-1"))
	ok := do(t, s.SendURL()+"?access_token=tok-1&appsecret_proof="+proof, "application/json", body, nil)
	require.Equal(t, 200, ok.Status, "%+v", ok.Error)

	bad := do(t, s.SendURL()+"?access_token=tok-1&appsecret_proof="+strings.Repeat("0", 64), "application/json", body, nil)
	requireError(t, bad, 400, 100, 0, "Invalid appsecret_proof")
	require.Equal(t, "GraphMethodException", bad.Error.Type)

	strict, _ := newPair(t, messengertest.WithRequireAppSecretProof(true))
	d2, err := strict.CustomerSays("Bo", "hi")
	require.NoError(t, err)
	r := postJSON(t, strict, textTo(d2.PSID, "x"))
	requireError(t, r, 400, 100, 0, "require an appsecret_proof")
}

func TestPathsOtherThanTheSendAPI(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	body := []byte(`{"recipient":{"id":"1"},"message":{"text":"x"}}`)
	q := "?access_token=" + url.QueryEscape(s.PageToken())
	requireError(t, do(t, s.URL()+"/v1.0/me/messages"+q, "application/json", body, nil), 400, 2500, 0, "Unknown path")
	requireError(t, do(t, s.URL()+"/"+s.GraphVersion()+"/999/messages"+q, "application/json", body, nil), 400, 100, 33, "Unsupported post request")
}

func TestButtonTemplateRoundTrips(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "I'll take it")
	require.NoError(t, err)
	r := postJSON(t, s, buttonTemplate(d.PSID, "Order #A1: 120,000 VND", []map[string]any{
		{"type": "web_url", "url": "https://pay.example.com/p/abc", "title": "Pay now"},
		{"type": "postback", "payload": "cancel:A1", "title": "Cancel"},
	}))
	require.Equal(t, 200, r.Status, "%+v", r.Error)
	m := s.Sent(d.PSID)[0]
	require.Equal(t, "Order #A1: 120,000 VND", m.Text)
	require.Equal(t, []messengertest.Button{
		{Type: "web_url", Title: "Pay now", URL: "https://pay.example.com/p/abc"},
		{Type: "postback", Title: "Cancel", Payload: "cancel:A1"},
	}, m.Buttons)
}

func buttonTemplate(psid, text string, buttons any) map[string]any {
	return map[string]any{
		"recipient":      map[string]any{"id": psid},
		"messaging_type": "RESPONSE",
		"message": map[string]any{"attachment": map[string]any{
			"type":    "template",
			"payload": map[string]any{"template_type": "button", "text": text, "buttons": buttons},
		}},
	}
}

func TestMetaLimitsAreEnforced(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	pay := map[string]any{"type": "web_url", "url": "https://x.example/p", "title": "Pay"}
	cases := map[string]struct {
		body          any
		code, subcode int
		msg           string
	}{
		"text over 2000": {textTo(d.PSID, strings.Repeat("a", 2001)), 100, 0, "must be less than or equal to 2000"},
		"empty text":     {textTo(d.PSID, ""), 100, 2018034, "Message cannot be empty"},
		"template text over 640": {buttonTemplate(d.PSID, strings.Repeat("b", 641), []any{pay}),
			100, 0, "name_placeholder[text] must be less than or equal to 640"},
		"no buttons":   {buttonTemplate(d.PSID, "t", []any{}), 100, 0, "must be non-empty"},
		"four buttons": {buttonTemplate(d.PSID, "t", []any{pay, pay, pay, pay}), 105, 0, "has too many elements"},
		"title over 20": {buttonTemplate(d.PSID, "t", []any{map[string]any{"type": "web_url", "url": "https://x.example", "title": strings.Repeat("c", 21)}}),
			100, 0, "[title] must be less than or equal to 20"},
		"bad url": {buttonTemplate(d.PSID, "t", []any{map[string]any{"type": "web_url", "url": "pay.example", "title": "Pay"}}),
			100, 0, "should represent a valid URL"},
		"postback without payload": {buttonTemplate(d.PSID, "t", []any{map[string]any{"type": "postback", "title": "Go"}}),
			100, 2018040, "Payload cannot be empty"},
		"bad messaging type": {map[string]any{"recipient": map[string]any{"id": d.PSID}, "messaging_type": "PROMO", "message": map[string]any{"text": "x"}},
			100, 0, "messaging_type must be one of"},
		"no recipient": {map[string]any{"message": map[string]any{"text": "x"}}, 100, 0, "recipient is required"},
		"quick replies are not emulated": {map[string]any{"recipient": map[string]any{"id": d.PSID},
			"message": map[string]any{"text": "x", "quick_replies": []any{map[string]any{"content_type": "text"}}}}, 100, 0, "is not emulated"},
	}
	for name, c := range cases {
		r := postJSON(t, s, c.body)
		require.Equal(t, 400, r.Status, name)
		require.Equal(t, c.code, r.Error.Code, "%s: %s", name, r.Error.Message)
		require.Equal(t, c.subcode, r.Error.Subcode, name)
		require.Contains(t, r.Error.Message, c.msg, name)
	}
	require.Empty(t, s.Sent(d.PSID))

	// Limits count characters, not bytes: 2000 Vietnamese letters pass, and
	// so do a 20-character title and three buttons.
	r := postJSON(t, s, textTo(d.PSID, strings.Repeat("ữ", 2000)))
	require.Equal(t, 200, r.Status, "%+v", r.Error)
	r = postJSON(t, s, buttonTemplate(d.PSID, strings.Repeat("ạ", 640), []any{pay, pay,
		map[string]any{"type": "postback", "payload": "p", "title": strings.Repeat("đ", 20)}}))
	require.Equal(t, 200, r.Status, "%+v", r.Error)
}

func TestUnknownAndSilentCustomers(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	silent := s.NewCustomer("Never Wrote")
	for _, psid := range []string{silent.PSID, "1234567890"} {
		requireError(t, postJSON(t, s, textTo(psid, "hello")), 400, 100, 2018001, "No matching user found")
	}
}

func TestStandardMessagingWindow(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t, messengertest.WithTemplates(messengertest.Template{Name: "order_shipped", Language: "en_US", BodyParams: 1}))
	d, err := s.CustomerSays("Ann", "where is my order?")
	require.NoError(t, err)

	s.Advance(24 * time.Hour)
	require.Equal(t, 200, postJSON(t, s, textTo(d.PSID, "at 24h exactly")).Status)
	s.Advance(time.Second)
	closed := postJSON(t, s, textTo(d.PSID, "too late"))
	requireError(t, closed, 400, 10, 2018278, "This message is sent outside of allowed window")
	update := textTo(d.PSID, "update")
	update["messaging_type"] = "UPDATE"
	requireError(t, postJSON(t, s, update), 400, 10, 2018278, "outside of allowed window")
	conv, _ := s.Conversation(d.PSID)
	require.False(t, conv.WindowOpen)

	// A utility template goes out after the window; an unapproved one or
	// one with the wrong parameters does not.
	r := postJSON(t, s, utility(d.PSID, "order_shipped", "en_US", "A1"))
	require.Equal(t, 200, r.Status, "%+v", r.Error)
	m := s.Sent(d.PSID)[1]
	require.Equal(t, "UTILITY", m.MessagingType)
	require.Equal(t, "order_shipped", m.Template)
	require.Equal(t, []string{"A1"}, m.TemplateParams)
	requireError(t, postJSON(t, s, utility(d.PSID, "order_refunded", "en_US", "A1")), 400, 100, 0, "not approved")
	requireError(t, postJSON(t, s, utility(d.PSID, "order_shipped", "en_US")), 400, 100, 0, "expects 1 body parameters")
	requireError(t, postJSON(t, s, utility(d.PSID, "order_shipped", "vi_VN", "A1")), 400, 100, 0, "not approved")
	s.ApproveTemplate(messengertest.Template{Name: "order_shipped", Language: "vi_VN", BodyParams: -1})
	require.Equal(t, 200, postJSON(t, s, utility(d.PSID, "order_shipped", "vi_VN")).Status)

	// HUMAN_AGENT lasts 7 days from the customer's last message.
	tagged := textTo(d.PSID, "a person here")
	tagged["messaging_type"], tagged["tag"] = "MESSAGE_TAG", "HUMAN_AGENT"
	require.Equal(t, 200, postJSON(t, s, tagged).Status)
	s.Advance(6 * 24 * time.Hour)
	requireError(t, postJSON(t, s, tagged), 400, 10, 2018278, "outside of allowed window")

	// A postback is an interaction: the window opens again.
	_, err = s.Postback(d.PSID, "reorder:A1", "Order again")
	require.NoError(t, err)
	require.Equal(t, 200, postJSON(t, s, textTo(d.PSID, "sure")).Status)
}

func utility(psid, name, lang string, params ...string) map[string]any {
	var ps []any
	for _, p := range params {
		ps = append(ps, map[string]any{"type": "text", "text": p})
	}
	return map[string]any{
		"recipient":      map[string]any{"id": psid},
		"messaging_type": "UTILITY",
		"message": map[string]any{"template": map[string]any{
			"name": name, "language": map[string]any{"code": lang},
			"components": []any{map[string]any{"type": "body", "parameters": ps}},
		}},
	}
}

func TestBlockedCustomer(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	s.Block(d.PSID)
	requireError(t, postJSON(t, s, textTo(d.PSID, "hello?")), 400, 551, 1545041, "This person isn't available right now.")
	s.Unblock(d.PSID)
	require.Equal(t, 200, postJSON(t, s, textTo(d.PSID, "hello")).Status)
}

func TestSenderAction(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	r := postJSON(t, s, map[string]any{"recipient": map[string]any{"id": d.PSID}, "sender_action": "typing_on"})
	require.Equal(t, 200, r.Status, "%+v", r.Error)
	require.Equal(t, d.PSID, r.RecipientID)
	require.Empty(t, r.MessageID)
	require.Empty(t, s.Sent(d.PSID))
}
