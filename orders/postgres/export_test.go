package postgres

import "context"

// BackfillSearch indexes the orders queued for search indexing, batch at a time.
func (s *Store) BackfillSearch(ctx context.Context, batch int) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return backfillSearch(ctx, conn.Conn(), batch)
}
