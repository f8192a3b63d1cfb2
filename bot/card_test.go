package bot_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
)

func TestCardNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"Plain", "4111111111111111", "••••••••••••••••"},
		{"Spaces", "my card 4111 1111 1111 1111 thanks", "my card •••• •••• •••• •••• thanks"},
		{"Dashes", "4111-1111-1111-1111", "••••-••••-••••-••••"},
		{"Amex15", "3782 822463 10005", "•••• •••••• •••••"},
		{"Visa13", "4222222222222", "•••••••••••••"},
		{"Nineteen", "6011 0009 9013 9424 009", "•••• •••• •••• •••• •••"},
		{"BetweenLetters", "card:4111111111111111.", "card:••••••••••••••••."},
		{"NextToAnOrderCode", "order 1001 4111 1111 1111 1111", "order 1001 •••• •••• •••• ••••"},
		{"NextToAnExpiry", "4111 1111 1111 1111 12 25", "•••• •••• •••• •••• 12 25"},
		{"Two", "4111111111111111 and 5500-0000-0000-0004", "•••••••••••••••• and ••••-••••-••••-••••"},
		{"Vietnamese", "Số thẻ: 4111 1111 1111 1111, hết hạn 12/25", "Số thẻ: •••• •••• •••• ••••, hết hạn 12/25"},
		{"LuhnFails", "4111 1111 1111 1112", "4111 1111 1111 1112"},
		{"Phone", "call +84 901 234 567", "call +84 901 234 567"},
		{"TooShort", "411111111111", "411111111111"},
		{"TooLongContiguous", "41111111111111111111", "41111111111111111111"},
		{"LongReference", "ref 123456789012345678903", "ref 123456789012345678903"},
		{"DoubleSpaceSplits", "4111  1111 1111 1111", "4111  1111 1111 1111"},
		{"SpaceAndDashSplit", "4111 -1111-1111-1111", "4111 -1111-1111-1111"},
		{"OtherSeparator", "4111.1111.1111.1111", "4111.1111.1111.1111"},
		{"Empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want != tt.text, bot.ContainsCardNumber(tt.text))
			got := bot.RedactCardNumbers(tt.text)
			require.Equal(t, tt.want, got)
			require.False(t, bot.ContainsCardNumber(got))
			require.Equal(t, utf8.RuneCountInString(tt.text), utf8.RuneCountInString(got))
		})
	}
}

// A 20-digit run of groups holds two overlapping 16-digit windows that both pass Luhn;
// the redaction covers their union.
func TestRedactCardNumbersOverlapping(t *testing.T) {
	t.Parallel()
	// Both the first and the last 16 digits of text pass Luhn.
	text := "1004 4111 1111 1111 1111"
	require.True(t, bot.ContainsCardNumber("1004 4111 1111 1111"))
	require.True(t, bot.ContainsCardNumber("4111 1111 1111 1111"))
	require.Equal(t, "•••• •••• •••• •••• ••••", bot.RedactCardNumbers(text))
}

func TestRedactCardNumbersKeepsTextWithoutCards(t *testing.T) {
	t.Parallel()
	text := "Đơn #1001: 2 x Áo thun @ 150.000; ship 30000; SĐT 0901234567"
	require.False(t, bot.ContainsCardNumber(text))
	require.Equal(t, text, bot.RedactCardNumbers(text))
}

func FuzzCardNumber(f *testing.F) {
	for _, s := range []string{
		"4111 1111 1111 1111", "4111-1111-1111-1111", "order 1001 4111 1111 1111 1111 12 25",
		"1004 4111 1111 1111 1111", "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0", "4111111111111111111111",
		"\xe2\x804111111111111111\x80", "số thẻ 5500-0000-0000-0004",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := bot.RedactCardNumbers(text)
		require.False(t, bot.ContainsCardNumber(got), "%q", got)
		require.Equal(t, utf8.RuneCountInString(text), utf8.RuneCountInString(got))
		if !bot.ContainsCardNumber(text) {
			require.Equal(t, text, got)
		} else {
			require.NotEqual(t, text, got)
		}
		// Only digits change, and only into bullets.
		require.Equal(t, strings.Map(keepNonDigit, text), strings.Map(keepNonDigit, strings.ReplaceAll(got, "•", "0")))
	})
}

// keepNonDigit maps every digit to '0', so that texts that differ only in digits
// (or in digits turned into bullets, mapped back to '0') compare equal.
func keepNonDigit(r rune) rune {
	if '0' <= r && r <= '9' {
		return '0'
	}
	return r
}

func BenchmarkContainsCardNumber(b *testing.B) {
	// A 4 KB message full of numbers that are not card numbers: prices, phone
	// numbers, order codes and dates, so that every group is looked at.
	var sb strings.Builder
	for sb.Len() < 4096 {
		sb.WriteString("Đơn 1001 2 x Áo thun @ 150.000 ship 30000 SĐT 0901 234 567 ngày 2024-01-15 mã 1234 5678 9012 3456 ")
	}
	text := sb.String()[:4096]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if bot.ContainsCardNumber(text) {
			b.Fatal("found a card number")
		}
	}
}

