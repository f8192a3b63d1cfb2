package messenger_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger"
)

// signedBody and signedHeader are a body and its X-Hub-Signature-256 under
// testSecret, computed with `openssl dgst -sha256 -hmac appsecret-xyz`.
const (
	signedBody   = `{"object":"page","entry":[]}`
	signedHeader = "sha256=f6a3f26ec8e05d638dbff3474727bcf862cb68711a482f82d95f78ef913e7daf"
)

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(signedBody)
	require.True(t, messenger.VerifySignature(testSecret, signedHeader, body))
	// Hex digits in upper case decode to the same bytes.
	require.True(t, messenger.VerifySignature(testSecret, "sha256="+strings.ToUpper(signedHeader[7:]), body))

	bad := map[string]struct {
		secret, header string
		body           []byte
	}{
		"other secret":       {"appsecret-xyZ", signedHeader, body},
		"other body":         {testSecret, signedHeader, []byte(signedBody + " ")},
		"empty body":         {testSecret, signedHeader, nil},
		"empty secret":       {"", signedHeader, body},
		"empty header":       {testSecret, "", body},
		"no prefix":          {testSecret, signedHeader[7:], body},
		"sha1 prefix":        {testSecret, "sha1=" + signedHeader[7:], body},
		"upper-case prefix":  {testSecret, "SHA256=" + signedHeader[7:], body},
		"short":              {testSecret, signedHeader[:len(signedHeader)-2], body},
		"long":               {testSecret, signedHeader + "00", body},
		"not hex":            {testSecret, "sha256=" + strings.Repeat("zz", 32), body},
		"prefix only":        {testSecret, "sha256=", body},
		"space around":       {testSecret, " " + signedHeader, body},
		"one digit changed":  {testSecret, signedHeader[:len(signedHeader)-1] + "e", body},
		"two headers joined": {testSecret, signedHeader + "," + signedHeader, body},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.False(t, messenger.VerifySignature(tc.secret, tc.header, tc.body))
		})
	}
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	q := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1158201444"}, "hub.verify_token": {"meatyhamhock"}}
	got, ok := messenger.Handshake(q, "meatyhamhock")
	require.True(t, ok)
	require.Equal(t, "1158201444", got)

	with := func(k, v string) url.Values {
		c := url.Values{}
		for key, vs := range q {
			c[key] = append([]string(nil), vs...)
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c
	}
	cases := map[string]struct {
		q     url.Values
		token string
	}{
		"wrong token":         {q, "meatyhamhocK"},
		"token prefix":        {with("hub.verify_token", "meaty"), "meatyhamhock"},
		"no configured token": {with("hub.verify_token", ""), ""},
		"other mode":          {with("hub.mode", "unsubscribe"), "meatyhamhock"},
		"no mode":             {with("hub.mode", ""), "meatyhamhock"},
		"no challenge":        {with("hub.challenge", ""), "meatyhamhock"},
		"markup challenge":    {with("hub.challenge", "<script>alert(1)</script>"), "meatyhamhock"},
		"huge challenge":      {with("hub.challenge", strings.Repeat("1", 257)), "meatyhamhock"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ch, ok := messenger.Handshake(tc.q, tc.token)
			require.False(t, ok)
			require.Empty(t, ch)
		})
	}
}

// Payloads below follow the examples of Meta's webhook reference pages (see
// the package doc), with ids filled in.

const textMessage = `{
  "object": "page",
  "entry": [{
    "id": "682498302938465",
    "time": 1458692752478,
    "messaging": [{
      "sender": {"id": "24680135792468"},
      "recipient": {"id": "682498302938465"},
      "timestamp": 1458692752478,
      "message": {
        "mid": "mid.1457764197618:41d102a3e1ae206a38",
        "text": "hello, world!",
        "quick_reply": {"payload": "DEVELOPER_DEFINED_PAYLOAD"}
      }
    }]
  }]
}`

