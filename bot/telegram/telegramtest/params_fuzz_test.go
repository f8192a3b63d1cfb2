package telegramtest

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseParams checks that a field reads the same whether it arrives as
// multipart, urlencoded or JSON, and that arbitrary bodies never panic.
func FuzzParseParams(f *testing.F) {
	f.Add("text", "hello", []byte("garbage"), "multipart/form-data; boundary=x")
	f.Add("reply_markup", `{"inline_keyboard":[[{"text":"Pay","url":"https://x"}]]}`, []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n"), "multipart/form-data; boundary=x")
	f.Add("chat_id", "-1001234", []byte(`{"chat_id":1,"text":null}`), "application/json")
	f.Add("text", "émoji 🎉 & = ;", []byte("a=%zz&b"), "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, key, value string, raw []byte, ct string) {
		// Arbitrary bodies: an answer or an error, never a panic.
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(raw))
		req.Header.Set("Content-Type", ct)
		_, _ = parseParams(httptest.NewRecorder(), req)

		// Telegram's field names are ASCII words; multipart cannot carry
		// control characters or quotes in a name.
		if key == "" || !utf8.ValidString(value) || strings.IndexFunc(key, func(r rune) bool {
			return r < 0x21 || r > 0x7e || r == '"' || r == '\\'
		}) >= 0 {
			return
		}
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		if err := mw.WriteField(key, value); err != nil {
			t.Skip()
		}
		_ = mw.Close()
		js, _ := json.Marshal(map[string]string{key: value})
		bodies := map[string][]byte{
			mw.FormDataContentType():            mp.Bytes(),
			"application/x-www-form-urlencoded": []byte(url.Values{key: {value}}.Encode()),
			"application/json":                  js,
		}
		for ct, body := range bodies {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			p, err := parseParams(httptest.NewRecorder(), req)
			if err != nil {
				t.Fatalf("%s: %v", ct, err)
			}
			if p[key] != value {
				t.Fatalf("%s: %q = %q, want %q", ct, key, p[key], value)
			}
		}
	})
}
