package orders

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Searching orders (OrderFilter.Query) by code, customer name or phone.
//
// An order is found by the terms SearchTerms derives from its customer when it is
// stored: every prefix of every word of the customer's name, folded (see foldText),
// and its phone number's digits, reversed, so that "ends with these digits" becomes
// "starts with", which an index answers. The stores keep the terms in an index table
// keyed by (shop, term, order), so each term's orders are read newest first straight
// from the index and a page of 50 costs the same whether a name is common or rare.
// Indexing prefixes, not only words, is what lets a term lookup answer a prefix
// search; the price is about a dozen rows per order. Substrings inside a word ("guyen"
// in "Nguyễn") are not found: people search names from the start of a word.
//
// Postgres's pg_trgm would answer substring searches too, but it needs CREATE
// EXTENSION, which the role chatpay runs as may not be allowed, and its GIN index
// returns matches unordered, so a common name would be sorted in full for every
// page. The same table on both stores keeps one behaviour and one contract suite.

const (
	// MaxSearchQuery is the longest search query, in characters.
	MaxSearchQuery = 100
	// maxTermRunes bounds an indexed prefix: longer words are indexed, and searched,
	// by their first maxTermRunes characters.
	maxTermRunes = 24
	// maxNameWords bounds the words of a name that are indexed, and of a query that
	// are searched.
	maxNameWords = 8
	// minPhoneSuffix is the fewest trailing digits a phone search matches on: fewer
	// would match a tenth or a hundredth of all orders, and a code besides.
	minPhoneSuffix = 4
	// minFullPhone is the fewest digits, without leading zeros, of a number that is
	// taken as complete, so that 0901234567 and +84 90 123 4567 find each other.
	minFullPhone = 7
	// maxPhoneDigits is the most digits a phone number has (E.164 allows 15); longer
	// runs of digits are not phone numbers.
	maxPhoneDigits = 20
)

// Term prefixes of phone terms. Name terms start with a letter or digit, so the
// kinds never collide.
const (
	// phoneSuffixTerm + reversed digits: the order's phone ends with the digits a
	// query reverses; a query matches every term that starts with its own.
	phoneSuffixTerm = "+"
	// phoneFullTerm + reversed digits without leading zeros: the whole number, for a
	// query that gives a longer form of it (a country code before it).
	phoneFullTerm = "="
)

// SearchMarker is the row of the search index that says an order's terms are written,
// and by which derivation of them: the stores write it with every order's terms.
// An order whose customer has a name or phone but no marker was stored by a build
// that did not index it (a replica still on the previous version during a rolling
// deploy) or indexed by an older derivation; the search repair job (Store.IndexSearch)
// finds such orders and writes their terms. A change to SearchTerms changes the
// marker too ("!2"), so that every order is indexed again the new way, a batch at a
// time, while search goes on working from the old terms; terms the new derivation no
// longer makes are for that change to delete, and Postgres's index of the markers
// (order_search_marked) is for it to make anew on the new one.
//
// Name terms start with a letter, mark or digit and phone terms with '+' or '=', so
// no search ever matches it.
const SearchMarker = "!1"

// SearchTerms returns the index terms an order with this customer is found by,
// sorted and without repeats.
func SearchTerms(c Customer) []string {
	var terms []string
	for _, w := range nameWords(c.Name) {
		r := []rune(w)
		for n := 1; n <= len(r); n++ {
			terms = append(terms, string(r[:n]))
		}
	}
	if d := phoneDigits(c.Phone); d != "" {
		terms = append(terms, phoneSuffixTerm+reverse(d))
		if full := strings.TrimLeft(d, "0"); len(full) >= minFullPhone {
			terms = append(terms, phoneFullTerm+reverse(full))
		}
	}
	slices.Sort(terms)
	return slices.Compact(terms)
}

// Search is a search query taken apart into what the stores look up. An order
// matches when its code is Code, or its customer's name has a word starting with
// each of Name, or one of its phone terms starts with one of PhonePrefixes or is
// one of PhoneTerms.
type Search struct {
	Code string
	// Name are folded word prefixes, longest first: the stores read the orders of
	// the first and check the rest, and a longer prefix has fewer orders.
	Name []string
	// PhonePrefixes are term prefixes (a phone ending with the query's digits);
	// PhoneTerms are whole terms (a stored number the query gives a longer form of).
	PhonePrefixes, PhoneTerms []string
}

// Empty reports whether the search can match nothing.
func (s Search) Empty() bool {
	return s.Code == "" && len(s.Name) == 0 && len(s.PhonePrefixes) == 0 && len(s.PhoneTerms) == 0
}