func TestParseMessage(t *testing.T) {
	t.Parallel()
	events, err := messenger.ParseWebhook([]byte(textMessage))
	require.NoError(t, err)
	require.Len(t, events, 1)
	ev := events[0]
	require.Equal(t, messenger.KindMessage, ev.Kind)
	require.Equal(t, "682498302938465", ev.PageID)
	require.Equal(t, "24680135792468", ev.PSID)
	require.Equal(t, "mid.1457764197618:41d102a3e1ae206a38", ev.Mid)
	require.Equal(t, "hello, world!", ev.Text)
	require.Equal(t, "DEVELOPER_DEFINED_PAYLOAD", ev.Payload)
	require.False(t, ev.IsEcho)
	require.Equal(t, time.UnixMilli(1458692752478).UTC(), ev.Timestamp)
	require.Empty(t, ev.CommentID)
	// Raw is this item alone, and is valid JSON.
	var item map[string]any
	require.NoError(t, json.Unmarshal(ev.Raw, &item))
	require.Contains(t, item, "message")
	require.NotContains(t, item, "entry")
}

func TestParseAttachmentOnlyMessage(t *testing.T) {
	t.Parallel()
	body := `{"object":"page","entry":[{"id":"682498302938465","time":1518479195594,"messaging":[{
		"sender":{"id":"24680135792468"},"recipient":{"id":"682498302938465"},"timestamp":1518479195308,
		"message":{"mid":"mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c","attachments":[{"type":"image","payload":{"url":"https://scontent.example/x.jpg"}}]}}]}]}`
	events, err := messenger.ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, messenger.KindMessage, events[0].Kind)
	require.Empty(t, events[0].Text)
	require.Equal(t, "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c", events[0].Mid)
	require.Contains(t, string(events[0].Raw), "attachments")
}

func TestParsePostback(t *testing.T) {
	t.Parallel()
	body := `{"object":"page","entry":[{"id":"682498302938465","time":1458692752478,"messaging":[{
		"sender":{"id":"24680135792468"},"recipient":{"id":"682498302938465"},"timestamp":1458692752478,
		"postback":{"mid":"m_MESSAGE-ID","title":"Cancel the whole or…","payload":"cancel:12"}}]}]}`
	events, err := messenger.ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.Len(t, events, 1)
	ev := events[0]
	require.Equal(t, messenger.KindPostback, ev.Kind)
	require.Equal(t, "24680135792468", ev.PSID)
	require.Equal(t, "m_MESSAGE-ID", ev.Mid)
	require.Equal(t, "cancel:12", ev.Payload)
	require.Equal(t, "Cancel the whole or…", ev.Text)
}

func TestParsePostbackFieldValueForm(t *testing.T) {
	t.Parallel()
	// The messaging_postbacks reference shows this field/value form, with a
	// string timestamp in seconds.
	body := `{"object":"page","entry":[{"id":"682498302938465","time":1527459825000,"changes":[{
		"field": "messaging_postbacks",
		"value": {
			"sender": {"id": "24680135792468"},
			"recipient": {"id": "682498302938465"},
			"timestamp": "1527459824",
			"postback": {"mid": "m_MESSAGE-ID", "title": "TITLE-FOR-THE-CTA", "payload": "USER-DEFINED-PAYLOAD",
				"referral": {"ref": "USER-DEFINED-REFERRAL-PARAM", "source": "SHORT-URL", "type": "OPEN_THREAD"}}
		}}]}]}`
	events, err := messenger.ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.Len(t, events, 1)
	ev := events[0]
	require.Equal(t, messenger.KindPostback, ev.Kind)
	require.Equal(t, "USER-DEFINED-PAYLOAD", ev.Payload)
	require.Equal(t, time.Unix(1527459824, 0).UTC(), ev.Timestamp)

	// The example's sender known only by user_ref cannot be answered by PSID.
	userRef := strings.Replace(body, `"sender": {"id": "24680135792468"}`, `"sender": {"user_ref": "USER-REF-ID"}`, 1)
	events, err = messenger.ParseWebhook([]byte(userRef))
	require.NoError(t, err)
	require.Empty(t, events)
}

