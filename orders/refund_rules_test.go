package orders_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// withRefundRules replaces the bundle's service with one whose sandbox payments follow
// rules, as cmd wires a gateway's capabilities.
func (b *bundle) withRefundRules(t *testing.T, rules orders.RefundRules) {
	t.Helper()
	b.svc = b.service(t, b.key, func(c *orders.Config) {
		c.RefundRules = func(shopID, gateway string) orders.RefundRules {
			if shopID != shopA || gateway != sandbox {
				t.Errorf("refund rules asked for %s/%s, want %s/%s", shopID, gateway, shopA, sandbox)
			}
			return rules
		}
	})
}

// requireRefused checks that a refund was refused as a conflict naming rule, and that
// nothing was written or queued.
func (b *bundle) requireRefused(t *testing.T, before map[string]int, err error, rule string) {
	t.Helper()
	e := requireCode(t, err, orders.ECONFLICT)
	require.Contains(t, e.Message, rule)
	require.Equal(t, before, b.snapshot(t))
}

func TestRefundRulesPartialRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.withRefundRules(t, orders.RefundRules{})
	o := b.create(t, shopA, input())
	b.pay(t, o)

	before := b.snapshot(t)
	_, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(100000)))
	b.requireRefused(t, before, err, orders.RuleNoPartialRefund)
	_, err = b.svc.CreateRefundOnce(b.ctx, shopA, o.ID, new(int64(1)), "chat-1")
	b.requireRefused(t, before, err, orders.RuleNoPartialRefund)

	// The whole payment, by amount or by default, is allowed.
	r, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(330000)))
	require.NoError(t, err)
	require.Equal(t, int64(330000), r.Amount)
}

func TestRefundRulesMaxRefunds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.withRefundRules(t, orders.RefundRules{PartialRefund: true, MaxRefunds: 2})
	o := b.create(t, shopA, input())
	b.pay(t, o)

	r1, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(1000)))
	require.NoError(t, err)
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(1000)))
	require.NoError(t, err)
	before := b.snapshot(t)
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(1000)))
	b.requireRefused(t, before, err, orders.RuleMaxRefunds)
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	b.requireRefused(t, before, err, orders.RuleMaxRefunds)

	// A refund that failed at the gateway made no refund there: it does not count.
	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r1.ID, orders.RefundResult{Reason: "declined"}))
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(1000)))
	require.NoError(t, err)
}

func TestRefundRulesWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.withRefundRules(t, orders.RefundRules{PartialRefund: true, Window: 365 * 24 * time.Hour})
	o := b.create(t, shopA, input())
	b.pay(t, o)
	paid := b.now

	b.now = paid.Add(365*24*time.Hour + time.Second)
	before := b.snapshot(t)
	_, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(1000)))
	b.requireRefused(t, before, err, orders.RuleRefundWindow)
	require.Contains(t, err.Error(), "365 days")

	// The last moment of the window still refunds.
	b.now = paid.Add(365 * 24 * time.Hour)
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(1000)))
	require.NoError(t, err)
}
