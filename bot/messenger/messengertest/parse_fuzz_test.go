package messengertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzSendRequest feeds arbitrary bodies to the Send API's parser and
// checks that it never panics, and that a message reads the same whether it
// arrives as JSON or as form fields holding JSON.
func FuzzSendRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"recipient":{"id":"25000000000000013"},"messaging_type":"RESPONSE","message":{"text":"hi"}}`), "hi", "RESPONSE")
	f.Add("application/json", []byte(`{"recipient":{"comment_id":"1_2"},"message":{"attachment":{"type":"template","payload":{"template_type":"button","text":"Pay?","buttons":[{"type":"web_url","url":"https://x","title":"Pay"},{"type":"postback","payload":7,"title":"No"}]}}}}`), "Giá 🎉", "UPDATE")
	f.Add("application/x-www-form-urlencoded", []byte("recipient={'id':'1'}&message={'text':'d'}&messaging_type=RESPONSE"), "", "MESSAGE_TAG")
	f.Add("application/json", []byte(`{"recipient":{"id":1},"messaging_type":"UTILITY","message":{"template":{"name":"t","language":"en","components":[{"type":"body","parameters":[{"type":"text","text":"A1"}]}]}}}`), "x", "UTILITY")
	f.Add("application/json", []byte(`{"recipient":null,"message":[1,2]}`), "\x00", "")
	f.Add("text/plain", []byte("{{{{"), "'quoted'", "response")
	f.Fuzz(func(t *testing.T, ct string, body []byte, text, mt string) {
		// Arbitrary bodies: an answer or an error, never a panic.
		req := httptest.NewRequest(http.MethodPost, "/v21.0/me/messages?access_token=x", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if fs, gerr := parseRequest(httptest.NewRecorder(), req); gerr == nil {
			if sr, gerr := decodeSend(fs); gerr == nil {
				_, _ = validate(sr)
			}
		}

		if !utf8.ValidString(text) || !utf8.ValidString(mt) {
			return
		}
		recipient := `{"id":"25000000000000013"}`
		message, err := json.Marshal(map[string]string{"text": text})
		if err != nil {
			t.Skip()
		}
		js, _ := json.Marshal(map[string]any{
			"recipient": json.RawMessage(recipient), "messaging_type": mt, "message": json.RawMessage(message),
		})
		form := url.Values{"recipient": {recipient}, "messaging_type": {mt}, "message": {string(message)}}.Encode()
		var got []*sendRequest
		for ct, b := range map[string][]byte{"application/json": js, "application/x-www-form-urlencoded": []byte(form)} {
			req := httptest.NewRequest(http.MethodPost, "/v21.0/me/messages", bytes.NewReader(b))
			req.Header.Set("Content-Type", ct)
			fs, gerr := parseRequest(httptest.NewRecorder(), req)
			if gerr != nil {
				t.Fatalf("%s: %v", ct, gerr)
			}
			sr, gerr := decodeSend(fs)
			if gerr != nil {
				t.Fatalf("%s: %v", ct, gerr)
			}
			if sr.message == nil || sr.message.Text == nil || *sr.message.Text != text {
				t.Fatalf("%s: text %v, want %q", ct, sr.message, text)
			}
			got = append(got, sr)
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Fatalf("JSON and form decode differently: %+v vs %+v", got[0], got[1])
		}
	})
}

// TestMetaEscapeRoundTrips checks the webhook encoder's escaping against the
// standard decoder for awkward text.
func TestMetaEscapeRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", "a/b</script>", "Giá 🎉 \u2028 \x7f", "\"quoted\" \\ back", string([]byte{0xff, 'x'})} {
		b, err := encodeJSON(map[string]string{"t": s})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b {
			if c >= utf8.RuneSelf {
				t.Fatalf("%q: non-ASCII byte in %s", s, b)
			}
		}
		var back map[string]string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: %v in %s", s, err, b)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // invalid bytes become U+FFFD, as encoding/json makes them
		}
		if back["t"] != want {
			t.Fatalf("%q came back as %q", s, back["t"])
		}
	}
}