func TestParseEcho(t *testing.T) {
	t.Parallel()
	// The message_echoes reference: app_id is a number there.
	body := `{"object":"page","entry":[{"id":"682498302938465","time":1457764198246,"messaging":[{
		"sender":{"id":"682498302938465"},
		"recipient":{"id":"24680135792468"},
		"timestamp":1457764197627,
		"message":{"is_echo":true,"app_id":1517776481860111,"metadata":"DEVELOPER_DEFINED_METADATA_STRING",
			"mid":"mid.1457764197618:41d102a3e1ae206a38","text":"Your order is ready."}}]}]}`
	events, err := messenger.ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.Len(t, events, 1)
	ev := events[0]
	require.Equal(t, messenger.KindEcho, ev.Kind)
	require.True(t, ev.IsEcho)
	require.Equal(t, "24680135792468", ev.PSID, "an echo's customer is its recipient")
	require.Equal(t, "1517776481860111", ev.AppID)
	require.Equal(t, "Your order is ready.", ev.Text)

	// Sent by a person from the page inbox: no app_id.
	inbox := strings.Replace(body, `"app_id":1517776481860111,`, ``, 1)
	events, err = messenger.ParseWebhook([]byte(inbox))
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Empty(t, events[0].AppID)
	require.Equal(t, messenger.KindEcho, events[0].Kind)

	// A string app_id reads the same.
	str := strings.Replace(body, `"app_id":1517776481860111`, `"app_id":"1517776481860111"`, 1)
	events, err = messenger.ParseWebhook([]byte(str))
	require.NoError(t, err)
	require.Equal(t, "1517776481860111", events[0].AppID)
}

const feedComment = `{
  "object": "page",
  "entry": [{
    "id": "682498302938465",
    "time": 1520383571,
    "changes": [{
      "field": "feed",
      "value": {
        "from": {"id": "1234567890321", "name": "Cindy Hoover"},
        "post": {"status_type": "added_photos", "is_published": true, "updated_time": "2018-03-07T00:46:09+0000", "id": "682498302938465_1544510968960590"},
        "message": "I'll take two, size M",
        "post_id": "682498302938465_1544510968960590",
        "comment_id": "1544510968960590_1544511245627229",
        "created_time": 1520383569,
        "item": "comment",
        "parent_id": "682498302938465_1544510968960590",
        "verb": "add"
      }
    }]
  }]
}`

func TestParseFeedComment(t *testing.T) {
	t.Parallel()
	events, err := messenger.ParseWebhook([]byte(feedComment))
	require.NoError(t, err)
	require.Len(t, events, 1)
	ev := events[0]
	require.Equal(t, messenger.KindComment, ev.Kind)
	require.Equal(t, "682498302938465", ev.PageID)
	require.Equal(t, "1544510968960590_1544511245627229", ev.CommentID)
	require.Equal(t, "682498302938465_1544510968960590", ev.PostID)
	require.Equal(t, "682498302938465_1544510968960590", ev.ParentID)
	require.Equal(t, "I'll take two, size M", ev.Text)
	require.Equal(t, messenger.From{ID: "1234567890321", Name: "Cindy Hoover"}, ev.From)
	require.Equal(t, time.Unix(1520383569, 0).UTC(), ev.Timestamp)
	require.Empty(t, ev.PSID)
	require.Empty(t, ev.Mid)
	var value map[string]any
	require.NoError(t, json.Unmarshal(ev.Raw, &value))
	require.Equal(t, "comment", value["item"])

	for _, verb := range []string{"edited", "remove", "hide"} {
		events, err := messenger.ParseWebhook([]byte(strings.Replace(feedComment, `"verb": "add"`, `"verb": "`+verb+`"`, 1)))
		require.NoError(t, err)
		require.Empty(t, events, verb)
	}
	// Other feed items (a new post, a reaction) are not comments.
	events, err = messenger.ParseWebhook([]byte(strings.Replace(feedComment, `"item": "comment"`, `"item": "reaction"`, 1)))
	require.NoError(t, err)
	require.Empty(t, events)
}

