package orders

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFormatMajor(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{12345, "THB", "123.45"}, {5, "USD", "0.05"}, {100, "usd", "1.00"}, {0, "THB", "0.00"},
		{12345, "VND", "12345"}, {0, "VND", "0"}, {-150, "THB", "-1.50"}, {7, "XXX", "7"},
	} {
		require.Equal(t, tt.want, FormatMajor(tt.amount, tt.currency), "%d %s", tt.amount, tt.currency)
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	require.Nil(t, median(nil))
	require.Equal(t, 2*time.Second, *median([]time.Duration{3 * time.Second, time.Second, 2 * time.Second}))
	require.Equal(t, 1500*time.Millisecond, *median([]time.Duration{2 * time.Second, time.Second}))
}

func TestTotals(t *testing.T) {
	t.Parallel()
	p := func(gw, cur string, amount, refunded int64, meta map[string]string) *ReportPayment {
		return &ReportPayment{Payment: Payment{Gateway: gw, Currency: cur, Amount: amount, RefundedAmount: refunded}, Metadata: meta}
	}
	pays := []*ReportPayment{
		p("stripe", "THB", 100, 0, map[string]string{"b": "x"}),
		p("omise", "THB", 200, 50, map[string]string{"b": ""}),
		p("stripe", "USD", 300, 0, nil),
		p("stripe", "THB", 400, 0, map[string]string{"b": "x"}),
	}
	require.Equal(t, []ReportTotal{
		{Key: "omise", Currency: "THB", Count: 1, Amount: 200, Refunded: 50},
		{Key: "stripe", Currency: "THB", Count: 2, Amount: 500},
		{Key: "stripe", Currency: "USD", Count: 1, Amount: 300},
	}, totals(pays, func(p *ReportPayment) (string, bool) { return p.Gateway, false }))
	require.Equal(t, []ReportTotal{
		{Key: "", Currency: "THB", Count: 1, Amount: 200, Refunded: 50},
		{Key: "x", Currency: "THB", Count: 2, Amount: 500},
		{Key: "", Missing: true, Currency: "USD", Count: 1, Amount: 300},
	}, totals(pays, func(p *ReportPayment) (string, bool) { v, ok := p.Metadata["b"]; return v, !ok }))
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	require.Nil(t, percentile(nil, 90))
	one := []time.Duration{7 * time.Second}
	require.Equal(t, 7*time.Second, *percentile(one, 90))
	require.Equal(t, 7*time.Second, *percentile(one, 1))
	var ds []time.Duration
	for i := range 10 {
		ds = append(ds, time.Duration(10-i)*time.Minute) // 10, 9, …, 1 minutes, unsorted
	}
	require.Equal(t, 9*time.Minute, *percentile(ds, 90), "nearest rank: the 9th of 10")
	require.Equal(t, 5*time.Minute, *percentile(ds, 50))
	require.Equal(t, 10*time.Minute, *percentile(ds, 100))
	ds = append(ds, 11*time.Minute)
	require.Equal(t, 10*time.Minute, *percentile(ds, 90), "ceil(0.9 × 11) = 10th")
}

// TestLinkSent: the time to pay counts from the card's first delivery when it came
// between the order's creation and the payment, and from the creation otherwise.
func TestLinkSent(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	paid := created.Add(time.Hour)
	p := &ReportPayment{Payment: Payment{CreatedAt: paid}, OrderCreatedAt: created}
	require.Equal(t, created, p.linkSent(), "no card: the order's creation")
	sent := created.Add(5 * time.Minute)
	p.LinkSentAt = &sent
	require.Equal(t, sent, p.linkSent())
	late := paid.Add(time.Minute)
	p.LinkSentAt = &late
	require.Equal(t, created, p.linkSent(), "a card delivered after the payment did not bring it")
	early := created.Add(-time.Minute)
	p.LinkSentAt = &early
	require.Equal(t, created, p.linkSent(), "never before the order existed")
	p.LinkSentAt = &paid
	require.Equal(t, paid, p.linkSent(), "paid the moment it arrived")
}

