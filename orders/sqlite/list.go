package sqlite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chatpay/chatpay/orders"
)

// ListOrders returns the shop's orders newest first (by UUIDv7 ID), filtered and paged.
// Each shape of filter is read the way that stays fast at 100,000 orders in the shop
// (BenchmarkListOrders measures each): a search from the search index (listSearch), a
// date range from orders_shop_created_id, a single metadata key from order_metadata,
// and anything else by walking the shop's orders newest first through the index of
// the filtered column, which SQLite picks.
func (s *Store) ListOrders(ctx context.Context, shopID string, f orders.OrderFilter) ([]*orders.Order, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	switch {
	case f.Query != "":
		return s.listSearch(ctx, shopID, f)
	case !f.CreatedFrom.IsZero() || !f.CreatedBefore.IsZero():
		return s.listCreated(ctx, shopID, f)
	case len(f.Metadata) == 1 && f.Status == "" && f.PaymentStatus == "" && f.Channel == "":
		return s.listMetadataKey(ctx, shopID, f)
	}
	var c conds
	c.filter(shopID, f)
	if f.BeforeID != "" {
		c.add("o.id < ?", f.BeforeID)
	}
	return loadOrders(ctx, s.rq, "WHERE "+c.sql()+" ORDER BY o.id DESC LIMIT ?", append(c.args, f.Limit)...)
}

// conds are the conditions of a list query on the orders table, aliased o.
type conds struct {
	where []string
	args  []any
}

func (c *conds) add(cond string, args ...any) {
	c.where = append(c.where, cond)
	c.args = append(c.args, args...)
}

func (c *conds) sql() string { return strings.Join(c.where, " AND ") }

// filter adds the conditions of f's filters, not of its page (BeforeID, Limit) nor
// its search, starting with the shop.
func (c *conds) filter(shopID string, f orders.OrderFilter) {
	c.add("o.shop_id = ?", shopID)
	if f.Status != "" {
		c.add("o.status = ?", f.Status)
	}
	if f.PaymentStatus != "" {
		c.add("o.payment_status = ?", f.PaymentStatus)
	}
	switch f.Channel {
	case "":
	case orders.ChannelNone:
		c.add("o.customer_channel = ''")
	default:
		c.add("o.customer_channel = ?", f.Channel)
	}
	if !f.CreatedFrom.IsZero() {
		c.add("o.created_at >= ?", micros(f.CreatedFrom))
	}
	if !f.CreatedBefore.IsZero() {
		c.add("o.created_at < ?", micros(f.CreatedBefore))
	}
	// The JSON path is bound rather than spliced into the SQL, so the query text
	// depends only on how many keys are filtered: the statement cache stays bounded
	// and a key cannot change the SQL. Keys are quoted in the path so that '.' is part
	// of the key, not a step; the Service allows no '"' or '\' in keys, which JSON
	// path quoting could not escape. Sorted keys keep one text per shape.
	for _, k := range slices.Sorted(maps.Keys(f.Metadata)) {
		c.add("json_extract(o.metadata, ?) = ?", `$."`+k+`"`, f.Metadata[k])
	}
}

// listMetadataKey lists the orders of a filter that is a single metadata key and
// value: its newest matches are read in ID order from order_metadata's primary key
// (migration 010), so a rare value costs as little as a common one; scanning orders
// for it read the whole shop when fewer than a page matched. The subquery holds the
// page itself, so the outer query only looks those orders up.
func (s *Store) listMetadataKey(ctx context.Context, shopID string, f orders.OrderFilter) ([]*orders.Order, error) {
	var c conds
	for k, v := range f.Metadata {
		sub := "SELECT m.order_id FROM order_metadata m WHERE m.shop_id = ? AND m.key = ? AND m.value = ?"
		args := []any{shopID, k, v}
		if f.BeforeID != "" {
			sub, args = sub+" AND m.order_id < ?", append(args, f.BeforeID)
		}
		c.add("o.shop_id = ?", shopID)
		c.add("o.id IN ("+sub+" ORDER BY m.order_id DESC LIMIT ?)", append(args, f.Limit)...)
	}
	return loadOrders(ctx, s.rq, "WHERE "+c.sql()+" ORDER BY o.id DESC LIMIT ?", append(c.args, f.Limit)...)
}

// listCreated lists the orders of a date range, newest first by creation time and
// then ID, read from orders_shop_created_id: walking the shop newest first by ID would
// pass every newer order to reach an old range, and reading the range then sorting it
// by ID would sort all of a wide one. The page starts after BeforeID's order in the
// same order.
func (s *Store) listCreated(ctx context.Context, shopID string, f orders.OrderFilter) ([]*orders.Order, error) {
	var c conds
	c.filter(shopID, f)
	if f.BeforeID != "" {
		c.add("(o.created_at, o.id) < (SELECT b.created_at, b.id FROM orders b WHERE b.shop_id = ? AND b.id = ?)", shopID, f.BeforeID)
	}
	return loadOrders(ctx, s.rq, "WHERE "+c.sql()+" ORDER BY o.created_at DESC, o.id DESC LIMIT ?", append(c.args, f.Limit)...)
}

// searchTermSlots is how many whole phone terms a search query text has room for:
// the list is padded to it, so that the query text, and with it the statement cache,
// does not vary with the length of the number searched for.
const searchTermSlots = 14

