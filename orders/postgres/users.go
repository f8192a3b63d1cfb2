package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
)

// The dashboard's users and sessions (auth.Store) live in the orders database, so that
// one Postgres holds all of a shop's data. Every statement is scoped by shop_id except
// the session lookup by token hash, whose token is the credential.

var _ auth.Store = (*Store)(nil)

const userColumns = `id, shop_id, email, role, password_hash, created_at, disabled_at`

func (s *Store) CreateUser(ctx context.Context, u *auth.User) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.ShopID, u.Email, string(u.Role), u.PasswordHash, u.CreatedAt, u.DisabledAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return orders.Errorf(orders.ECONFLICT, "A user with this email already exists.")
	}
	if err != nil {
		return fmt.Errorf("postgres: create user: %w", err)
	}
	return nil
}

func (s *Store) getUser(ctx context.Context, where string, args ...any) (*auth.User, error) {
	var u auth.User
	var role string
	err := s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, args...).
		Scan(&u.ID, &u.ShopID, &u.Email, &role, &u.PasswordHash, &u.CreatedAt, &u.DisabledAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, orders.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: user: %w", err)
	}
	u.Role = auth.Role(role)
	return &u, nil
}

func (s *Store) User(ctx context.Context, shopID, id string) (*auth.User, error) {
	return s.getUser(ctx, `shop_id = $1 AND id = $2`, shopID, id)
}

func (s *Store) UserByEmail(ctx context.Context, shopID, email string) (*auth.User, error) {
	return s.getUser(ctx, `shop_id = $1 AND email = $2`, shopID, email)
}

// execOne runs a write that must change exactly one row: none means not found.
func execOne(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, what, query string, args ...any) error {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return orders.ErrNotFound
	}
	return nil
}

func (s *Store) UpdatePasswordHash(ctx context.Context, shopID, id, hash string) error {
	return execOne(ctx, s.pool, "update password hash",
		`UPDATE users SET password_hash = $1 WHERE shop_id = $2 AND id = $3`, hash, shopID, id)
}

