package sqlite

import "context"

// BackfillSearch indexes the orders queued for search indexing, batch at a time.
func (s *Store) BackfillSearch(ctx context.Context, batch int) error {
	return s.backfillSearch(ctx, batch)
}
