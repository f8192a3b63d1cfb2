package auth

import (
	"context"
	"time"
)

// CheckSession answers whether a browser's token still has a working session, by the
// same rules as SessionUser (expiries, revocation, a disabled user), and returns its
// user; but it does not record the session as used.
//
// It is for checks the browser did not ask for: a long-lived stream (the dashboard's
// live events) checks its session again every so often while it stays open. Were
// those checks to count as use, a tab left open would keep its session from ever
// reaching the idle timeout, which exists precisely for browsers left unattended.
//
// It runs SessionUser itself, on a copy of the service whose store ignores
// TouchSession, so that any rule added to SessionUser applies here too.
func (s *Service) CheckSession(ctx context.Context, token string) (*User, error) {
	readOnly := *s
	readOnly.store = untouchedStore{s.store}
	u, _, err := readOnly.SessionUser(ctx, token)
	return u, err
}

// untouchedStore is a Store whose TouchSession does nothing.
type untouchedStore struct{ Store }

func (untouchedStore) TouchSession(context.Context, string, []byte, time.Time) error { return nil }