// ParseSearch takes a search query apart:
//   - "#1001" searches for the order code 1001 only;
//   - a query of digits, spaces and + - ( ) . is a code or a phone number: a phone
//     matches when it ends with the query's digits (at least 4), or, for a complete
//     number, when one is the other with a country code or a leading 0 changed;
//   - anything else is a code or a customer name: every word of the query must begin
//     a word of the name, ignoring case and Vietnamese diacritics ("nguyen lan"
//     finds "Nguyễn Thị Lan").
func ParseSearch(q string) Search {
	q = strings.TrimSpace(q)
	if code, ok := strings.CutPrefix(q, "#"); ok {
		return Search{Code: strings.TrimSpace(code)}
	}
	var s Search
	if q != "" && !strings.ContainsFunc(q, unicode.IsSpace) {
		s.Code = q
	}
	if !phoneLike(q) {
		s.Name = nameWords(q)
		for i, w := range s.Name {
			if r := []rune(w); len(r) > maxTermRunes {
				s.Name[i] = string(r[:maxTermRunes])
			}
		}
		slices.SortStableFunc(s.Name, func(a, b string) int {
			return utf8.RuneCountInString(b) - utf8.RuneCountInString(a)
		})
		s.Name = slices.Compact(s.Name)
		return s
	}
	d := phoneDigits(q)
	if len(d) < minPhoneSuffix {
		return s
	}
	full := strings.TrimLeft(d, "0")
	if len(full) >= minFullPhone {
		// The number without its leading zeros: 0901234567 finds +84 90 123 4567.
		s.PhonePrefixes = []string{phoneSuffixTerm + reverse(full)}
		// A stored number that this one ends with: +84 90 123 4567 finds 0901234567.
		rev := reverse(full)
		for n := minFullPhone; n < len(rev); n++ {
			s.PhoneTerms = append(s.PhoneTerms, phoneFullTerm+rev[:n])
		}
	} else {
		s.PhonePrefixes = []string{phoneSuffixTerm + reverse(d)}
	}
	return s
}

// phoneLike reports whether q is written like a phone number or an order code made
// of digits: digits (in any of the locales' scripts), spaces and + - ( ) . only.
func phoneLike(q string) bool {
	digits := false
	for _, r := range q {
		switch {
		case digitValue(r) >= 0:
			digits = true
		case r == ' ' || r == '+' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return false
		}
	}
	return digits
}

// phoneDigits returns the ASCII digits of a phone number, "" when it has none or
// more than a phone number has.
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if v := digitValue(r); v >= 0 {
			b.WriteByte(byte('0' + v))
		}
	}
	if b.Len() > maxPhoneDigits {
		return ""
	}
	return b.String()
}

// digitValue returns the value of a decimal digit in the scripts chatpay's locales
// write numbers in (ASCII, Persian and Arabic-Indic, Thai, and full-width), or -1.
func digitValue(r rune) int {
	for _, zero := range []rune{'0', '\u0660', '\u06F0', '\u0E50', '\uFF10'} {
		if r >= zero && r <= zero+9 {
			return int(r - zero)
		}
	}
	return -1
}

// nameWords returns the folded words of a name, or of a query for one: runs of
// letters, marks and digits, at most maxNameWords of them, without repeats.
func nameWords(s string) []string {
	var words []string
	for w := range strings.FieldsFuncSeq(foldText(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsNumber(r)
	}) {
		if r := []rune(w); len(r) > maxTermRunes {
			w = string(r[:maxTermRunes])
		}
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
		if len(words) == maxNameWords {
			break
		}
	}
	return words
}

// foldText lowers the case of s and removes what people leave out when they type a
// name in a search box: the diacritics of Latin letters (Vietnamese "Nguyễn Thị Ánh"
// becomes "nguyen thi anh", and "đ" becomes "d"), and the short vowel marks of
// Arabic script, whose Arabic forms of yeh and kaf become the Persian ones that
// Persian keyboards type. Thai marks are part of the word and stay. Digits of every
// script become ASCII digits.
func foldText(s string) string {
	var b strings.Builder
	latin := false // the last base letter was Latin, so its marks go
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			if latin || isArabicMark(r) {
				continue
			}
			b.WriteRune(r)
			continue
		}
		latin = r < 0x250 || r >= 0x1E00 && r <= 0x1EFF
		switch r {
		case 'đ', 'Đ':
			r = 'd'
		case 'ي', 'ى': // Arabic yeh and alef maksura
			r = 'ی'
		case 'ك': // Arabic kaf
			r = 'ک'
		}
		if v := digitValue(r); v >= 0 {
			r = rune('0' + v)
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// isArabicMark reports the harakat and other vowel marks of Arabic script.
func isArabicMark(r rune) bool {
	return r >= 0x064B && r <= 0x065F || r == 0x0670
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}
