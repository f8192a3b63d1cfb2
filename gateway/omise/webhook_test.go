package omise_test

import (
	"encoding/base64"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/omise"
)

var (
	secretA = base64.StdEncoding.EncodeToString([]byte("whsec-current-0123456789abcdef"))
	secretB = base64.StdEncoding.EncodeToString([]byte("whsec-previous-0123456789abcdef"))
	secretC = base64.StdEncoding.EncodeToString([]byte("whsec-attacker-0123456789abcdef"))
	fixedT  = time.Date(2026, 3, 9, 9, 54, 53, 0, time.UTC)
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func signed(t testing.TB, body []byte, at time.Time, secrets ...string) http.Header {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set(omise.TimestampHeader, ts)
	sig := ""
	for i, s := range secrets {
		v, err := omise.Sign(s, ts, body)
		require.NoError(t, err)
		if i > 0 {
			sig += ","
		}
		sig += v
	}
	h.Set(omise.SignatureHeader, sig)
	return h
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	body := fixture(t, "charge_complete.json")
	cases := []struct {
		name    string
		header  http.Header
		body    []byte
		now     time.Time
		secrets []string
		ok      bool
	}{
		{"good", signed(t, body, fixedT, secretA), body, fixedT, []string{secretA}, true},
		{"two signatures during Omise's rotation, new one configured", signed(t, body, fixedT, secretB, secretA), body, fixedT, []string{secretA}, true},
		{"two signatures, old one still configured", signed(t, body, fixedT, secretB, secretA), body, fixedT, []string{secretB}, true},
		{"rotated on our side: old secret kept as second", signed(t, body, fixedT, secretB), body, fixedT, []string{secretA, secretB}, true},
		{"rotated away: old secret no longer configured", signed(t, body, fixedT, secretB), body, fixedT, []string{secretA}, false},
		{"edge of tolerance", signed(t, body, fixedT.Add(-omise.Tolerance), secretA), body, fixedT, []string{secretA}, true},
		{"stale", signed(t, body, fixedT.Add(-omise.Tolerance-time.Second), secretA), body, fixedT, []string{secretA}, false},
		{"future", signed(t, body, fixedT.Add(omise.Tolerance+time.Second), secretA), body, fixedT, []string{secretA}, false},
		{"wrong secret", signed(t, body, fixedT, secretC), body, fixedT, []string{secretA}, false},
		{"tampered body", signed(t, body, fixedT, secretA), append([]byte(nil), append(body, ' ')...), fixedT, []string{secretA}, false},
		{"malformed signature", http.Header{omise.TimestampHeader: {strconv.FormatInt(fixedT.Unix(), 10)}, omise.SignatureHeader: {"zz-not-hex"}}, body, fixedT, []string{secretA}, false},
		{"malformed timestamp", func() http.Header {
			h := signed(t, body, fixedT, secretA)
			h.Set(omise.TimestampHeader, "17e8")
			return h
		}(), body, fixedT, []string{secretA}, false},
		{"missing headers", http.Header{}, body, fixedT, []string{secretA}, false},
		{"no usable secret", signed(t, body, fixedT, secretA), body, fixedT, []string{"%%%"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := omise.VerifyWebhook(tc.header, tc.body, tc.now, tc.secrets...)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, gateway.ErrSignature)
			}
		})
	}
}

func TestTimestampIsSigned(t *testing.T) {
	t.Parallel()
	body := fixture(t, "charge_complete.json")
	h := signed(t, body, fixedT.Add(-time.Hour), secretA)
	// Replaying an old delivery with a fresh timestamp must break the MAC.
	h.Set(omise.TimestampHeader, strconv.FormatInt(fixedT.Unix(), 10))
	require.ErrorIs(t, omise.VerifyWebhook(h, body, fixedT, secretA), gateway.ErrSignature)
}

