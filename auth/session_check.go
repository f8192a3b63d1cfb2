package auth

import "context"

// CheckSession answers whether a browser's token still has a working session, by the
// same rules as SessionUser (expiries, revocation, a disabled user), and returns its
// user; but it does not record the session as used.
//
// It is for checks the browser did not ask for: a long-lived stream (the dashboard's
// live events) checks its session again every so often while it stays open. Were
// those checks to count as use, a tab left open would keep its session from ever
// reaching the idle timeout, which exists precisely for browsers left unattended.
//
// It applies SessionUser's own rules, so that any rule added there applies here too.
func (s *Service) CheckSession(ctx context.Context, token string) (*User, error) {
	u, _, err := s.sessionUser(ctx, token, false)
	return u, err
}
