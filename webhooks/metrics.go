package webhooks

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/chatpay/chatpay/orders"
)

// Results a gateway webhook is counted under in chatpay_webhooks_total. The first five
// are the outcomes the service records; the rest are answered before it is reached.
const (
	ResultApplied          = orders.OutcomeApplied
	ResultIgnored          = orders.OutcomeIgnored
	ResultDuplicatePayment = orders.OutcomeDuplicatePaid
	ResultAmountMismatch   = orders.OutcomeAmountMismatch
	ResultUnknownSession   = orders.OutcomeUnknownSession
	ResultDuplicate        = "duplicate" // the same event was already recorded
	ResultUnauthorized     = "unauthorized"
	ResultMalformed        = "malformed"
	ResultTooLarge         = "too_large"
	ResultNotFound         = "not_found"
	ResultError            = "error"
)

// unknownGateway labels requests whose gateway is not enabled for the shop. The URL's
// name is attacker-chosen, and using it as a label would let anyone create series.
const unknownGateway = "unknown"

// Metrics are the webhook handler's Prometheus metrics.
type Metrics struct {
	webhooks    *prometheus.CounterVec
	payments    *prometheus.CounterVec
	timeToPay   prometheus.Histogram
	duration    *prometheus.HistogramVec
	batchSize   prometheus.Histogram
	chatUpdates *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg (nil: not registered, for
// tests and callers that do not export metrics).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		webhooks: f.NewCounterVec(prometheus.CounterOpts{
			Name: "chatpay_webhooks_total",
			Help: "Gateway webhooks received, by gateway and result (applied, ignored, duplicate, duplicate_payment, amount_mismatch, unknown_session, unauthorized, malformed, too_large, not_found, error).",
		}, []string{"gateway", "result"}),
		payments: f.NewCounterVec(prometheus.CounterOpts{
			Name: "chatpay_payments_total",
			Help: "Payment outcomes applied from gateway events; the success rate is succeeded / (succeeded + failed).",
		}, []string{"gateway", "result"}),
		timeToPay: f.NewHistogram(prometheus.HistogramOpts{
			Name: "chatpay_time_to_pay_seconds",
			Help: "Time from an order's creation to its payment being confirmed.",
			// From a customer paying at once to one paying days later.
			Buckets: []float64{10, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400},
		}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chatpay_webhook_duration_seconds",
			Help:    "Time to verify, record and acknowledge a gateway webhook.",
			Buckets: prometheus.DefBuckets,
		}, []string{"gateway"}),
		batchSize: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "chatpay_webhook_batch_size",
			Help:    "Gateway events applied per store transaction; above 1 when webhooks arrive together.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}),
		chatUpdates: f.NewCounterVec(prometheus.CounterOpts{
			Name: "chatpay_chat_updates_total",
			Help: "Chat platform updates received by webhook, by channel and result (applied: recorded, duplicate, unauthorized, malformed, too_large, not_found, error).",
		}, []string{"channel", "result"}),
	}
}
