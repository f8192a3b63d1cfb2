package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/chatpay/chatpay/orders"
)

// indexSearchScanSQL finds orders to index for search: those after a cursor, in ID
// order, whose customer has a name or phone and whose search rows lack the marker.
// An order without name or phone has no terms, and no rows to look for. At 100,000
// orders EXPLAIN shows a merge anti-join of orders' primary key, from the cursor, with
// the markers' own index, order_search_marked (migration 021), index only, that stops
// at a batch's worth: 50 ms when no order is missing, where hashing the markers out of
// a scan of all of order_search took 120 ms at every batch. Both sides start at the
// cursor (s.order_id > $1 says so for the markers), so a batch after the first reads
// on from where the last stopped. The marker is in the SQL text rather than bound, so
// that the partial index's predicate matches whether Postgres plans for the values or
// a generic plan.
const indexSearchScanSQL = `SELECT o.id FROM orders o
	WHERE o.id > $1 AND (o.customer_name <> '' OR o.customer_phone <> '')
	AND NOT EXISTS (SELECT 1 FROM order_search s WHERE s.shop_id = o.shop_id AND s.term = '` + orders.SearchMarker + `' AND s.order_id = o.id AND s.order_id > $1)
	ORDER BY o.id LIMIT $2`

// indexSearchLockSQL reads the candidates that still lack the marker, with their
// customers, in the writing transaction, and share-locks them: a change to an order
// locks it first (Tx.LockOrder), so none can change a customer, or rewrite its
// rows, between this read and the commit. An order locked by a transaction under way
// is passed over rather than waited for; the next run finds it again. Each marker is
// one probe of order_search_marked.
const indexSearchLockSQL = `SELECT o.id, o.shop_id, o.customer_name, o.customer_phone FROM orders o
	WHERE o.id = ANY($1) AND NOT EXISTS (SELECT 1 FROM order_search s WHERE s.shop_id = o.shop_id AND s.term = '` + orders.SearchMarker + `' AND s.order_id = o.id)
	ORDER BY o.id FOR SHARE OF o SKIP LOCKED`

// IndexSearch writes the search rows of up to limit orders after afterID that lack
// them (see orders.Store). The candidates are found outside the transaction, so that
// the walk over orders holds no locks; the transaction then locks and reads those
// still lacking the marker and writes their rows in one statement.
func (s *Store) IndexSearch(ctx context.Context, afterID string, limit int) (string, int, error) {
	if limit <= 0 {
		return "", 0, fmt.Errorf("postgres: index search: limit %d", limit)
	}
	rows, _ := s.pool.Query(ctx, indexSearchScanSQL, afterID, limit)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", 0, fmt.Errorf("postgres: orders to index for search: %w", err)
	}
	if len(ids) == 0 {
		return "", 0, nil
	}
	next := ""
	if len(ids) == limit {
		next = ids[len(ids)-1]
	}
	var indexed int
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, indexSearchLockSQL, ids)
		var add searchRows
		var id, shopID string
		var c orders.Customer
		_, err := pgx.ForEachRow(rows, []any{&id, &shopID, &c.Name, &c.Phone}, func() error {
			// The marker is written even for a customer whose name and phone make no
			// terms, so that the order is not a candidate again.
			add.add(shopID, id, orders.SearchTerms(c))
			return nil
		})
		if err != nil || len(add.ids) == 0 {
			return err
		}
		indexed, err = add.write(ctx, tx)
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("postgres: index orders for search: %w", err)
	}
	return next, indexed, nil
}
