package auth

import (
	"context"
	"errors"
	"time"
)

// SweepGrace is how long a session or sign-in link is kept after it stopped working
// (expired, revoked or used). Support answers "who signed in to our dashboard, and
// when?" from these rows, usually a few days after the fact, so they are kept a week
// rather than deleted the moment they end. A row nobody can use any more holds no
// credential (only the token's SHA-256), so the week costs nothing but space.
const SweepGrace = 7 * 24 * time.Hour

// SweepBatch is how many rows one DELETE statement removes. Each batch is its own
// statement and transaction, so a backlog of a million rows (the tables have never
// been swept before this existed) never holds SQLite's only write lock, or Postgres's
// row locks, for longer than a thousand rows take.
const SweepBatch = 1000

// Sweeper deletes the sessions and sign-in links that stopped working long ago. Both
// stores implement it as part of Store. Each method deletes in statements of at most
// batch rows, looping until a statement deletes fewer, and returns how many rows it
// deleted in all, also when it fails part way (ctx cancelled): rows already deleted
// stay deleted.
type Sweeper interface {
	// DeleteEndedSessions deletes the sessions, of every shop, that expired or were
	// revoked before cutoff. A session that ended only through the idle timeout keeps
	// its row until its absolute expiry passes cutoff, which bounds it all the same.
	DeleteEndedSessions(ctx context.Context, cutoff time.Time, batch int) (int, error)
	// DeleteSpentSignInLinks deletes the sign-in links, of every shop, that were used
	// or expired before cutoff.
	DeleteSpentSignInLinks(ctx context.Context, cutoff time.Time, batch int) (int, error)
}

// SweepResult is how many rows a Sweep deleted.
type SweepResult struct {
	Sessions    int
	SignInLinks int
}

// Sweep deletes, through st, the sessions and sign-in links that stopped working more
// than SweepGrace before now. It sweeps the links even when the sessions fail, so one
// table's trouble does not let the other grow, and returns both counts with the
// errors joined.
func Sweep(ctx context.Context, st Sweeper, now time.Time) (SweepResult, error) {
	cutoff := now.Add(-SweepGrace)
	var r SweepResult
	var errS, errL error
	r.Sessions, errS = st.DeleteEndedSessions(ctx, cutoff, SweepBatch)
	r.SignInLinks, errL = st.DeleteSpentSignInLinks(ctx, cutoff, SweepBatch)
	return r, errors.Join(errS, errL)
}
