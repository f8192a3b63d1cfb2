package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/chatpay/chatpay/orders"
)

// listQuery builds a list query's SQL and its arguments. args[0] is the execution
// mode, not a parameter: placeholders count from args[1].
type listQuery struct {
	args []any
}

func newListQuery() *listQuery { return &listQuery{args: []any{pgx.QueryExecModeExec}} }

// arg binds v and returns its placeholder.
func (q *listQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args)-1)
}

// filter returns the conditions of f's filters on orders o, not of its page
// (BeforeID, Limit) nor its search, starting with the shop.
func (q *listQuery) filter(shop string, f orders.OrderFilter) ([]string, error) {
	where := []string{"o.shop_id = " + shop}
	if f.Status != "" {
		where = append(where, "o.status = "+q.arg(f.Status))
	}
	if f.PaymentStatus != "" {
		where = append(where, "o.payment_status = "+q.arg(f.PaymentStatus))
	}
	switch f.Channel {
	case "":
	case orders.ChannelNone:
		where = append(where, "o.customer_channel = ''")
	default:
		where = append(where, "o.customer_channel = "+q.arg(f.Channel))
	}
	if !f.CreatedFrom.IsZero() {
		where = append(where, "o.created_at >= "+q.arg(f.CreatedFrom))
	}
	if !f.CreatedBefore.IsZero() {
		where = append(where, "o.created_at < "+q.arg(f.CreatedBefore))
	}
	if len(f.Metadata) > 0 {
		// One containment test for every key, as one bound jsonb document: the GIN
		// index orders_metadata_idx (jsonb_path_ops) serves @>, and the query text does
		// not depend on the keys.
		doc, err := json.Marshal(f.Metadata)
		if err != nil {
			return nil, fmt.Errorf("postgres: metadata filter: %w", err)
		}
		where = append(where, "o.metadata @> "+q.arg(string(doc))+"::jsonb")
	}
	return where, nil
}

// ListOrders returns the shop's orders newest first. A Limit of zero or less means no
// limit. The SQL is built for the filters in use, rather than with "$n = ” OR …"
// conditions, so that each shape gets a plan that uses the indexes: a search reads the
// search index (searchSQL), a date range orders_shop_created_idx, and the other
// filters walk the shop newest first through the index of their column, or probe
// orders_metadata_idx, as the planner finds cheaper.
//
// The query runs as an unnamed statement (QueryExecModeExec), planned for its values
// each time, not as a cached prepared one: the best plan depends on how common the
// value is. After a few common ones Postgres switched the prepared statement to a
// generic plan that walks the shop newest first and filters, and a metadata value
// that matched nothing then read all 100,000 orders of BenchmarkListOrders' shop (29
// ms) instead of probing orders_metadata_idx (under 5 ms). Planning costs a fraction
// of a millisecond.
func (s *Store) ListOrders(ctx context.Context, shopID string, f orders.OrderFilter) ([]*orders.Order, error) {
	build := listSQL
	if f.Query != "" {
		build = searchSQL
	}
	sql, args, err := build(shopID, f)
	if err != nil || sql == "" {
		return nil, err
	}
	return s.listOrders(ctx, shopID, sql, args)
}

// listSQL is ListOrders' query for filters without a search.
func listSQL(shopID string, f orders.OrderFilter) (string, []any, error) {
	q := newListQuery()
	shop := q.arg(shopID)
	where, err := q.filter(shop, f)
	if err != nil {
		return "", nil, err
	}
	order := " ORDER BY o.id DESC"
	if !f.CreatedFrom.IsZero() || !f.CreatedBefore.IsZero() {
		// A date range is read newest first by creation time, then ID, from
		// orders_shop_created_idx: walking the shop by ID would pass every newer order
		// to reach an old range, and reading the range then sorting it by ID would
		// sort all of a wide one. The page starts after BeforeID's order in the same
		// order.
		order = " ORDER BY o.created_at DESC, o.id DESC"
		if f.BeforeID != "" {
			where = append(where, "(o.created_at, o.id) < (SELECT b.created_at, b.id FROM orders b WHERE b.shop_id = "+
				shop+" AND b.id = "+q.arg(f.BeforeID)+")")
		}
	} else if f.BeforeID != "" {
		where = append(where, "o.id < "+q.arg(f.BeforeID))
	}
	sql := `SELECT ` + orderCols + ` WHERE ` + strings.Join(where, " AND ") + order
	if f.Limit > 0 {
		sql += " LIMIT " + q.arg(f.Limit)
	}
	return sql, q.args, nil
}

