package bot

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strings"
)

// Card numbers (PANs) have 13 to 19 digits and end in a Luhn check digit.
const (
	minCardDigits = 13
	maxCardDigits = 19
)

// ContainsCardNumber reports whether text contains something that looks like a payment
// card number: 13 to 19 digits, possibly typed in groups separated by single spaces or
// dashes ("4111 1111 1111 1111", "4111-1111-1111-1111"), that pass the Luhn check.
// Customers paste card numbers into chats; chatpay must neither store nor echo them.
func ContainsCardNumber(text string) bool {
	found := false
	scanCards(text, func(int, int) bool {
		found = true
		return false
	})
	return found
}

// RedactCardNumbers replaces every digit of each card number in text with '•', keeping
// the separators so that the message still reads naturally. No digit survives, not even
// the last four: chatpay never echoes card numbers. Text without one is returned as is.
// Each digit becomes one rune, so the text keeps its length in runes.
func RedactCardNumbers(text string) string {
	var spans []cardSpan
	scanCards(text, func(start, end int) bool {
		spans = append(spans, cardSpan{start, end})
		return true
	})
	if len(spans) == 0 {
		return text
	}
	// Windows come ordered by their end; overlapping ones (a card number inside a
	// longer run of groups) are merged before writing.
	slices.SortFunc(spans, func(a, b cardSpan) int { return cmp.Compare(a.start, b.start) })
	var b strings.Builder
	b.Grow(len(text) + 2*maxCardDigits*len(spans))
	written := 0
	for _, sp := range spans {
		if sp.end <= written {
			continue
		}
		start := max(sp.start, written)
		b.WriteString(text[written:start])
		for i := start; i < sp.end; i++ {
			if isDigit(text[i]) {
				b.WriteString("•")
			} else {
				b.WriteByte(text[i])
			}
		}
		written = sp.end
	}
	b.WriteString(text[written:])
	return b.String()
}

// cardSpan is a byte range [start, end) of text.
type cardSpan struct{ start, end int }

// scanCards calls found with the byte range of every card number in s, until found
// returns false.
//
// Digits come in groups (maximal runs of ASCII digits); two groups are linked when
// exactly one space or dash separates them, and linked groups form a chain. A card
// number is any sequence of whole consecutive groups of one chain with 13 to 19 digits
// in all that passes Luhn. Looking at sub-chains, not only at whole chains, catches a
// card typed next to other numbers ("order 1001 4111 1111 1111 1111", "… 1111 12/25");
// requiring whole groups leaves long contiguous numbers (tracking codes, bank
// references) alone, and makes redaction final: after it, every chain left is a
// sub-chain of one already checked.
//
// It runs in linear time without allocating: for each group it walks back over at
// most 19 digits of the chain, kept in a fixed ring of the last 19 groups (a window of
// 13 to 19 digits cannot span more groups than that).
func scanCards(s string, found func(start, end int) bool) {
	var ring [maxCardDigits]cardSpan
	n, head := 0, 0 // groups in the ring; index of the newest
	prevEnd := -1   // end of the previous group of the chain, or -1
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		linked := prevEnd >= 0 && i == prevEnd+1 && (s[prevEnd] == ' ' || s[prevEnd] == '-')
		if !linked {
			n = 0
		}
		if j-i > maxCardDigits {
			// No card number can contain this group, so it ends the chain.
			n, prevEnd, i = 0, -1, j
			continue
		}
		head = (head + 1) % len(ring)
		ring[head] = cardSpan{i, j}
		n = min(n+1, len(ring))
		prevEnd = j

		// Luhn from the right: every second digit, starting with the one left of the
		// check digit, is doubled.
		sum, count := 0, 0
		for k := range n {
			g := ring[(head-k+len(ring))%len(ring)]
			for p := g.end - 1; p >= g.start; p-- {
				d := int(s[p] - '0')
				if count%2 == 1 {
					if d *= 2; d > 9 {
						d -= 9
					}
				}
				sum += d
				count++
			}
			if count > maxCardDigits {
				break
			}
			if count >= minCardDigits && sum%10 == 0 && !found(g.start, j) {
				return
			}
		}
		i = j
	}
}

// RedactCardNumbersJSON redacts card numbers in every string of a JSON document (a
// chat update as the platform sent it), so that what chatpay stores of a message never
// holds one. Numbers, keys and structure are left alone: a 13-digit chat id is not a
// card. So are the strings under identifier keys ("id", "mid", "…_id"): Meta writes
// its page, person, post and comment ids as strings of 15 to 17 digits, about one in
// ten of which passes Luhn, and they are the platform's, not something a person typed. It returns raw itself when nothing needed redacting or raw is not valid JSON
// (the caller rejects that separately).
func RedactCardNumbersJSON(raw []byte) []byte {
	if !bytes.Contains(raw, []byte(`\u`)) && !ContainsCardNumber(string(raw)) {
		// The common case: no digit run that passes Luhn anywhere, and no escape
		// that could hide one from this look at the raw bytes.
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return raw
	}
	changed := false
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if ContainsCardNumber(x) {
				changed = true
				return RedactCardNumbers(x)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			for k := range x {
				if _, isString := x[k].(string); isString && identifierKey(k) {
					continue
				}
				x[k] = walk(x[k])
			}
		}
		return v
	}
	v = walk(v)
	if !changed {
		return raw
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return raw
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// HasRedactedCard reports whether text holds what RedactCardNumbers leaves of a card
// number: at least 13 '•' in groups separated by single spaces or dashes. A handler
// that sees only the stored, redacted text uses it to tell the customer why.
func HasRedactedCard(text string) bool {
	run := 0
	prevSep := false
	for _, r := range text {
		switch {
		case r == '•':
			run++
			prevSep = false
			if run >= minCardDigits {
				return true
			}
		case (r == ' ' || r == '-') && run > 0 && !prevSep:
			prevSep = true
		default:
			run, prevSep = 0, false
		}
	}
	return false
}

// identifierKey reports whether a JSON key names a platform's identifier.
func identifierKey(k string) bool {
	return k == "id" || k == "mid" || strings.HasSuffix(k, "_id")
}