// listSearch lists the orders a search (orders.ParseSearch) finds, with the other
// filters. Each way of matching (the code, the name, each phone form) reads its own
// newest page, from the orders' unique code or from order_search's primary key in ID
// order, and the page is the newest of their union: the newest n of a union are among
// the newest n of each part. The search table drives each read (CROSS JOIN fixes the
// join order), so a common name costs a page's worth of rows, not the whole shop's.
func (s *Store) listSearch(ctx context.Context, shopID string, f orders.OrderFilter) ([]*orders.Order, error) {
	q := orders.ParseSearch(f.Query)
	if q.Empty() {
		return nil, nil
	}
	var base conds
	base.filter(shopID, f)
	var parts []string
	var args []any
	if q.Code != "" {
		c := conds{where: slices.Clone(base.where), args: slices.Clone(base.args)}
		c.add("o.code = ?", q.Code)
		if f.BeforeID != "" {
			c.add("o.id < ?", f.BeforeID)
		}
		parts, args = append(parts, "SELECT o.id AS id FROM orders o WHERE "+c.sql()), append(args, c.args...)
	}
	// termPart is one read of order_search: the newest orders with a term matching
	// cond that pass the other filters.
	termPart := func(cond string, termArgs ...any) {
		var c conds
		c.add("s.shop_id = ?", shopID)
		c.add(cond, termArgs...)
		if f.BeforeID != "" {
			c.add("s.order_id < ?", f.BeforeID)
		}
		from := "order_search s"
		if len(base.where) > 1 {
			// Filters besides the shop: check each candidate's order.
			from = "order_search s CROSS JOIN orders o ON o.id = s.order_id"
			c.where, c.args = append(c.where, base.where...), append(c.args, base.args...)
		}
		part := "SELECT * FROM (SELECT s.order_id AS id FROM " + from + " WHERE " + c.sql() + " ORDER BY s.order_id DESC LIMIT ?)"
		parts, args = append(parts, part), append(append(args, c.args...), f.Limit)
	}
	if len(q.Name) > 0 {
		// The longest word leads (it has the fewest orders); the others must be
		// terms of the same order.
		cond := "s.term = ?"
		termArgs := []any{q.Name[0]}
		for _, w := range q.Name[1:] {
			cond += " AND EXISTS (SELECT 1 FROM order_search x WHERE x.shop_id = s.shop_id AND x.term = ? AND x.order_id = s.order_id)"
			termArgs = append(termArgs, w)
		}
		termPart(cond, termArgs...)
	}
	for _, p := range q.PhonePrefixes {
		// Phone terms continue with digits only, which sort below DEL.
		termPart("s.term >= ? AND s.term < ?", p, p+"\x7f")
	}
	if len(q.PhoneTerms) > 0 {
		termArgs := make([]any, searchTermSlots)
		for i := range termArgs {
			termArgs[i] = q.PhoneTerms[min(i, len(q.PhoneTerms)-1)]
		}
		termPart("s.term IN (?"+strings.Repeat(", ?", searchTermSlots-1)+")", termArgs...)
	}
	where := "WHERE o.shop_id = ? AND o.id IN (SELECT id FROM (" + strings.Join(parts, " UNION ") +
		") ORDER BY id DESC LIMIT ?) ORDER BY o.id DESC LIMIT ?"
	return loadOrders(ctx, s.rq, where, slices.Concat([]any{shopID}, args, []any{f.Limit, f.Limit})...)
}

// insertSearchTerms writes an order's search terms (orders.SearchTerms), and with
// them orders.SearchMarker, in the same transaction as the order. An order without
// terms gets no rows: IndexSearch passes over customers with neither name nor phone.
func insertSearchTerms(ctx context.Context, q querier, o *orders.Order) error {
	terms := orders.SearchTerms(o.Customer)
	if len(terms) == 0 {
		return nil
	}
	if _, err := writeSearchRows(ctx, q, o.ShopID, o.ID, append(terms, orders.SearchMarker)); err != nil {
		return fmt.Errorf("sqlite: insert search terms: %w", err)
	}
	return nil
}

// writeSearchRows writes rows of order_search for one order, keeping those already
// there, and returns how many it added. The rows go in as one JSON array, so that one
// statement text serves every order.
func writeSearchRows(ctx context.Context, q querier, shopID, orderID string, terms []string) (int64, error) {
	list, err := toJSON(terms)
	if err != nil {
		return 0, err
	}
	res, err := q.ExecContext(ctx, `INSERT INTO order_search (shop_id, term, order_id)
		SELECT ?, value, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`, shopID, orderID, list)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// searchBackfillBatch is how many orders one transaction of backfillSearch indexes.
const searchBackfillBatch = 500

// backfillSearch writes the search terms of the orders queued in
// order_search_pending (those that existed before migration 011), a batch per
// IMMEDIATE transaction so that the writer is never held for long, until none is left.
// It runs at start-up only, so its statements stay out of the writer's cache.
func (s *Store) backfillSearch(ctx context.Context, batch int) error {
	for {
		n, err := s.backfillSearchBatch(ctx, batch)
		if err != nil {
			return fmt.Errorf("sqlite: index orders for search: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}

// backfillSearchBatch indexes up to size pending orders and returns how many.
func (s *Store) backfillSearchBatch(ctx context.Context, size int) (int, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT o.id, o.shop_id, o.customer_name, o.customer_phone
		FROM order_search_pending p JOIN orders o ON o.id = p.order_id LIMIT ?`, size)
	if err != nil {
		return 0, err
	}
	var batch []*orders.Order
	for rows.Next() {
		o := &orders.Order{}
		if err := rows.Scan(&o.ID, &o.ShopID, &o.Customer.Name, &o.Customer.Phone); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, o)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	for _, o := range batch {
		if err := insertSearchTerms(ctx, tx, o); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM order_search_pending WHERE order_id = ?`, o.ID); err != nil {
			return 0, err
		}
	}
	if len(batch) < size {
		// Pending rows without an order (none are expected) would otherwise be read
		// again at every start.
		if _, err := tx.ExecContext(ctx, `DELETE FROM order_search_pending`); err != nil {
			return 0, err
		}
	}
	return len(batch), tx.Commit()
}
