package orders

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxReportPayments bounds the payments one report reads. A range holding more is
// refused rather than summed in part: totals over a silently cut list would look
// right and be wrong, so the caller is asked for a shorter range instead.
const MaxReportPayments = 10000

// ReportPayment is one payment as the payments report shows it, with what the report
// needs of its order.
type ReportPayment struct {
	Payment
	OrderCode    string
	CustomerName string
	// OrderPaymentStatus is the order's payment status (paid, refunded, …): a
	// Payment's own Status is always "succeeded", so the order's says more.
	OrderPaymentStatus string
	OrderCreatedAt     time.Time
	Metadata           map[string]string
}

// AttemptCount is how many of a shop's attempts have one status and failure reason.
type AttemptCount struct {
	Status        string
	FailureReason string
	Count         int64
}

// ReportTotal sums payments that share a key (a gateway, a payment status, a metadata
// value) and a currency: amounts of different currencies are never added together.
type ReportTotal struct {
	Key      string
	Currency string
	// Missing marks the bucket of orders without the grouped metadata key, kept apart
	// from orders whose value is "".
	Missing  bool
	Count    int
	Amount   int64
	Refunded int64
}

// ReasonCount is how many failed attempts gave one failure reason.
type ReasonCount struct {
	Reason string
	Count  int64
}

// PaymentsReport summarises a shop's payments over [From, To).
//
// Payments are selected by when the gateway confirmed them (the payment's CreatedAt);
// attempts by when the customer started them. An attempt started before From and
// paid inside the range therefore counts as a payment but not as an attempt: each
// figure is read from its own table with one indexed range query, which is what the
// store gives cheaply. Duplicate payments are listed and summed (the money did move;
// their automatic refund shows in Refunded) but left out of the median, which is about
// how long customers take to pay an order.
type PaymentsReport struct {
	From, To time.Time
	GroupBy  string
	// Payments are the payments in the range, oldest first.
	Payments  []*ReportPayment
	ByGateway []ReportTotal
	ByStatus  []ReportTotal
	// ByGroup sums by the order metadata value of GroupBy; nil without GroupBy.
	ByGroup []ReportTotal
	// Attempts and PaidAttempts count attempts started in the range, all and those
	// that succeeded; SuccessRate is their ratio, 0 when there were none.
	Attempts     int64
	PaidAttempts int64
	SuccessRate  float64
	// MedianTimeToPaid is the median time from an order's creation to its payment,
	// over the range's non-duplicate payments; nil when there are none.
	MedianTimeToPaid *time.Duration
	// FailureReasons counts failed attempts by reason, most frequent first.
	FailureReasons []ReasonCount
}

// Report builds the payments report of a shop over [from, to). groupBy, when not
// empty, names an order metadata key whose values get totals of their own.
func (s *Service) Report(ctx context.Context, shopID string, from, to time.Time, groupBy string) (*PaymentsReport, error) {
	if !from.Before(to) {
		return nil, Invalidf("to", "must be after from")
	}
	if groupBy != "" && (len(groupBy) > maxMetadataKey || !metadataKeyPattern.MatchString(groupBy)) {
		return nil, Invalidf("group_by", "must be a metadata key: up to %d letters, digits, '_', '.' or '-'", maxMetadataKey)
	}
	pays, err := s.store.ReportPayments(ctx, shopID, from, to, MaxReportPayments+1)
	if err != nil {
		return nil, err
	}
	if len(pays) > MaxReportPayments {
		return nil, Invalidf("to", "the range holds more than %d payments; ask for a shorter range", MaxReportPayments)
	}
	counts, err := s.store.AttemptCounts(ctx, shopID, from, to)
	if err != nil {
		return nil, err
	}
	r := &PaymentsReport{From: from, To: to, GroupBy: groupBy, Payments: pays}
	r.ByGateway = totals(pays, func(p *ReportPayment) (string, bool) { return p.Gateway, false })
	r.ByStatus = totals(pays, func(p *ReportPayment) (string, bool) { return p.OrderPaymentStatus, false })
	if groupBy != "" {
		r.ByGroup = totals(pays, func(p *ReportPayment) (string, bool) {
			v, ok := p.Metadata[groupBy]
			return v, !ok
		})
	}

	var waits []time.Duration
	for _, p := range pays {
		if !p.Duplicate {
			waits = append(waits, p.CreatedAt.Sub(p.OrderCreatedAt))
		}
	}
	r.MedianTimeToPaid = median(waits)

	reasons := map[string]int64{}
	for _, c := range counts {
		r.Attempts += c.Count
		switch c.Status {
		case AttemptSucceeded:
			r.PaidAttempts += c.Count
		case AttemptFailed:
			reasons[c.FailureReason] += c.Count
		}
	}
	if r.Attempts > 0 {
		r.SuccessRate = float64(r.PaidAttempts) / float64(r.Attempts)
	}
	for reason, n := range reasons {
		r.FailureReasons = append(r.FailureReasons, ReasonCount{Reason: reason, Count: n})
	}
	slices.SortFunc(r.FailureReasons, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Reason, b.Reason))
	})
	return r, nil
}

// totals sums payments by key and currency, sorted by key, missing last, then currency.
func totals(pays []*ReportPayment, key func(*ReportPayment) (string, bool)) []ReportTotal {
	type bucket struct {
		key, currency string
		missing       bool
	}
	sums := map[bucket]*ReportTotal{}
	for _, p := range pays {
		k, missing := key(p)
		b := bucket{k, p.Currency, missing}
		t := sums[b]
		if t == nil {
			t = &ReportTotal{Key: k, Currency: p.Currency, Missing: missing}
			sums[b] = t
		}
		t.Count++
		t.Amount += p.Amount
		t.Refunded += p.RefundedAmount
	}
	out := make([]ReportTotal, 0, len(sums))
	for _, t := range sums {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b ReportTotal) int {
		if a.Missing != b.Missing {
			if a.Missing {
				return 1
			}
			return -1
		}
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Currency, b.Currency))
	})
	return out
}

// median returns the median of ds (the mean of the middle two for an even count), nil
// for none.
func median(ds []time.Duration) *time.Duration {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	return &m
}

// FormatMajor writes an amount in minor units as major units of its currency with '.'
// as the decimal separator (12345 THB is "123.45", 12345 VND is "12345"), the form
// spreadsheets and accounting imports read regardless of locale. An unknown currency
// is written with no decimals.
func FormatMajor(amount int64, currency string) string {
	c, _ := LookupCurrency(currency)
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= c.Decimals {
		s = strings.Repeat("0", c.Decimals-len(s)+1) + s
	}
	if c.Decimals > 0 {
		s = s[:len(s)-c.Decimals] + "." + s[len(s)-c.Decimals:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