func TestPeriods(t *testing.T) {
	t.Parallel()
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	pay := func(at time.Time, cur string, amount int64) *ReportPayment {
		return &ReportPayment{Payment: Payment{CreatedAt: at, Currency: cur, Amount: amount}}
	}

	t.Run("days, with the quiet ones", func(t *testing.T) {
		r := &PaymentsReport{From: day(1, 0), To: day(5, 0), Payments: []*ReportPayment{
			pay(day(1, 1), "VND", 100), pay(day(1, 23), "VND", 50), pay(day(3, 12), "THB", 7), pay(day(4, 0), "VND", 1),
		}}
		unit, got := r.Periods()
		require.Equal(t, PeriodDay, unit)
		require.Equal(t, []ReportTotal{
			{Key: "2026-11-01", Currency: "THB"}, {Key: "2026-11-02", Currency: "THB"},
			{Key: "2026-11-03", Currency: "THB", Count: 1, Amount: 7}, {Key: "2026-11-04", Currency: "THB"},
			{Key: "2026-11-01", Currency: "VND", Count: 2, Amount: 150}, {Key: "2026-11-02", Currency: "VND"},
			{Key: "2026-11-03", Currency: "VND"}, {Key: "2026-11-04", Currency: "VND", Count: 1, Amount: 1},
		}, got)
	})

	t.Run("one day", func(t *testing.T) {
		r := &PaymentsReport{From: day(2, 0), To: day(3, 0), Payments: []*ReportPayment{pay(day(2, 9), "THB", 5)}}
		unit, got := r.Periods()
		require.Equal(t, PeriodDay, unit)
		require.Equal(t, []ReportTotal{{Key: "2026-11-02", Currency: "THB", Count: 1, Amount: 5}}, got)
	})

	t.Run("a range that starts mid-day", func(t *testing.T) {
		r := &PaymentsReport{From: day(2, 15), To: day(3, 6), Payments: []*ReportPayment{pay(day(3, 1), "THB", 5)}}
		_, got := r.Periods()
		require.Equal(t, []ReportTotal{{Key: "2026-11-02", Currency: "THB"}, {Key: "2026-11-03", Currency: "THB", Count: 1, Amount: 5}}, got)
	})

	t.Run("no payments", func(t *testing.T) {
		unit, got := (&PaymentsReport{From: day(1, 0), To: day(30, 0)}).Periods()
		require.Equal(t, PeriodDay, unit)
		require.Empty(t, got)
	})

	t.Run("months", func(t *testing.T) {
		r := &PaymentsReport{From: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
			Payments: []*ReportPayment{pay(time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC), "USD", 9)}}
		unit, got := r.Periods()
		require.Equal(t, PeriodMonth, unit)
		require.Equal(t, []ReportTotal{
			{Key: "2026-01", Currency: "USD"}, {Key: "2026-02", Currency: "USD"},
			{Key: "2026-03", Currency: "USD", Count: 1, Amount: 9}, {Key: "2026-04", Currency: "USD"},
		}, got)
	})

	t.Run("centuries are cut to the payments' years", func(t *testing.T) {
		r := &PaymentsReport{From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
			Payments: []*ReportPayment{
				pay(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), "VND", 1),
				pay(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "VND", 2),
			}}
		unit, got := r.Periods()
		require.Equal(t, PeriodYear, unit)
		require.Equal(t, []ReportTotal{
			{Key: "2024", Currency: "VND", Count: 1, Amount: 1}, {Key: "2025", Currency: "VND"},
			{Key: "2026", Currency: "VND", Count: 1, Amount: 2},
		}, got)
	})
}

// TestTotalsKeepHeldMoneyApart: an authorised payment's amount is held, not taken, until
// it is captured; a released hold (voided, amount 0) adds nothing.
func TestTotalsKeepHeldMoneyApart(t *testing.T) {
	t.Parallel()
	pay := func(status string, amount int64) *ReportPayment {
		return &ReportPayment{Payment: Payment{Gateway: "stripe", Currency: "THB", Status: status, Amount: amount}}
	}
	pays := []*ReportPayment{
		pay(PaymentStatusSucceeded, 1000), pay(PaymentStatusAuthorized, 500),
		pay(PaymentStatusCapturing, 300), pay(PaymentStatusVoiding, 200), pay(PaymentStatusVoided, 0),
	}
	require.Equal(t, []ReportTotal{{Key: "stripe", Currency: "THB", Count: 5, Amount: 1000, Held: 1000}},
		totals(pays, func(p *ReportPayment) (string, bool) { return p.Gateway, false }))
}
