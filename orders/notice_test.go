package orders_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// TestDuplicateNoticeSaysRefundOrRelease: staff are told what happens to the extra
// money of an order paid twice. A captured duplicate is refunded; a duplicate only
// authorised is released at the gateway, and nothing is refunded, so its notice must
// not say it is.
func TestDuplicateNoticeSaysRefundOrRelease(t *testing.T) {
	t.Parallel()
	for _, held := range []bool{false, true} {
		t.Run(map[bool]string{false: "captured", true: "authorised"}[held], func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			o := b.create(t, shopA, input())
			first, second := b.attempt(t, o), b.attempt(t, o)
			b.apply(t, event(first, orders.EventSucceeded, "evt_first"))
			ev := event(second, orders.EventSucceeded, "evt_second")
			ev.Authorized = held
			require.Equal(t, orders.OutcomeDuplicatePaid, b.apply(t, ev).Outcome)

			n := b.lastNotice(t, shopA)
			require.Contains(t, n.Text, "#"+o.Code)
			require.Contains(t, n.Text, "₫330,000")
			if held {
				require.Equal(t, orders.NoticeDuplicateHold, n.Kind)
				require.Contains(t, n.Text, "released")
				require.NotContains(t, n.Text, "refunded")
				require.Empty(t, b.refunds(t, o))
			} else {
				require.Equal(t, orders.NoticeDuplicatePayment, n.Kind)
				require.Contains(t, n.Text, "refunded")
				require.Len(t, b.refunds(t, o), 1)
			}
		})
	}
}
