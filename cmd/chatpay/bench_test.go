package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres"
)

// The load benchmarks drive a real chatpay over loopback HTTP with 64 concurrent
// keep-alive connections (GOMAXPROCS × parallelism) and report throughput and latency
// percentiles next to ns/op:
//
//	go test ./cmd/chatpay -run '^$' -bench 'Load' -benchtime 20000x
//
// Both the load and the server share this machine's cores, as they would with wrk.
const loadConns = 64

// loadClient returns a client that keeps one connection per goroutine alive.
func loadClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        loadConns * 2,
			MaxIdleConnsPerHost: loadConns * 2,
			MaxConnsPerHost:     loadConns,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// latencies collects per-request durations from many goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(ds []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, ds...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, elapsed time.Duration, unit string) {
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	q := func(p float64) float64 {
		return float64(l.all[int(p*float64(len(l.all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(l.all))/elapsed.Seconds(), unit+"/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// runLoad runs do b.N times over loadConns goroutines and reports the figures.
func runLoad(b *testing.B, unit string, do func(i int64) error) {
	var lat latencies
	var next atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(max(1, loadConns/runtimeProcs()))
	// CHATPAY_LOAD_CPUPROFILE=FILE profiles the load alone, without the setup.
	if path := os.Getenv("CHATPAY_LOAD_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		require.NoError(b, err)
		require.NoError(b, pprof.StartCPUProfile(f))
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	// CHATPAY_LOAD_MARK=FILE is created when the load starts and removed when it ends,
	// so that a script can measure the servers' CPU during the load alone.
	if path := os.Getenv("CHATPAY_LOAD_MARK"); path != "" {
		require.NoError(b, os.WriteFile(path, nil, 0o644))
		defer os.Remove(path)
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		mine := make([]time.Duration, 0, 1024)
		for pb.Next() {
			i := next.Add(1) - 1
			t0 := time.Now()
			if err := do(i); err != nil {
				failed.Add(1)
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		lat.add(mine)
	})
	elapsed := time.Since(start)
	b.StopTimer()
	require.Zero(b, failed.Load())
	lat.report(b, elapsed, unit)
}

// BenchmarkLoadPayPage measures GET /pay/{token} for an order awaiting payment.
func BenchmarkLoadPayPage(b *testing.B) {
	for _, store := range stores {
		b.Run(store, func(b *testing.B) {
			a := setup(b, store)
			links := make([]string, 50)
			for i := range links {
				links[i] = linkOf(a.createOrder(keyA, webchatOrder(fmt.Sprintf("visitor-%d", i))))
			}
			client := loadClient()
			runLoad(b, "req", func(i int64) error {
				res, err := client.Get(links[i%int64(len(links))])
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("GET /pay: %d", res.StatusCode)
				}
				return err
			})
		})
	}
}

// BenchmarkLoadWebhooks measures signed checkout.succeeded webhooks applied end to
// end over HTTP: signature check, event insert, attempt and order transition,
// payment, confirmation message, and the insert of its delivery job, each one a
// distinct order. Webhooks that arrive together share transactions (see
// webhooks.batcher), as they do in production. The job workers are stopped so that the
// figure is the webhook path's own.
func BenchmarkLoadWebhooks(b *testing.B) {
	for _, store := range stores {
		b.Run(store, func(b *testing.B) {
			a := setup(b, store)
			ctx := context.Background()
			gw, err := a.m.Gateways.Get("shop-a", sandbox.Name)
			require.NoError(b, err)
			// warm events are applied before the load: a production database has
			// history and statistics, and without them the plans cached while the
			// event and payment tables were empty scan those tables as they grow.
			const warm = 2000
			sessions := make([]string, warm+b.N)
			var amount atomic.Int64
			// Orders are prepared by a few goroutines: one at a time, the setup would
			// take longer than the load itself.
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := w; i < len(sessions); i += 8 {
						o, err := a.m.Service.CreateOrder(ctx, "shop-a", orders.CreateOrderInput{
							Customer: orders.Customer{Channel: "webchat", ExternalID: fmt.Sprintf("v-%d", i%500)},
							Items:    []orders.Item{{Name: "Cà phê", Quantity: 2, UnitPrice: 45000}},
							Currency: "VND",
						})
						require.NoError(b, err)
						att, o, err := a.m.Service.StartAttempt(ctx, o.Link.Token, sandbox.Name)
						require.NoError(b, err)
						s, err := gw.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop-a", OrderID: o.ID, AttemptID: att.ID, Amount: att.Amount, Currency: att.Currency, ReturnURL: a.url})
						require.NoError(b, err)
						require.NoError(b, a.m.Service.AttachSession(ctx, att, s.ID))
						sessions[i] = s.ID
						amount.Store(att.Amount)
					}
				})
			}
			wg.Wait()
			require.NoError(b, a.m.StopJobs(ctx))
			client := loadClient()
			url := a.url + "/webhooks/sandbox/shop-a"
			send := func(i int) error {
				now := time.Now()
				body := fmt.Appendf(nil, `{"id":"evt_bench_%d","type":"checkout.succeeded","created":%d,"data":{"session_id":%q,"amount":%d,"currency":"VND","payment_id":"pi_bench_%d"}}`,
					i, now.Unix(), sessions[i], amount.Load(), i)
				req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					return err
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(sandbox.SignatureHeader, sandbox.Sign("secret-a", body, now))
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("webhook: %d", res.StatusCode)
				}
				return err
			}
			for w := range 16 {
				wg.Go(func() {
					for i := w; i < warm; i += 16 {
						require.NoError(b, send(i))
					}
				})
			}
			wg.Wait()
			if pg, ok := a.m.Store.(*postgres.Store); ok {
				_, err := pg.Pool().Exec(ctx, "ANALYZE")
				require.NoError(b, err)
			}
			runLoad(b, "events", func(i int64) error { return send(warm + int(i)) })
		})
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