func TestParseBatchedEntries(t *testing.T) {
	t.Parallel()
	// Meta batches: several entries (pages), each with several items; reads
	// and deliveries among them are skipped, order is kept.
	body := `{"object":"page","entry":[
	  {"id":"111","time":1458668856463,"messaging":[
	    {"sender":{"id":"901"},"recipient":{"id":"111"},"timestamp":1458668856218,"message":{"mid":"m_1","text":"one"}},
	    {"sender":{"id":"901"},"recipient":{"id":"111"},"delivery":{"mids":["m_0"],"watermark":1458668856253}},
	    {"sender":{"id":"901"},"recipient":{"id":"111"},"timestamp":1458668856300,"read":{"watermark":1458668856253}},
	    {"sender":{"id":"902"},"recipient":{"id":"111"},"timestamp":1458668856400,"message":{"mid":"m_2","text":"two"}}
	  ]},
	  {"id":"222","time":1458668857000,"messaging":[
	    {"sender":{"id":"903"},"recipient":{"id":"222"},"timestamp":1458668856500,"postback":{"mid":"m_3","title":"Pay","payload":"pay:3"}},
	    {"sender":{"id":"903"},"recipient":{"id":"222"},"timestamp":1458668856600,"reaction":{"mid":"m_3","action":"react","emoji":"👍","reaction":"like"}}
	  ],
	  "changes":[{"field":"ratings","value":{"rating":5}}]}
	]}`
	events, err := messenger.ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.Len(t, events, 3)
	require.Equal(t, []string{"m_1", "m_2", "m_3"}, []string{events[0].Mid, events[1].Mid, events[2].Mid})
	require.Equal(t, []string{"111", "111", "222"}, []string{events[0].PageID, events[1].PageID, events[2].PageID})
	require.Equal(t, []string{"901", "902", "903"}, []string{events[0].PSID, events[1].PSID, events[2].PSID})
	require.Equal(t, messenger.KindPostback, events[2].Kind)
}

func TestParseTimestampFallsBackToEntryTime(t *testing.T) {
	t.Parallel()
	body := `{"object":"page","entry":[{"id":"111","time":1458668856463,"messaging":[
	    {"sender":{"id":"901"},"recipient":{"id":"111"},"message":{"mid":"m_1","text":"one"}}]}]}`
	events, err := messenger.ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.Equal(t, time.UnixMilli(1458668856463).UTC(), events[0].Timestamp)
}

func TestParseIgnoresUnknownFieldsAndSkipsUnknownKinds(t *testing.T) {
	t.Parallel()
	body := `{"object":"page","future":{"x":1},"entry":[{"id":"111","time":1,"standby":[{"sender":{"id":"9"},"message":{"mid":"s"}}],
	  "messaging":[{"sender":{"id":"901","extra":true},"recipient":{"id":"111"},"timestamp":1458668856218,"brand_new_event":{"a":1}},
	               {"sender":{"id":"901"},"recipient":{"id":"111"},"timestamp":1458668856218,"message":{"mid":"m_1","text":"hi","nlp":{"entities":{}},"tags":["x"]}}]}]}`
	events, err := messenger.ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "m_1", events[0].Mid)

	events, err = messenger.ParseWebhook([]byte(`{"object":"page"}`))
	require.NoError(t, err)
	require.Empty(t, events)
}

func TestParseRejectsMalformed(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"not json":            `{"object":"page","entry":[`,
		"empty":               ``,
		"array":               `[]`,
		"instagram":           `{"object":"instagram","entry":[]}`,
		"no object":           `{"entry":[]}`,
		"entry not a list":    `{"object":"page","entry":{}}`,
		"messaging item text": `{"object":"page","entry":[{"id":"1","messaging":["hi"]}]}`,
		"message not object":  `{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"message":"hi"}]}]}`,
		"id is an object":     `{"object":"page","entry":[{"id":{"x":1}}]}`,
		"feed value a string": `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":"comment"}]}]}`,
		"comment from bad":    `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_2","from":"me"}}]}]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			events, err := messenger.ParseWebhook([]byte(body))
			require.Error(t, err)
			require.Nil(t, events)
		})
	}
}
