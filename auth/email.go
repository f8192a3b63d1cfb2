package auth

import (
	"strings"

	"github.com/chatpay/chatpay/orders"
)

// maxEmail is the longest address SMTP can carry (RFC 5321's 256-octet path minus the
// angle brackets).
const maxEmail = 254

// NormalizeEmail returns email trimmed and lower-cased, or an EINVALID error naming
// field "email" when it is not a plain address (local@domain.tld).
//
// The whole address is lower-cased, local part included: RFC 5321 lets a server treat
// "Lan@x" and "lan@x" differently, but no mail provider a shop uses does, and a
// sign-in that depended on case would only lock people out. Only ASCII is accepted:
// an internationalised domain is entered in its punycode (xn--) form. Quoted local
// parts, comments and IP-literal domains are refused; nobody signs in with them.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	bad := func(msg string) (string, error) {
		return "", orders.Invalidf("email", "%s", msg)
	}
	if e == "" {
		return bad("Email is required.")
	}
	if len(e) > maxEmail {
		return bad("Email is too long.")
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || strings.Contains(domain, "@") {
		return bad("Email must look like name@example.com.")
	}
	if local == "" || len(local) > 64 || !validLocal(local) {
		return bad("The part of the email before @ is not valid.")
	}
	if !validDomain(domain) {
		return bad("The part of the email after @ is not a valid domain.")
	}
	return e, nil
}

// validLocal accepts RFC 5322's dot-atom: atext runs separated by single dots.
func validLocal(s string) bool {
	if s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.':
		case strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validDomain accepts a DNS host name of at least two labels whose last label is not
// all digits (which would make it an IPv4 address, not a mail domain).
func validDomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := range len(l) {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.Trim(tld, "0123456789") != ""
}
