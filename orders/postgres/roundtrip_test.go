package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// roundTrips counts the statements and batches the store sends: each is one round
// trip to the server.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	// River follows a commit that inserted jobs with a NOTIFY to wake workers early,
	// at most once per queue in its FetchCooldown (100 ms): whether the measured call
	// sends one depends on how long the calls before it took, not on the store. It
	// runs after the transaction has committed (see inTx), so it is not the webhook's.
	if q := d.Batch.QueuedQueries; len(q) == 1 && strings.HasPrefix(q[0].SQL, "-- name: PGNotifyMany") {
		return ctx
	}
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

type renderer struct{}

func (renderer) Message(kind string, d orders.MessageData) (string, []orders.Button, error) {
	return kind, []orders.Button{{Label: "Pay", URL: d.LinkURL}}, nil
}
func (renderer) Notice(kind string, d orders.MessageData) (string, error) { return kind, nil }

// TestApplyEventRoundTrips pins the webhook transaction to two round trips: BEGIN,
// the event insert and the reads of the attempt and order; then every write, the job
// insert and COMMIT. More would cost throughput on small machines.
func TestApplyEventRoundTrips(t *testing.T) {
	t.Parallel()
	url := os.Getenv("CHATPAY_TEST_DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	trips := &roundTrips{}
	s, err := open(ctx, url, Options{Schema: schema}, func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = trips
		// One connection, so the measured call runs where the warm-up prepared its
		// statements; a fresh connection would add a round trip to prepare.
		c.MaxConns = 1
		// pgxpool pings a connection that sat idle for a second before handing it
		// out; on a loaded machine the pause between warm-up and measurement can
		// be that long, and the ping would count as a round trip of the webhook.
		c.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	})
	if err != nil {
		if os.Getenv("CHATPAY_REQUIRE_SERVICES") == "1" {
			t.Fatal(err)
		}
		t.Skipf("database unreachable: %v", err)
	}
	t.Cleanup(func() {
		_, err := s.Pool().Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		s.Close()
		require.NoError(t, err)
	})
	require.NoError(t, s.Migrate(ctx))

	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{{ID: "shop1", Currency: "VND", SendPaidConfirmation: true, Gateways: []string{"sandbox"}}},
		Store: s, Renderer: renderer{}, PublicURL: "http://chatpay.test", LinkKey: make([]byte, orders.LinkKeyLen),
	})
	require.NoError(t, err)
	apply := func(n int) int64 {
		o, err := svc.CreateOrder(ctx, "shop1", orders.CreateOrderInput{
			Customer: orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "v1"},
			Items:    []orders.Item{{Name: "Tea", Quantity: 1, UnitPrice: 50000}},
		})
		require.NoError(t, err)
		a, _, err := svc.StartAttempt(ctx, o.Link.Token, "sandbox")
		require.NoError(t, err)
		require.NoError(t, svc.AttachSession(ctx, a, "sess-"+a.ID))
		before := trips.n.Load()
		res, err := svc.ApplyEvent(ctx, &orders.GatewayEvent{ShopID: "shop1", Gateway: "sandbox",
			EventID: "evt-" + a.ID, Type: orders.EventSucceeded, SessionID: a.SessionID, Amount: a.Amount, Currency: a.Currency})
		require.NoError(t, err)
		require.True(t, res.Paid)
		return trips.n.Load() - before
	}
	apply(0) // the connection prepares its statements on first use
	require.Equal(t, int64(2), apply(1))
}