// DisableUser disables the user and revokes their open sessions in one transaction, so
// that no session outlives the decision.
func (s *Store) DisableUser(ctx context.Context, shopID, id string, t time.Time) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := execOne(ctx, tx, "disable user",
			`UPDATE users SET disabled_at = coalesce(disabled_at, $1) WHERE shop_id = $2 AND id = $3`, t, shopID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE shop_id = $2 AND user_id = $3 AND revoked_at IS NULL`,
			t, shopID, id); err != nil {
			return fmt.Errorf("postgres: revoke sessions: %w", err)
		}
		return nil
	})
}

func (s *Store) CreateSession(ctx context.Context, sess *auth.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, shop_id, user_id, created_at, last_seen_at, expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sess.TokenHash, sess.ShopID, sess.UserID, sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt, sess.RevokedAt)
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	return nil
}

func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash []byte) (*auth.Session, error) {
	var sess auth.Session
	err := s.pool.QueryRow(ctx, `SELECT token_hash, shop_id, user_id, created_at, last_seen_at, expires_at, revoked_at
		FROM sessions WHERE token_hash = $1`, tokenHash).
		Scan(&sess.TokenHash, &sess.ShopID, &sess.UserID, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt, &sess.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, orders.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: session: %w", err)
	}
	return &sess, nil
}

func (s *Store) TouchSession(ctx context.Context, shopID string, tokenHash []byte, t time.Time) error {
	// greatest() keeps LastSeenAt from moving backwards when two requests race.
	return execOne(ctx, s.pool, "touch session",
		`UPDATE sessions SET last_seen_at = greatest(last_seen_at, $1) WHERE shop_id = $2 AND token_hash = $3`,
		t, shopID, tokenHash)
}

func (s *Store) RevokeSession(ctx context.Context, shopID string, tokenHash []byte, t time.Time) error {
	return execOne(ctx, s.pool, "revoke session",
		`UPDATE sessions SET revoked_at = coalesce(revoked_at, $1) WHERE shop_id = $2 AND token_hash = $3`,
		t, shopID, tokenHash)
}

func (s *Store) CreateSignInLink(ctx context.Context, l *auth.SignInLink) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO signin_links (token_hash, shop_id, user_id, created_at, expires_at, used_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		l.TokenHash, l.ShopID, l.UserID, l.CreatedAt, l.ExpiresAt, l.UsedAt)
	if err != nil {
		return fmt.Errorf("postgres: create sign-in link: %w", err)
	}
	return nil
}

func (s *Store) UseSignInLink(ctx context.Context, tokenHash []byte, t time.Time) (*auth.SignInLink, error) {
	var l auth.SignInLink
	err := s.pool.QueryRow(ctx, `UPDATE signin_links SET used_at = $1
		WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
		RETURNING token_hash, shop_id, user_id, created_at, expires_at, used_at`,
		t, tokenHash).
		Scan(&l.TokenHash, &l.ShopID, &l.UserID, &l.CreatedAt, &l.ExpiresAt, &l.UsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, orders.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: use sign-in link: %w", err)
	}
	return &l, nil
}

// sweepBatches runs a DELETE of at most batch rows (its parameters are the cutoff and
// batch) until one deletes fewer than batch, and returns how many rows it deleted.
// Every statement is its own transaction, so no lock is held across batches.
func (s *Store) sweepBatches(ctx context.Context, what, query string, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = auth.SweepBatch
	}
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, query, cutoff, batch)
		if err != nil {
			return total, fmt.Errorf("postgres: %s: %w", what, err)
		}
		n := tag.RowsAffected()
		total += int(n)
		if n < int64(batch) {
			return total, nil
		}
	}
}

// DeleteEndedSessions deletes expired sessions and then revoked ones, each with its
// own statement so that each is a range scan of its own index (migration 018), oldest
// first. Postgres has no DELETE ... LIMIT, so the batch's keys are gathered into an
// array first: with "token_hash IN (subquery)" a generic plan (which pgx's cached
// statements may get) estimates a third of the table and joins it by a sequential
// scan, 150 ms at a million sessions, while "= ANY(ARRAY(...))" is a primary-key
// lookup in every plan. SKIP LOCKED passes over a row a request holds at that moment
// (a sign-out racing the sweep) instead of waiting for it; the next run takes it.
func (s *Store) DeleteEndedSessions(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	expired, err := s.sweepBatches(ctx, "delete expired sessions", `DELETE FROM sessions WHERE token_hash = ANY(ARRAY(
		SELECT token_hash FROM sessions WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`, cutoff, batch)
	if err != nil {
		return expired, err
	}
	revoked, err := s.sweepBatches(ctx, "delete revoked sessions", `DELETE FROM sessions WHERE token_hash = ANY(ARRAY(
		SELECT token_hash FROM sessions WHERE revoked_at < $1 ORDER BY revoked_at LIMIT $2 FOR UPDATE SKIP LOCKED))`, cutoff, batch)
	return expired + revoked, err
}

// DeleteSpentSignInLinks deletes expired sign-in links and then used ones, as
// DeleteEndedSessions does sessions.
func (s *Store) DeleteSpentSignInLinks(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	expired, err := s.sweepBatches(ctx, "delete expired sign-in links", `DELETE FROM signin_links WHERE token_hash = ANY(ARRAY(
		SELECT token_hash FROM signin_links WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`, cutoff, batch)
	if err != nil {
		return expired, err
	}
	used, err := s.sweepBatches(ctx, "delete used sign-in links", `DELETE FROM signin_links WHERE token_hash = ANY(ARRAY(
		SELECT token_hash FROM signin_links WHERE used_at < $1 ORDER BY used_at LIMIT $2 FOR UPDATE SKIP LOCKED))`, cutoff, batch)
	return expired + used, err
}