func BenchmarkRedactCardNumbers(b *testing.B) {
	var sb strings.Builder
	for sb.Len() < 4096 {
		sb.WriteString("Số thẻ của tôi là 4111 1111 1111 1111, hết hạn 12/25, đơn 1001. ")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		bot.RedactCardNumbers(text)
	}
}

func TestRedactCardNumbersJSON(t *testing.T) {
	t.Parallel()
	// A 13-digit supergroup id and a Luhn-valid number field are not cards; the text
	// is, also when spelled with JSON escapes.
	raw := []byte(`{"update_id":4111111111111111,"message":{"chat":{"id":-1001234567890},"text":"my card 4111 1111 1111 1111 exp 12/27","caption":"4111\u00201111\u00201111\u00201111"}}`)
	got := bot.RedactCardNumbersJSON(raw)
	require.NotContains(t, string(got), "4111 1111")
	require.NotContains(t, string(got), `4111\u0020`)
	require.Contains(t, string(got), `"update_id":4111111111111111`, "numbers are kept exactly")
	require.Contains(t, string(got), `-1001234567890`)
	require.Contains(t, string(got), "exp 12/27")
	var v map[string]any
	require.NoError(t, json.Unmarshal(got, &v), "still valid JSON")
	require.False(t, bot.ContainsCardNumber(v["message"].(map[string]any)["text"].(string)))

	plain := []byte(`{"update_id":7,"message":{"text":"Chào shop"}}`)
	require.Equal(t, &plain[0], &bot.RedactCardNumbersJSON(plain)[0], "nothing to redact: the same bytes")
	bad := []byte(`{"text":"4111 1111 1111 1111"`)
	require.Equal(t, bad, bot.RedactCardNumbersJSON(bad), "invalid JSON is left to the caller")
}

func FuzzRedactCardNumbersJSON(f *testing.F) {
	f.Add([]byte(`{"message":{"text":"4111 1111 1111 1111"}}`))
	f.Add([]byte(`{"a":[1,"5500-0000-0000-0004",{"b":"x"}],"n":4111111111111111}`))
	f.Add([]byte(`"4111\u00201111\u00201111\u00201111"`))
	f.Add([]byte(`{"sender":{"id":"4111111111111111"},"message":{"mid":"m_4111111111111111","text":"4111111111111111"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := bot.RedactCardNumbersJSON(raw)
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return
		}
		var w any
		require.NoError(t, json.Unmarshal(got, &w), "valid JSON stays valid")
		var check func(any)
		check = func(v any) {
			switch x := v.(type) {
			case string:
				require.False(t, bot.ContainsCardNumber(x), "a card survived in %q", x)
			case []any:
				for _, e := range x {
					check(e)
				}
			case map[string]any:
				for k, e := range x {
					if _, isString := e.(string); isString && (k == "id" || k == "mid" || strings.HasSuffix(k, "_id")) {
						continue // a platform's identifier, kept as sent
					}
					check(e)
				}
			}
		}
		check(w)
	})
}

func TestHasRedactedCard(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"my card 4111 1111 1111 1111 ok", "5500-0000-0000-0004", "4111111111111111"} {
		require.True(t, bot.HasRedactedCard(bot.RedactCardNumbers(text)), text)
		require.False(t, bot.HasRedactedCard(text), "not redacted: %s", text)
	}
	for _, text := range []string{"", "•••• •••• ••••", "price ••••••• 150000", "•••••••  ••••••"} {
		require.False(t, bot.HasRedactedCard(text), text)
	}
}

// Meta writes ids as strings of digits, and about one in ten passes Luhn: they must
// survive redaction, while a card number a person typed next to them must not.
func TestRedactCardNumbersJSONKeepsIdentifiers(t *testing.T) {
	t.Parallel()
	const luhnID = "4111111111111111"
	raw := []byte(`{"object":"page","entry":[{"id":"` + luhnID + `","time":1,"messaging":[{"sender":{"id":"` + luhnID + `"},` +
		`"recipient":{"id":"` + luhnID + `"},"message":{"mid":"` + luhnID + `","text":"thẻ 4111 1111 1111 1111"}}],` +
		`"changes":[{"field":"feed","value":{"comment_id":"` + luhnID + `","post_id":"` + luhnID + `","message":"4111111111111111"}}]}]}`)
	out := string(bot.RedactCardNumbersJSON(raw))
	require.Equal(t, 6, strings.Count(out, luhnID), "every id kept: %s", out)
	require.NotContains(t, out, "4111 1111 1111 1111")
	require.Contains(t, out, `"message":"••••••••••••••••"`)
}