func TestParseSignatures(t *testing.T) {
	t.Parallel()
	good, err := omise.Sign(secretA, "1", []byte("x"))
	require.NoError(t, err)
	sigs, err := omise.ParseSignatures(" " + good + " , nothex, " + good[:10] + "," + good)
	require.NoError(t, err)
	require.Len(t, sigs, 2, "malformed entries are skipped, well-formed ones kept")
	_, err = omise.ParseSignatures("")
	require.ErrorIs(t, err, gateway.ErrSignature)
	_, err = omise.ParseSignatures(good + "," + good + "," + good + "," + good + "," + good)
	require.ErrorIs(t, err, gateway.ErrSignature, "more signatures than a rotation needs")
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	ev, err := omise.ParseEvent(fixture(t, "charge_complete.json"))
	require.NoError(t, err)
	require.Equal(t, "evnt_test_5h2m123lxlx4z7yh9a2", ev.ID)
	require.Equal(t, omise.KeyChargeComplete, ev.Key)
	require.Equal(t, "charge", ev.DataObject)
	require.Equal(t, "chrg_test_5h2m123abc456def", ev.DataID)
	require.Equal(t, ev.DataID, ev.ChargeID)
	require.Equal(t, 2026, ev.CreatedAt.Year())

	ev, err = omise.ParseEvent(fixture(t, "refund_create.json"))
	require.NoError(t, err)
	require.Equal(t, "refund", ev.DataObject)
	require.Equal(t, "rfnd_test_no1t4tnemucod0e51mo", ev.DataID)
	require.Equal(t, "chrg_test_no1t4tnemucod0e51mo", ev.ChargeID)

	for _, bad := range []string{
		``, `[]`, `{}`, `{"object":"charge","id":"evnt_1","key":"k","data":{"object":"charge","id":"c"}}`,
		`{"object":"event","id":"","key":"k","data":{"object":"charge","id":"c"}}`,
		`{"object":"event","id":"evnt_1","key":"","data":{"object":"charge","id":"c"}}`,
		`{"object":"event","id":"evnt_1","key":"k"}`,
		`{"object":"event","id":"evnt_1","key":"k","data":{"object":"charge"}}`,
		`{"object":"event","id":"evnt_1","key":"k","data":{"object":"charge","id":"../x"}}`,
		`{"object":"event","id":"evnt_1","key":"k","data":{"object":"refund","id":"r","charge":7}}`,
		`{"object":"event","id":"evnt_1","key":"k","created_at":"yesterday","data":{"object":"charge","id":"c"}}`,
		`{"object":"event","id":"evnt_1","key":"k","data":{"object":"charge","id":"c"}} {}`,
	} {
		_, err := omise.ParseEvent([]byte(bad))
		require.ErrorIs(t, err, gateway.ErrMalformed, bad)
	}
}

func FuzzParseSignatures(f *testing.F) {
	good, _ := omise.Sign(secretA, "1700000000", []byte("{}"))
	for _, s := range []string{"", good, good + "," + good, " ," + good + ",", "zz", good[:63], good + "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sigs, err := omise.ParseSignatures(s)
		if err != nil {
			require.ErrorIs(t, err, gateway.ErrSignature)
			return
		}
		require.NotEmpty(t, sigs)
		for _, sig := range sigs {
			require.Len(t, sig, 32)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	f.Add(fixture(f, "charge_complete.json"))
	f.Add(fixture(f, "refund_create.json"))
	f.Add([]byte(`{"object":"event","id":"evnt_1","key":"dispute.create","data":{"object":"dispute","id":"dspt_1","charge":{"id":"chrg_1"}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := omise.ParseEvent(body)
		if err != nil {
			require.ErrorIs(t, err, gateway.ErrMalformed)
			return
		}
		require.NotEmpty(t, ev.ID)
		require.NotEmpty(t, ev.Key)
		require.NotEmpty(t, ev.DataObject)
		require.NotEmpty(t, ev.DataID)
	})
}
