package messenger_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/chatpay/chatpay/bot/messenger"
)

func FuzzParseWebhook(f *testing.F) {
	for _, seed := range []string{
		textMessage,
		feedComment,
		signedBody,
		`{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":"1527459824","postback":{"mid":"m","title":"t","payload":"p"}}]}]}`,
		`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1457764197627,"message":{"is_echo":true,"app_id":1517776481860111,"mid":"m","text":"x"}}]}]}`,
		`{"object":"page","entry":[{"id":"1","changes":[{"field":"messages","value":{"sender":{"id":"2"},"recipient":{"id":"1"},"message":{"mid":"m","text":"x"}}}]}]}`,
		`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"delivery":{"watermark":1}}]}]}`,
		`{"object":"page","entry":[{"id":1e400}]}`,
		`{"object":"page","entry":[{"id":"1","time":-5,"messaging":[{"sender":{"id":"2"},"timestamp":1e300,"message":{}}]}]}`,
		`{"object":"instagram","entry":[]}`,
		`{"object":"page","entry":[`,
		``,
	} {
		f.Add([]byte(seed))
	}
	known := map[messenger.Kind]bool{
		messenger.KindMessage: true, messenger.KindPostback: true, messenger.KindEcho: true, messenger.KindComment: true,
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := messenger.ParseWebhook(body)
		if !json.Valid(body) && err == nil {
			t.Fatalf("invalid JSON parsed without error: %q", body)
		}
		if err != nil {
			if events != nil {
				t.Fatalf("events returned with an error: %v", err)
			}
			return
		}
		for _, ev := range events {
			if !known[ev.Kind] {
				t.Fatalf("unknown kind %q", ev.Kind)
			}
			if !json.Valid(ev.Raw) {
				t.Fatalf("event Raw is not JSON: %q", ev.Raw)
			}
			switch ev.Kind {
			case messenger.KindComment:
				if ev.CommentID == "" {
					t.Fatal("a comment without an id")
				}
			default:
				if ev.PSID == "" {
					t.Fatalf("a %s without a PSID", ev.Kind)
				}
			}
			if ev.IsEcho != (ev.Kind == messenger.KindEcho) {
				t.Fatalf("IsEcho %v on a %s", ev.IsEcho, ev.Kind)
			}
		}
		again, err := messenger.ParseWebhook(body)
		if err != nil || !reflect.DeepEqual(events, again) {
			t.Fatalf("parsing twice differs: %v", err)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	f.Add(testSecret, signedHeader, []byte(signedBody))
	f.Add(testSecret, "sha256=", []byte(signedBody))
	f.Add("", signedHeader, []byte(signedBody))
	f.Add("k", "sha1=abcdef", []byte("x"))
	f.Add("k", "sha256="+strings.Repeat("0", 64), []byte{})
	f.Add("k", "sha256="+strings.Repeat("g", 64), []byte{0xff, 0x00})
	f.Fuzz(func(t *testing.T, secret, header string, body []byte) {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		sum := mac.Sum(nil)

		// A reference check written differently from the code under test.
		want := false
		if rest, ok := strings.CutPrefix(header, "sha256="); ok && secret != "" {
			if got, err := hex.DecodeString(rest); err == nil {
				want = bytes.Equal(got, sum)
			}
		}
		if got := messenger.VerifySignature(secret, header, body); got != want {
			t.Fatalf("VerifySignature(%q, %q, %q) = %v, want %v", secret, header, body, got, want)
		}
		if secret == "" {
			return
		}
		good := "sha256=" + hex.EncodeToString(sum)
		if !messenger.VerifySignature(secret, good, body) {
			t.Fatal("the right signature was refused")
		}
		if messenger.VerifySignature(secret, good, append(append([]byte(nil), body...), '!')) {
			t.Fatal("a changed body was accepted")
		}
	})
}
