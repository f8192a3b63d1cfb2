package jobs

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// stuck stores n pending attempts whose sessions the sandbox does not know, created
// an hour ago, one microsecond apart: asking the gateway about them fails every time,
// as it would for a gateway that is down.
func (b *bundle) stuck(t *testing.T, n int) []*orders.Attempt {
	t.Helper()
	o := b.order(t, orders.ChannelWebchat)
	created := b.svc.Now().Add(-time.Hour)
	out := make([]*orders.Attempt, n)
	for i := range out {
		at := created.Add(time.Duration(i) * time.Microsecond)
		out[i] = &orders.Attempt{
			ID: orders.NewID(), ShopID: b.shop.ID, OrderID: o.ID, Gateway: "sandbox",
			SessionID: fmt.Sprintf("cs_gone_%d", i), Amount: o.Total, Currency: o.Currency,
			Status: orders.AttemptPending, CreatedAt: at, UpdatedAt: at,
		}
	}
	require.NoError(t, b.store.InTx(context.Background(), func(tx orders.Tx) error {
		for _, a := range out {
			if err := tx.InsertAttempt(context.Background(), a); err != nil {
				return err
			}
		}
		return nil
	}))
	return out
}

// TestReconcilePastFailingAttempts: more attempts than one read holds that the
// gateway keeps failing to answer for do not keep a newer one from being settled.
func TestReconcilePastFailingAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.jobs.cfg.ReconcileAfter = -1
	stuck := b.stuck(t, reconcileBatch)
	o, _ := b.paid(t)

	n, err := b.jobs.Reconcile(ctx)
	require.ErrorContains(t, err, stuck[0].ID, "the failures are reported")
	require.ErrorContains(t, err, stuck[len(stuck)-1].ID)
	require.Equal(t, 1, n)
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusPaid, got.Status)
}

// TestReconcileResumes: a run reads a bounded number of candidates, and the next run
// goes on after them rather than starting again at the oldest; past the newest, the
// runs start over.
func TestReconcileResumes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.jobs.cfg.ReconcileAfter = -1
	b.jobs.reconcile.batch, b.jobs.reconcile.pages = 2, 1
	stuck := b.stuck(t, 5)
	o, _ := b.paid(t)

	run := func() (int, string) {
		t.Helper()
		n, err := b.jobs.Reconcile(ctx)
		if err == nil {
			return n, ""
		}
		return n, err.Error()
	}
	for _, pair := range [][]*orders.Attempt{stuck[0:2], stuck[2:4]} {
		n, errs := run()
		require.Zero(t, n)
		for _, a := range stuck {
			asked := a == pair[0] || a == pair[1]
			require.Equal(t, asked, strings.Contains(errs, a.ID), "attempt %s", a.ID)
		}
	}
	n, errs := run()
	require.Equal(t, 1, n, "the third run reaches the paid attempt")
	require.True(t, strings.Contains(errs, stuck[4].ID))
	require.False(t, strings.Contains(errs, stuck[0].ID))
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusPaid, got.Status)

	// The paid attempt ended the third read exactly, so one more read finds the end
	// and the run after it starts at the oldest again.
	n, errs = run()
	require.Zero(t, n)
	require.Empty(t, errs)
	_, errs = run()
	require.True(t, strings.Contains(errs, stuck[0].ID), "the runs start over: %s", errs)
	require.True(t, strings.Contains(errs, stuck[1].ID))
	require.False(t, strings.Contains(errs, stuck[2].ID))
}
