package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

var stores = map[string]func(t *testing.T) orders.Store{
	"sqlite": func(t *testing.T) orders.Store {
		ctx := context.Background()
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.NoError(t, s.Migrate(ctx))
		return s
	},
	"postgres": func(t *testing.T) orders.Store { return postgrestest.Open(t) },
}

func newService(t *testing.T, store orders.Store) *orders.Service {
	t.Helper()
	tpl, err := templates.New()
	require.NoError(t, err)
	svc, err := orders.NewService(orders.Config{
		Shops:     []*orders.Shop{{ID: "shop1", Name: "Shop", Currency: "VND", Locale: "vi", SendPaidConfirmation: true}},
		Store:     store,
		Renderer:  bot.Renderer{Templates: tpl},
		PublicURL: "http://chatpay.test",
		LinkKey:   make([]byte, orders.LinkKeyLen),
	})
	require.NoError(t, err)
	return svc
}

// recorder wraps the service: it counts the updates recorded as new and, when told,
// fails or stops the poller right after a batch is recorded (a crash before the next
// getUpdates confirms it).
type recorder struct {
	*orders.Service
	fresh      atomic.Int64
	failNext   atomic.Int64
	lieNext    atomic.Int64
	duplicates atomic.Int64
	stopAfter  atomic.Int64
	stop       context.CancelFunc
	mu         sync.Mutex
	recordedAt []int64
}

func (r *recorder) RecordChatUpdates(ctx context.Context, shopID, source string, ups []*orders.ChatUpdate, next int64) (int, error) {
	if r.failNext.Add(-1) >= 0 {
		return 0, errors.New("database unreachable")
	}
	n, err := r.Service.RecordChatUpdates(ctx, shopID, source, ups, next)
	if err == nil {
		r.fresh.Add(int64(n))
		r.duplicates.Add(int64(len(ups) - n))
		if r.lieNext.Add(-1) >= 0 {
			// Committed, but the answer is lost (the connection dropped).
			return 0, errors.New("connection reset after commit")
		}
		r.mu.Lock()
		r.recordedAt = append(r.recordedAt, next)
		r.mu.Unlock()
		if r.stopAfter.Add(-1) == 0 {
			r.stop()
		}
	}
	return n, err
}

func TestPollerLosesAndRepeatsNothing(t *testing.T) {
	t.Parallel()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			svc := newService(t, open(t))
			srv, client := setup(t)
			source, err := telegram.Source(srv.Token())
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("telegram:%d", srv.BotID()), source)
			lan, minh := srv.NewCustomer("Lan"), srv.NewCustomer("Minh")
			var ids []int64
			say := func(u telegramtest.User, n int) {
				for i := range n {
					ids = append(ids, srv.CustomerSays(u, fmt.Sprintf("%s %d", u.FirstName, i)).UpdateID)
				}
			}
			rec := &recorder{Service: svc}
			run := func(setup func(ctx context.Context, cancel context.CancelFunc)) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				rec.stop = cancel
				setup(ctx, cancel)
				p := &telegram.Poller{Updates: client, Recorder: rec, ShopID: "shop1", Source: source,
					Wait: 20 * time.Millisecond, Backoff: 64 * time.Millisecond}
				require.NoError(t, p.Run(ctx))
			}
			ctx := context.Background()

			// A burst, and a crash right after the first batch is recorded: Telegram
			// has not been told, so it still holds the batch.
			say(lan, 5)
			rec.stopAfter.Store(1)
			run(func(context.Context, context.CancelFunc) {})
			require.Equal(t, int64(5), rec.fresh.Load())
			require.Equal(t, 5, srv.PendingUpdates(), "nothing confirmed before the crash")
			off, err := svc.Store().ChatOffset(ctx, "shop1", source)
			require.NoError(t, err)
			require.Equal(t, ids[4]+1, off, "the offset is stored with the batch")

			// More arrive; the database fails once. The restarted poller confirms the
			// recorded batch with the stored offset, records the new one after the
			// failure, and records nothing twice.
			say(minh, 3)
			rec.failNext.Store(1)
			rec.stopAfter.Store(1)
			run(func(context.Context, context.CancelFunc) {})
			require.Equal(t, int64(8), rec.fresh.Load(), "every update recorded once")
			off, err = svc.Store().ChatOffset(ctx, "shop1", source)
			require.NoError(t, err)
			require.Equal(t, ids[7]+1, off)
			for i, id := range ids {
				u, err := svc.Store().ChatUpdate(ctx, "shop1", source, id)
				require.NoError(t, err, "update %d", i)
				require.Contains(t, string(u.Payload), fmt.Sprintf(`"update_id":%d`, id))
			}

			// A batch is committed but the poller never hears so: it records the
			// batch again, and the store records nothing twice.
			say(lan, 2)
			rec.lieNext.Store(1)
			rec.stopAfter.Store(1)
			run(func(context.Context, context.CancelFunc) {})
			require.Equal(t, int64(10), rec.fresh.Load())
			require.Equal(t, int64(2), rec.duplicates.Load(), "the repeated batch was recognised")

			// The next poll confirms everything, and an idle poll stops cleanly.
			rec.stopAfter.Store(-1)
			run(func(ctx context.Context, cancel context.CancelFunc) {
				go func() {
					require.Eventually(t, func() bool { return srv.PendingUpdates() == 0 }, 10*time.Second, 5*time.Millisecond)
					cancel()
				}()
			})
			require.Equal(t, int64(10), rec.fresh.Load())
		})
	}
}

func TestSource(t *testing.T) {
	t.Parallel()
	s, err := telegram.Source("123456:ABC-def")
	require.NoError(t, err)
	require.Equal(t, "telegram:123456", s)
	for _, bad := range []string{"", "abc", ":x", "12a:x", "123456"} {
		_, err := telegram.Source(bad)
		require.Error(t, err, bad)
	}
}

func TestChatOfUpdate(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		`{"update_id":1,"message":{"chat":{"id":5001},"text":"hi"}}`:                             "5001",
		`{"update_id":2,"callback_query":{"id":"q","message":{"chat":{"id":-100777}}}}`:          "-100777",
		`{"update_id":3,"business_message":{"business_connection_id":"bc1","chat":{"id":5001}}}`: "biz:bc1:5001",
		`{"update_id":4,"business_connection":{"id":"bc1"}}`:                                     "",
		`not json`: "",
	} {
		require.Equal(t, want, telegram.ChatOfUpdate([]byte(raw)), raw)
	}
}
