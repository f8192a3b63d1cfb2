package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/chatpay/chatpay/orders"
)

// Params are argon2id's cost parameters.
type Params struct {
	// Memory is in KiB.
	Memory  uint32
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane):
// tens of milliseconds per sign-in on a small server, which is what lets many
// sign-ins run side by side there while still costing an attacker dearly per guess.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from a stored hash. A hash is trusted data, but a
// corrupted or planted one must not make a single verify allocate gigabytes.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 16
	maxThreads = 16
)

var b64 = base64.RawStdEncoding

// HashPassword returns password's argon2id hash as a PHC string with a fresh salt:
// $argon2id$v=19$m=MEMORY,t=TIME,p=THREADS$SALT$KEY (unpadded standard base64).
func HashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errMalformedHash is returned for a stored hash chatpay cannot read.
var errMalformedHash = errors.New("auth: malformed password hash")

// decodeHash parses a PHC string written by HashPassword.
func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errMalformedHash
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return p, nil, nil, errMalformedHash
	}
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > maxTime || threads == 0 || threads > maxThreads {
		return p, nil, nil, errMalformedHash
	}
	p.Threads = uint8(threads)
	if salt, err = b64.Strict().DecodeString(parts[4]); err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, errMalformedHash
	}
	if key, err = b64.Strict().DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errMalformedHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches encoded, comparing in constant time.
// An unreadable hash is an error, never a match.
func VerifyPassword(password, encoded string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than p (or
// cannot be read), so that a successful sign-in should store a fresh hash.
func NeedsRehash(encoded string, p Params) bool {
	got, _, _, err := decodeHash(encoded)
	return err != nil || got != p
}

// Password rules. Length is what makes a password strong; composition rules
// (a digit, a capital) only make people write Password1!. NIST SP 800-63B asks for a
// minimum length and a check against known-bad passwords, which is what this does.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// commonPasswords are refused outright; they lead every leaked-password list and
// pass the length rule.
var commonPasswords = map[string]bool{
	"123456789012": true, "1234567890123": true, "password1234": true, "passwordpassword": true,
	"qwertyuiopas": true, "qwerty123456": true, "iloveyou1234": true, "aaaaaaaaaaaa": true,
	"abcdefghijkl": true, "abc123abc123": true, "changeme1234": true, "letmein12345": true,
	"welcome12345": true, "administrator": true, "chatpay12345": true, "111111111111": true,
}

// CheckPassword returns an EINVALID error naming field "password" saying what is
// wrong with password for the user with this (normalised) email, or nil.
func CheckPassword(password, email string) error {
	bad := func(msg string, args ...any) error { return orders.Invalidf("password", msg, args...) }
	if !utf8.ValidString(password) {
		return bad("Password must be valid text.")
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return bad("Password must be at least %d characters long.", MinPasswordLen)
	case n > MaxPasswordLen:
		return bad("Password must be at most %d characters long.", MaxPasswordLen)
	}
	lower := strings.ToLower(password)
	distinct := map[rune]bool{}
	for _, r := range lower {
		distinct[r] = true
	}
	if len(distinct) < 5 {
		return bad("Password repeats too few characters; use a longer phrase.")
	}
	if commonPasswords[lower] {
		return bad("Password is too common.")
	}
	if local, _, _ := strings.Cut(email, "@"); len(local) >= 4 && strings.Contains(lower, local) {
		return bad("Password must not contain the email address.")
	}
	return nil
}

// GeneratePassword returns a random password: crypto/rand.Text's 26 characters of
// upper-case base32 (130 bits), which has no 0, 1 or 8 to confuse when copied by hand.
func GeneratePassword() string {
	return rand.Text()
}
