package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// recordingSweeper records the sweeps it is asked for and answers with fixed counts.
type recordingSweeper struct {
	mu                  sync.Mutex
	sessions, links     []time.Time // cut-offs
	batches             []int
	nSessions, nLinks   int
	sessionErr, linkErr error
}

func (s *recordingSweeper) DeleteEndedSessions(_ context.Context, cutoff time.Time, batch int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = append(s.sessions, cutoff)
	s.batches = append(s.batches, batch)
	return s.nSessions, s.sessionErr
}

func (s *recordingSweeper) DeleteSpentSignInLinks(_ context.Context, cutoff time.Time, batch int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links = append(s.links, cutoff)
	s.batches = append(s.batches, batch)
	return s.nLinks, s.linkErr
}

// TestSweepWorkerCallsSweep checks that the worker sweeps both tables with the grace
// period counted back from the service's clock, logs what it deleted, and still sweeps
// the links when the sessions fail.
func TestSweepWorkerCallsSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	now := time.Date(2026, 5, 10, 3, 0, 0, 0, time.UTC)
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{b.shop}, Store: b.store, PublicURL: "https://pay.example",
		LinkKey: make([]byte, orders.LinkKeyLen), Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	var logs bytes.Buffer
	sw := &recordingSweeper{nSessions: 1200, nLinks: 3}
	j, err := New(Config{Service: svc, Gateways: gateway.NewRegistry(), Sweeper: sw,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)

	require.NoError(t, (&sweepWorker{j: j}).Work(ctx, job(orders.Sweep{}, 1)))
	cutoff := now.Add(-auth.SweepGrace)
	require.Equal(t, []time.Time{cutoff}, sw.sessions)
	require.Equal(t, []time.Time{cutoff}, sw.links)
	require.Equal(t, []int{auth.SweepBatch, auth.SweepBatch}, sw.batches)
	require.Contains(t, logs.String(), "sessions=1200 signin_links=3")

	sw.sessionErr = errors.New("database is locked")
	err = (&sweepWorker{j: j}).Work(ctx, job(orders.Sweep{}, 1))
	require.ErrorIs(t, err, sw.sessionErr, "River retries the job")
	require.Len(t, sw.links, 2, "the links are swept all the same")
}

// TestSweepWorkerOnStore runs the worker with the default sweeper, the service's own
// store, and checks that it is scheduled and deletes a session that ended long ago
// while keeping a live one.
func TestSweepWorkerOnStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	require.Same(t, b.store, b.jobs.cfg.Sweeper, "the SQLite store sweeps its own sessions")
	require.Len(t, b.jobs.RiverConfig().PeriodicJobs, 4, "reconcile, dispute reminders, search repair and the sweep")

	users, err := auth.NewService(auth.Config{Store: b.store, Params: &auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	require.NoError(t, err)
	u, err := users.AddUser(ctx, b.shop.ID, "owner@example.com", auth.RoleOwner, "correct horse battery staple")
	require.NoError(t, err)
	now := b.svc.Now()
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	for name, expires := range map[string]time.Time{
		"old":  now.Add(-auth.SweepGrace - time.Hour),
		"live": now.Add(time.Hour),
	} {
		require.NoError(t, b.store.CreateSession(ctx, &auth.Session{TokenHash: hash(name), ShopID: b.shop.ID, UserID: u.ID,
			CreatedAt: expires.Add(-time.Hour), LastSeenAt: expires.Add(-time.Hour), ExpiresAt: expires}))
	}

	require.NoError(t, (&sweepWorker{j: b.jobs}).Work(ctx, job(orders.Sweep{}, 1)))
	_, err = b.store.SessionByTokenHash(ctx, hash("old"))
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
	_, err = b.store.SessionByTokenHash(ctx, hash("live"))
	require.NoError(t, err)
}
