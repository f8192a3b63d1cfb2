package orders

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// matches reports whether an order with terms is found by s, as the stores decide it
// (apart from the code, which is a column).
func (s Search) matchesTerms(terms []string) bool {
	if len(s.Name) > 0 {
		all := true
		for _, w := range s.Name {
			all = all && slices.Contains(terms, w)
		}
		if all {
			return true
		}
	}
	for _, t := range terms {
		for _, p := range s.PhonePrefixes {
			if strings.HasPrefix(t, p) {
				return true
			}
		}
		if slices.Contains(s.PhoneTerms, t) {
			return true
		}
	}
	return false
}

func TestSearchMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		customer Customer
		query    string
		want     bool
	}{
		{Customer{Name: "Nguyễn Thị Lan"}, "lan", true},
		{Customer{Name: "Nguyễn Thị Lan"}, "nguyen", true},
		{Customer{Name: "Nguyễn Thị Lan"}, "NGUY", true},
		{Customer{Name: "Nguyễn Thị Lan"}, "Nguyễn lan", true},
		{Customer{Name: "Nguyễn Thị Lan"}, "lan nguyen", true},
		{Customer{Name: "Nguyễn Thị Lan"}, "nguyen hoa", false},
		{Customer{Name: "Nguyễn Thị Lan"}, "guyen", false}, // not the start of a word
		{Customer{Name: "Đặng Văn Đức"}, "dang duc", true},
		{Customer{Name: "Trần Ánh"}, "ÁNH", true},
		{Customer{Name: "สมชาย ใจดี"}, "ใจ", true},
		{Customer{Name: "สมชาย ใจดี"}, "สมชาย", true},
		{Customer{Name: "علي رضايي"}, "علی", true}, // Arabic yeh typed as Persian yeh
		{Customer{Name: "محمد\u200cرضا"}, "رضا", true},
		{Customer{Name: "O'Brien"}, "o'brien", true},
		{Customer{Phone: "+84 90 123 4567"}, "4567", true},
		{Customer{Phone: "+84 90 123 4567"}, "123 4567", true},
		{Customer{Phone: "+84 90 123 4567"}, "0901234567", true},
		{Customer{Phone: "+84 90 123 4567"}, "+84901234567", true},
		{Customer{Phone: "+84 90 123 4567"}, "567", false}, // too few digits
		{Customer{Phone: "+84 90 123 4567"}, "4568", false},
		{Customer{Phone: "0901234567"}, "+84 90 123 4567", true},
		{Customer{Phone: "0901234567"}, "090-123-4567", true},
		{Customer{Phone: "0901234567"}, "4567", true},
		{Customer{Phone: "0901234567"}, "+84 91 123 4567", false},
		{Customer{Phone: "۰۹۱۲۳۴۵۶۷۸۹"}, "09123456789", true}, // Persian digits
		{Customer{Phone: "09123456789"}, "۶۷۸۹", true},
		{Customer{Name: "Lan", Phone: "0901234567"}, "#4567", false}, // a code only
	}
	for _, c := range cases {
		got := ParseSearch(c.query).matchesTerms(SearchTerms(c.customer))
		require.Equal(t, c.want, got, "%q finds %+v", c.query, c.customer)
	}
}

func TestParseSearch(t *testing.T) {
	t.Parallel()
	require.Equal(t, Search{Code: "1001"}, ParseSearch(" #1001 "))
	require.Equal(t, Search{Code: "1001", PhonePrefixes: []string{"+1001"}}, ParseSearch("1001"))
	require.Equal(t, Search{Code: "12"}, ParseSearch("12"), "too few digits for a phone")
	require.Equal(t, Search{Code: "Lan", Name: []string{"lan"}}, ParseSearch("Lan"))
	s := ParseSearch("thi nguyen Lan")
	require.Empty(t, s.Code, "a code has no spaces")
	require.Equal(t, []string{"nguyen", "thi", "lan"}, s.Name, "the longest word leads")
	require.True(t, ParseSearch("   ").Empty())
	require.Equal(t, Search{Code: "!!!"}, ParseSearch("!!!"), "a code may be anything without spaces")
	long := strings.Repeat("a", 40)
	require.Equal(t, []string{strings.Repeat("a", maxTermRunes)}, ParseSearch(long).Name)
	require.Contains(t, SearchTerms(Customer{Name: long}), strings.Repeat("a", maxTermRunes))
}

func TestSearchTerms(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"+7654321090", "=765432109", "l", "la", "lan"},
		SearchTerms(Customer{Name: "Lan LAN", Phone: "090 123 4567"}))
	require.Empty(t, SearchTerms(Customer{}))
	require.Equal(t, []string{"+321"}, SearchTerms(Customer{Phone: "123"}), "short numbers have no full term")
	require.Empty(t, SearchTerms(Customer{Phone: strings.Repeat("1", 25)}), "not a phone number")
	many := strings.Repeat("w ", 20) + "a b c d e f g h i j"
	require.LessOrEqual(t, len(SearchTerms(Customer{Name: many})), maxNameWords)
}

// FuzzSearch checks that any query parses, that every term is valid text within the
// bounds, and that a name is always found by its own words.
func FuzzSearch(f *testing.F) {
	for _, seed := range []string{"", "#", "#1001", "Nguyễn Thị Lan", "+84 90 123 4567", "۰۹۱۲", "\u200c", "a\u0301", "ﻻ", "\xff"} {
		f.Add(seed, seed)
	}
	f.Fuzz(func(t *testing.T, name, q string) {
		s := ParseSearch(q)
		for _, w := range slices.Concat(s.Name, s.PhonePrefixes, s.PhoneTerms) {
			require.True(t, utf8.ValidString(w), "%q", w)
			require.NotEmpty(t, w)
		}
		terms := SearchTerms(Customer{Name: name, Phone: name})
		require.True(t, slices.IsSorted(terms))
		for _, term := range terms {
			require.True(t, utf8.ValidString(term), "%q", term)
			require.LessOrEqual(t, utf8.RuneCountInString(term), maxTermRunes)
		}
		if !phoneLike(name) && !strings.HasPrefix(strings.TrimSpace(name), "#") {
			if own := ParseSearch(name); len(own.Name) > 0 {
				require.True(t, own.matchesTerms(SearchTerms(Customer{Name: name})), "%q finds itself", name)
			}
		}
	})
}