// searchSQL is ListOrders' query for a search (orders.ParseSearch), with the other
// filters; "" when the search can find nothing. Each way of matching (the code, the name, the phone forms) reads its own
// newest page, from the orders' unique code or from order_search's primary key in ID
// order, and the page is the newest of their union: the newest n of a union are among
// the newest n of each part. A common name costs a page's worth of index rows, not
// the shop's.
func searchSQL(shopID string, f orders.OrderFilter) (string, []any, error) {
	search := orders.ParseSearch(f.Query)
	if search.Empty() {
		return "", nil, nil
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := newListQuery()
	shop := q.arg(shopID)
	base, err := q.filter(shop, f)
	if err != nil {
		return "", nil, err
	}
	limit := q.arg(f.Limit)
	before := ""
	if f.BeforeID != "" {
		before = q.arg(f.BeforeID)
	}
	var parts []string
	if search.Code != "" {
		where := slices.Concat(base, []string{"o.code = " + q.arg(search.Code)})
		if before != "" {
			where = append(where, "o.id < "+before)
		}
		parts = append(parts, "(SELECT o.id FROM orders o WHERE "+strings.Join(where, " AND ")+")")
	}
	// termPart is one read of order_search: the newest orders with a term matching
	// cond that pass the other filters.
	termPart := func(cond string) {
		where := []string{"s.shop_id = " + shop, cond}
		if before != "" {
			where = append(where, "s.order_id < "+before)
		}
		from := "order_search s"
		if len(base) > 1 {
			// Filters besides the shop: check each candidate's order.
			from += " JOIN orders o ON o.id = s.order_id"
			where = append(where, base...)
		}
		parts = append(parts, "(SELECT s.order_id AS id FROM "+from+" WHERE "+strings.Join(where, " AND ")+
			" ORDER BY s.order_id DESC LIMIT "+limit+")")
	}
	if len(search.Name) > 0 {
		// The longest word leads (it has the fewest orders); the others must be
		// terms of the same order.
		cond := "s.term = " + q.arg(search.Name[0])
		for _, w := range search.Name[1:] {
			cond += " AND EXISTS (SELECT 1 FROM order_search x WHERE x.shop_id = s.shop_id AND x.term = " + q.arg(w) +
				" AND x.order_id = s.order_id)"
		}
		termPart(cond)
	}
	for _, p := range search.PhonePrefixes {
		// Phone terms continue with digits only, which sort below DEL.
		termPart("s.term >= " + q.arg(p) + " AND s.term < " + q.arg(p+"\x7f"))
	}
	if len(search.PhoneTerms) > 0 {
		termPart("s.term = ANY(" + q.arg(search.PhoneTerms) + "::text[])")
	}
	sql := `SELECT ` + orderCols + ` WHERE o.shop_id = ` + shop + ` AND o.id IN (SELECT id FROM (` +
		strings.Join(parts, " UNION ") + `) u ORDER BY id DESC LIMIT ` + limit + `) ORDER BY o.id DESC LIMIT ` + limit
	return sql, q.args, nil
}

// listOrders reads the orders sql selects, then their payments and shipments in one
// more round trip.
func (s *Store) listOrders(ctx context.Context, shopID, sql string, args []any) ([]*orders.Order, error) {
	list, err := getAll(ctx, s.pool, scanOrder, sql, args...)
	if err != nil || len(list) == 0 {
		return list, err
	}
	ids := make([]string, len(list))
	byID := make(map[string]*orders.Order, len(list))
	for i, o := range list {
		ids[i] = o.ID
		byID[o.ID] = o
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+paymentCols+` WHERE shop_id = $1 AND order_id = ANY($2) ORDER BY created_at, id`, shopID, ids).
		Query(func(rows pgx.Rows) error {
			ps, err := collect(rows, scanPayment)
			for _, p := range ps {
				o := byID[p.OrderID]
				o.Payments = append(o.Payments, p)
			}
			return err
		})
	b.Queue(`SELECT `+shipmentCols+` WHERE shop_id = $1 AND order_id = ANY($2) ORDER BY created_at, id`, shopID, ids).
		Query(func(rows pgx.Rows) error {
			ss, err := collect(rows, scanShipment)
			for _, sh := range ss {
				o := byID[sh.OrderID]
				o.Shipments = append(o.Shipments, sh)
			}
			return err
		})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return list, nil
}

// insertSearchTermsSQL writes an order's search terms (orders.SearchTerms), given as
// one array, and orders.SearchMarker with them, in the order's transaction. Rows
// already there are kept rather than failing the transaction, as IndexSearch keeps
// them.
const insertSearchTermsSQL = `INSERT INTO order_search (shop_id, term, order_id)
	SELECT $1, unnest(array_append($2::text[], '` + orders.SearchMarker + `')), $3 ON CONFLICT DO NOTHING`

// writeSearchRowsSQL writes rows of order_search for several orders, as three
// parallel arrays (shop, term, order), keeping rows already there, and counts the
// orders that got a row other than $4, the marker: those that got search terms they
// did not have.
const writeSearchRowsSQL = `WITH written AS (
		INSERT INTO order_search (shop_id, term, order_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING
		RETURNING order_id, term)
	SELECT count(DISTINCT order_id) FROM written WHERE term <> $4`

// searchRows collects the rows writeSearchRowsSQL writes.
type searchRows struct{ shops, terms, ids []string }

// add adds an order's rows: its terms (orders.SearchTerms) and the marker.
func (r *searchRows) add(shopID, orderID string, terms []string) {
	for _, t := range append(terms, orders.SearchMarker) {
		r.shops, r.terms, r.ids = append(r.shops, shopID), append(r.terms, t), append(r.ids, orderID)
	}
}

// write writes the rows in tx and returns how many orders got search terms.
func (r *searchRows) write(ctx context.Context, tx pgx.Tx) (int, error) {
	var n int
	err := tx.QueryRow(ctx, writeSearchRowsSQL, r.shops, r.terms, r.ids, orders.SearchMarker).Scan(&n)
	return n, err
}

// searchBackfillBatch is how many orders one transaction of backfillSearch indexes.
const searchBackfillBatch = 1000

// backfillSearch writes the search terms of the orders queued in
// order_search_pending (those that existed before migration 012), a batch per
// transaction, until none is left. It runs on the migration's connection, under its
// lock, so one replica does it.
func backfillSearch(ctx context.Context, conn *pgx.Conn, batch int) error {
	total := 0
	for {
		var n int
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			rows, _ := tx.Query(ctx, `SELECT o.id, o.shop_id, o.customer_name, o.customer_phone
				FROM order_search_pending p JOIN orders o ON o.id = p.order_id LIMIT $1`, batch)
			var add searchRows
			var done []string
			var o orders.Order
			_, err := pgx.ForEachRow(rows, []any{&o.ID, &o.ShopID, &o.Customer.Name, &o.Customer.Phone}, func() error {
				// An order without terms gets no rows, as when it is stored.
				if terms := orders.SearchTerms(o.Customer); len(terms) > 0 {
					add.add(o.ShopID, o.ID, terms)
				}
				done = append(done, o.ID)
				return nil
			})
			if err != nil {
				return err
			}
			n = len(done)
			if _, err := add.write(ctx, tx); err != nil {
				return err
			}
			if n < batch {
				// Pending rows without an order (none are expected) would otherwise
				// be read again forever.
				_, err = tx.Exec(ctx, `DELETE FROM order_search_pending`)
			} else {
				_, err = tx.Exec(ctx, `DELETE FROM order_search_pending WHERE order_id = ANY($1)`, done)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: index orders for search: %w", err)
		}
		total += n
		if n < batch {
			break
		}
	}
	if total > 0 {
		// The planner reads a term's orders from the index in order only when it
		// knows the term is common; without statistics it sorts all of them. Autovacuum
		// analyzes the table only after a while.
		if _, err := conn.Exec(ctx, "ANALYZE order_search"); err != nil {
			return fmt.Errorf("postgres: analyze order_search: %w", err)
		}
	}
	return nil
}
