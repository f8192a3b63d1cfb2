package web

import (
	"context"
	"net/url"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// The orders list's filters, as GET /api/v1/orders and the dashboard's list take them
// from the query string: status, payment_status, channel, from, to, q and
// metadata[KEY]=VALUE. Their values are checked by the Service; the parsing here
// refuses what cannot be a value at all (a date that is not one, a parameter given
// twice), each error naming its parameter.

// filterParams are the single-valued parameters of the orders list.
var filterParams = []string{"status", "payment_status", "channel", "from", "to", "q", "cursor"}

// toBound says how the "to" parameter's date is read: the API's to is exclusive, like
// the reports' (from=2026-11-01&to=2026-12-01 is November), while the dashboard's
// date field names the last day shown, as people mean it.
type toBound int

const (
	toExclusive toBound = iota
	toInclusive
)

// parseOrderFilter reads the list filters and the cursor from q.
func parseOrderFilter(q url.Values, to toBound) (orders.OrderFilter, error) {
	for _, name := range filterParams {
		if len(q[name]) > 1 {
			return orders.OrderFilter{}, orders.Invalidf(name, "must be given once, got %d values", len(q[name]))
		}
	}
	f := orders.OrderFilter{
		Status: q.Get("status"), PaymentStatus: q.Get("payment_status"), Channel: q.Get("channel"), Query: q.Get("q"),
	}
	var err error
	if f.Metadata, err = parseMetadataFilter(q); err != nil {
		return f, err
	}
	if f.CreatedFrom, _, err = parseListTime(q, "from"); err != nil {
		return f, err
	}
	var date bool
	if f.CreatedBefore, date, err = parseListTime(q, "to"); err != nil {
		return f, err
	}
	if date && to == toInclusive {
		f.CreatedBefore = f.CreatedBefore.AddDate(0, 0, 1)
	}
	if cur := q.Get("cursor"); cur != "" {
		if f.BeforeID, err = decodeCursor(cur); err != nil {
			return f, err
		}
	}
	return f, nil
}

// parseListTime reads a date (2026-11-01: the start of that day in UTC, as shops have
// no time zone of their own and the dashboard shows times in UTC) or an RFC 3339
// time; date says which. An empty or absent parameter is the zero time.
func parseListTime(q url.Values, name string) (t time.Time, date bool, err error) {
	raw := q.Get(name)
	if raw == "" {
		return time.Time{}, false, nil
	}
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t.UTC().Truncate(time.Microsecond), false, nil
	}
	return time.Time{}, false, orders.Invalidf(name, "must be a date (2026-11-01) or an RFC 3339 time, not %q", raw)
}

// listPage returns a page of at most limit of the shop's orders under f, and the
// cursor of the next page ("" at the end). Deleted orders leave the list unless the
// filter asks for them, but the store pages over every order, so it keeps reading
// until the page is full or the store runs out; one order more than the page tells
// whether there is a next one.
func (s *Server) listPage(ctx context.Context, shopID string, f orders.OrderFilter, limit int) ([]*orders.Order, string, error) {
	hideDeleted := f.Status == ""
	var page []*orders.Order
	for {
		f.Limit = limit + 1
		batch, err := s.svc.ListOrders(ctx, shopID, f)
		if err != nil {
			return nil, "", err
		}
		for _, o := range batch {
			if !hideDeleted || o.Status != orders.StatusDeleted {
				page = append(page, o)
			}
		}
		if len(batch) < f.Limit || len(page) > limit {
			break
		}
		f.BeforeID = batch[len(batch)-1].ID
	}
	if len(page) <= limit {
		return page, "", nil
	}
	page = page[:limit]
	return page, encodeCursor(page[limit-1].ID), nil
}
