package jobs

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// TestSweepGivesUpAwaitingEvents: a refund of money taken outside chatpay waits for a
// payment chatpay will never record. The hourly sweep gives it up once it has waited
// orders.AwaitingPaymentFor and warns about it; a younger one still waits, and a run
// with nothing to give up says nothing.
func TestSweepGivesUpAwaitingEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	var logs bytes.Buffer
	j, err := New(Config{Service: b.svc, Gateways: b.jobs.cfg.Gateways,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	require.NotNil(t, j.cfg.Sweeper, "the store sweeps, so the job is scheduled")

	now := b.svc.Now()
	refund := func(id string, received time.Time) {
		res, err := b.svc.ApplyEvent(ctx, &orders.GatewayEvent{
			ShopID: b.shop.ID, Gateway: "sandbox", EventID: id, Type: orders.EventRefunded,
			PaymentRef: "pi_outside", Amount: 1000, Currency: "VND", Payload: []byte(`{}`), ReceivedAt: received,
		})
		require.NoError(t, err)
		require.Equal(t, orders.OutcomeAwaitingPayment, res.Outcome)
	}
	refund("evt_old", now.Add(-orders.AwaitingPaymentFor-time.Hour))
	refund("evt_young", now.Add(-orders.AwaitingPaymentFor+time.Hour))

	require.NoError(t, (&sweepWorker{j: j}).Work(ctx, job(orders.Sweep{}, 1)))
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "events=1 ")
	require.Contains(t, logs.String(), "outcome="+orders.OutcomePaymentNeverSeen)

	byOutcome := func(outcome string) []string {
		t.Helper()
		var ids []string
		require.NoError(t, b.store.InTx(ctx, func(tx orders.Tx) error {
			evs, err := tx.EventsByRef(ctx, b.shop.ID, "sandbox", "pi_outside", outcome)
			for _, e := range evs {
				ids = append(ids, e.EventID)
			}
			return err
		}))
		return ids
	}
	require.Equal(t, []string{"evt_old"}, byOutcome(orders.OutcomePaymentNeverSeen))
	require.Equal(t, []string{"evt_young"}, byOutcome(orders.OutcomeAwaitingPayment))

	logs.Reset()
	require.NoError(t, (&sweepWorker{j: j}).Work(ctx, job(orders.Sweep{}, 2)))
	require.NotContains(t, logs.String(), "level=WARN", "nothing more to give up")
	require.Equal(t, []string{"evt_young"}, byOutcome(orders.OutcomeAwaitingPayment))
}
