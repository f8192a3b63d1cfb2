package orders

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrReportTooLarge is Report's answer for a range holding more than
// MaxReportPayments payments, so that callers can tell it from a malformed request.
var ErrReportTooLarge = Invalidf("to", "the range holds more than %d payments; ask for a shorter range", MaxReportPayments)

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
	// OrderPaymentStatus is the order's payment status (paid, refunded, …), which
	// says more than the payment's own Status (succeeded, or a hold's authorized,
	// capturing, voiding, voided).
	OrderPaymentStatus string
	OrderCreatedAt     time.Time
	Metadata           map[string]string
	// LinkSentAt is when the order's card, with its Pay now link, was first delivered
	// to the customer's chat; nil when no card was delivered (an order made without a
	// conversation, whose link the shop passed on itself).
	LinkSentAt *time.Time
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
	Missing bool
	Count   int
	// Amount is money taken: captured payments. Held is money a gateway holds but has
	// not captured (an authorised payment, or one being captured or released), which
	// may still never be taken, so it is never added to Amount.
	Amount   int64
	Held     int64
	Refunded int64
}

// add counts p in t: its amount as taken or as held, by the payment's status.
func (t *ReportTotal) add(p *ReportPayment) {
	t.Count++
	if held(&p.Payment) {
		t.Held += p.Amount
	} else {
		t.Amount += p.Amount
	}
	t.Refunded += p.RefundedAmount
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
	// MedianTimeToPaid and P90TimeToPaid are the median and the 90th percentile of
	// the time from the payment link being sent to the payment, over the range's
	// non-duplicate payments; nil when there are none. The link counts as sent when
	// the order card was first delivered (ReportPayment.LinkSentAt), or when the order
	// was created if no card was delivered before the payment: the shop then handed
	// the link over itself, and creation is the earliest it can have.
	MedianTimeToPaid *time.Duration
	P90TimeToPaid    *time.Duration
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
		return nil, ErrReportTooLarge
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
			waits = append(waits, p.CreatedAt.Sub(p.linkSent()))
		}
	}
	r.MedianTimeToPaid = median(waits)
	r.P90TimeToPaid = percentile(waits, 90)

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
		t.add(p)
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

// linkSent is when the payment's link reached the customer: the order card's first
// delivery, or the order's creation when no card was delivered before the payment
// (see PaymentsReport.MedianTimeToPaid).
func (p *ReportPayment) linkSent() time.Time {
	if p.LinkSentAt != nil && !p.LinkSentAt.After(p.CreatedAt) && !p.LinkSentAt.Before(p.OrderCreatedAt) {
		return *p.LinkSentAt
	}
	return p.OrderCreatedAt
}

// percentile returns the pth percentile of ds by the nearest-rank method (the
// smallest value at least p percent of ds are no greater than), nil for none. It
// sorts ds.
func percentile(ds []time.Duration, p int) *time.Duration {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	rank := (p*len(ds) + 99) / 100 // ceil(p/100 * n), at least 1 for p > 0
	v := ds[min(max(rank, 1), len(ds))-1]
	return &v
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

// Period units of PaymentsReport.Periods.
const (
	PeriodDay   = "day"
	PeriodMonth = "month"
	PeriodYear  = "year"
)

// maxPeriods bounds how many periods Periods lays out over an empty stretch: a range
// of centuries asked of the API is cut down to the years that have payments.
const maxPeriods = 400

// Periods sums the report's payments per calendar period in UTC and per currency:
// days for a range of up to 92 days, months for up to 5 years, years beyond that.
// Every period of the range is there for each currency that has payments, with zeros
// where nothing was paid, so that a chart shows the quiet days too; when that would be
// more than 400 periods, only those from the first payment's to the last one's are.
// Totals are sorted by currency, then oldest first; Key is the period's start as
// "2026-11-03", "2026-11" or "2026".
func (r *PaymentsReport) Periods() (unit string, out []ReportTotal) {
	span := r.To.Sub(r.From)
	var (
		start func(time.Time) time.Time
		next  func(time.Time) time.Time
		key   func(time.Time) string
	)
	switch {
	case span <= 92*24*time.Hour:
		unit = PeriodDay
		start = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
		key = func(t time.Time) string { return t.Format(time.DateOnly) }
	case span <= 5*366*24*time.Hour:
		unit = PeriodMonth
		start = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
		key = func(t time.Time) string { return t.Format("2006-01") }
	default:
		unit = PeriodYear
		start = func(t time.Time) time.Time { return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC) }
		next = func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
		key = func(t time.Time) string { return t.Format("2006") }
	}
	if len(r.Payments) == 0 {
		return unit, nil
	}

	type bucket struct{ key, currency string }
	sums := map[bucket]*ReportTotal{}
	var currencies []string
	for _, p := range r.Payments {
		b := bucket{key(start(p.CreatedAt.UTC())), p.Currency}
		t := sums[b]
		if t == nil {
			t = &ReportTotal{Key: b.key, Currency: p.Currency}
			sums[b] = t
			if !slices.Contains(currencies, p.Currency) {
				currencies = append(currencies, p.Currency)
			}
		}
		t.add(p)
	}
	slices.Sort(currencies)

	first, last := start(r.From.UTC()), r.To.UTC()
	n := 0
	for t := first; t.Before(last) && n <= maxPeriods; t = next(t) {
		n++
	}
	if n > maxPeriods {
		// Payments are oldest first.
		first, last = start(r.Payments[0].CreatedAt.UTC()), next(start(r.Payments[len(r.Payments)-1].CreatedAt.UTC()))
	}
	for _, cur := range currencies {
		for t := first; t.Before(last); t = next(t) {
			if s := sums[bucket{key(t), cur}]; s != nil {
				out = append(out, *s)
			} else {
				out = append(out, ReportTotal{Key: key(t), Currency: cur})
			}
		}
	}
	return unit, out
}
