package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
)

// The dashboard's users and sessions (auth.Store) live in the orders database, so that
// one file or one Postgres holds all of a shop's data. Writes go through the writer
// pool, reads through the reader pool; every statement is scoped by shop_id except
// the session lookup by token hash, whose token is the credential.

var _ auth.Store = (*Store)(nil)

const userColumns = `id, shop_id, email, role, password_hash, created_at, disabled_at`

func scanUser(r interface{ Scan(...any) error }) (*auth.User, error) {
	var u auth.User
	var role string
	var created int64
	var disabled sql.NullInt64
	if err := r.Scan(&u.ID, &u.ShopID, &u.Email, &role, &u.PasswordHash, &created, &disabled); err != nil {
		return nil, err
	}
	u.Role, u.CreatedAt, u.DisabledAt = auth.Role(role), fromMicros(created), fromNullMicros(disabled)
	return &u, nil
}

func (s *Store) CreateUser(ctx context.Context, u *auth.User) error {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.ShopID, u.Email, string(u.Role), u.PasswordHash, micros(u.CreatedAt), nullMicros(u.DisabledAt))
	if isUniqueViolation(err) {
		return orders.Errorf(orders.ECONFLICT, "A user with this email already exists.")
	}
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	return nil
}

func (s *Store) getUser(ctx context.Context, where string, args ...any) (*auth.User, error) {
	u, err := scanUser(s.reader.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orders.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: user: %w", err)
	}
	return u, nil
}

func (s *Store) User(ctx context.Context, shopID, id string) (*auth.User, error) {
	return s.getUser(ctx, `shop_id = ? AND id = ?`, shopID, id)
}

func (s *Store) UserByEmail(ctx context.Context, shopID, email string) (*auth.User, error) {
	return s.getUser(ctx, `shop_id = ? AND email = ?`, shopID, email)
}

// execOne runs a write that must change exactly one row: none means not found.
func (s *Store) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := s.writer.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	} else if n == 0 {
		return orders.ErrNotFound
	}
	return nil
}

func (s *Store) UpdatePasswordHash(ctx context.Context, shopID, id, hash string) error {
	return s.execOne(ctx, "update password hash",
		`UPDATE users SET password_hash = ? WHERE shop_id = ? AND id = ?`, hash, shopID, id)
}

// DisableUser disables the user and revokes their open sessions in one transaction, so
// that no session outlives the decision.
func (s *Store) DisableUser(ctx context.Context, shopID, id string, t time.Time) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = coalesce(disabled_at, ?) WHERE shop_id = ? AND id = ?`,
		micros(t), shopID, id)
	if err != nil {
		return fmt.Errorf("sqlite: disable user: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: disable user: %w", err)
	} else if n == 0 {
		return orders.ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE shop_id = ? AND user_id = ? AND revoked_at IS NULL`,
		micros(t), shopID, id); err != nil {
		return fmt.Errorf("sqlite: revoke sessions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: disable user: %w", err)
	}
	return nil
}

