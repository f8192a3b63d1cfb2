package omise_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/omise"
)

// FuzzVerifyWebhook feeds arbitrary timestamps, signature headers and bodies to
// VerifyWebhook, half of them carrying a genuine signature. Whatever comes in, it must
// not panic, must classify every failure as ErrSignature, and must accept only what an
// independent oracle accepts: a fresh timestamp of digits and, among the header's
// entries, the HMAC of "<timestamp>.<body>" under one of the configured secrets.
func FuzzVerifyWebhook(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"object":"event","id":"evnt_1","key":"charge.complete","data":{"object":"charge","id":"chrg_1"}}`)
	good, _ := omise.Sign(secretA, ts, body)
	f.Add(ts, good, body, false)
	f.Add(ts, "", body, true)
	f.Add(ts, good+","+good, body, false)
	f.Add("1799999699", good, body, false)
	f.Add("+1800000000", good, body, false)
	f.Add(" 1800000000", "zz,"+good, body, true)
	f.Add("", good, []byte{}, true)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte, signIt bool) {
		if signIt {
			if s, err := omise.Sign(secretB, ts, body); err == nil {
				sig = s + "," + sig
			}
		}
		h := http.Header{}
		h.Set(omise.TimestampHeader, ts)
		h.Set(omise.SignatureHeader, sig)
		err := omise.VerifyWebhook(h, body, now, secretA, secretB)
		if err != nil {
			if !errors.Is(err, gateway.ErrSignature) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if !oracleAccepts(h.Get(omise.TimestampHeader), h.Get(omise.SignatureHeader), body, now) {
			t.Fatalf("accepted what the oracle refuses: ts %q sig %q", ts, sig)
		}
	})
}

// oracleAccepts decides, independently of the code under test, whether a delivery is
// genuine and fresh.
func oracleAccepts(ts, sig string, body []byte, now time.Time) bool {
	if ts == "" || strings.Trim(ts, "0123456789") != "" {
		return false
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || unix < now.Unix()-300 || unix > now.Unix()+300 {
		return false
	}
	for _, secret := range []string{secretA, secretB} {
		key, _ := base64.StdEncoding.DecodeString(secret)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(ts + "."))
		m.Write(body)
		want := m.Sum(nil)
		for part := range strings.SplitSeq(sig, ",") {
			if got, err := hex.DecodeString(strings.TrimSpace(part)); err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}
