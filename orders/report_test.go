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