func (s *Store) CreateSession(ctx context.Context, sess *auth.Session) error {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO sessions (token_hash, shop_id, user_id, created_at, last_seen_at, expires_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		blob(sess.TokenHash), sess.ShopID, sess.UserID, micros(sess.CreatedAt), micros(sess.LastSeenAt),
		micros(sess.ExpiresAt), nullMicros(sess.RevokedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash []byte) (*auth.Session, error) {
	var sess auth.Session
	var created, seen, expires int64
	var revoked sql.NullInt64
	err := s.reader.QueryRowContext(ctx, `SELECT token_hash, shop_id, user_id, created_at, last_seen_at, expires_at, revoked_at
		FROM sessions WHERE token_hash = ?`, blob(tokenHash)).
		Scan(&sess.TokenHash, &sess.ShopID, &sess.UserID, &created, &seen, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orders.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: session: %w", err)
	}
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	sess.RevokedAt = fromNullMicros(revoked)
	return &sess, nil
}

func (s *Store) TouchSession(ctx context.Context, shopID string, tokenHash []byte, t time.Time) error {
	// max() keeps LastSeenAt from moving backwards when two requests race.
	return s.execOne(ctx, "touch session",
		`UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE shop_id = ? AND token_hash = ?`,
		micros(t), shopID, blob(tokenHash))
}

func (s *Store) RevokeSession(ctx context.Context, shopID string, tokenHash []byte, t time.Time) error {
	return s.execOne(ctx, "revoke session",
		`UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE shop_id = ? AND token_hash = ?`,
		micros(t), shopID, blob(tokenHash))
}

func (s *Store) CreateSignInLink(ctx context.Context, l *auth.SignInLink) error {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO signin_links (token_hash, shop_id, user_id, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		blob(l.TokenHash), l.ShopID, l.UserID, micros(l.CreatedAt), micros(l.ExpiresAt), nullMicros(l.UsedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create sign-in link: %w", err)
	}
	return nil
}

func (s *Store) UseSignInLink(ctx context.Context, tokenHash []byte, t time.Time) (*auth.SignInLink, error) {
	var l auth.SignInLink
	var created, expires, used int64
	err := s.writer.QueryRowContext(ctx, `UPDATE signin_links SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING token_hash, shop_id, user_id, created_at, expires_at, used_at`,
		micros(t), blob(tokenHash), micros(t)).
		Scan(&l.TokenHash, &l.ShopID, &l.UserID, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orders.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: use sign-in link: %w", err)
	}
	usedAt := fromMicros(used)
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromMicros(created), fromMicros(expires), &usedAt
	return &l, nil
}

// sweepBatches runs a DELETE of at most batch rows (its parameters are the cutoff and
// batch) until one deletes fewer than batch, and returns how many rows it deleted.
// Every statement commits on its own, so the writer is free between batches for the
// requests and jobs waiting on it.
func (s *Store) sweepBatches(ctx context.Context, what, query string, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = auth.SweepBatch
	}
	total := 0
	for {
		res, err := s.writer.ExecContext(ctx, query, micros(cutoff), batch)
		if err != nil {
			return total, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		total += int(n)
		if n < int64(batch) {
			return total, nil
		}
	}
}

// DeleteEndedSessions deletes expired sessions and then revoked ones, each with its
// own statement so that each walks its own index (migration 017) from the oldest
// row (EXPLAIN QUERY PLAN shows a covering index search and no table scan); one
// statement with OR would depend on the planner combining both indexes. SQLite is
// built without DELETE ... LIMIT, so the batch is chosen by rowid in a subquery.
func (s *Store) DeleteEndedSessions(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	expired, err := s.sweepBatches(ctx, "delete expired sessions", `DELETE FROM sessions WHERE rowid IN
		(SELECT rowid FROM sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`, cutoff, batch)
	if err != nil {
		return expired, err
	}
	revoked, err := s.sweepBatches(ctx, "delete revoked sessions", `DELETE FROM sessions WHERE rowid IN
		(SELECT rowid FROM sessions WHERE revoked_at < ? ORDER BY revoked_at LIMIT ?)`, cutoff, batch)
	return expired + revoked, err
}

// DeleteSpentSignInLinks deletes expired sign-in links and then used ones, as
// DeleteEndedSessions does sessions.
func (s *Store) DeleteSpentSignInLinks(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	expired, err := s.sweepBatches(ctx, "delete expired sign-in links", `DELETE FROM signin_links WHERE rowid IN
		(SELECT rowid FROM signin_links WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`, cutoff, batch)
	if err != nil {
		return expired, err
	}
	used, err := s.sweepBatches(ctx, "delete used sign-in links", `DELETE FROM signin_links WHERE rowid IN
		(SELECT rowid FROM signin_links WHERE used_at < ? ORDER BY used_at LIMIT ?)`, cutoff, batch)
	return expired + used, err
}
