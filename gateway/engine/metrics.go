package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	consumed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "coverbridge_events_consumed_total",
		Help: "Earnings messages consumed by the engine, by outcome (recorded, duplicate, rejected).",
	}, []string{"outcome"})
	lateEntries = promauto.NewCounter(prometheus.CounterOpts{
		Name: "coverbridge_ledger_late_entries_total",
		Help: "Ledger entries booked in a later period than their own because theirs was closed.",
	})
	ledgerEntries = promauto.NewCounter(prometheus.CounterOpts{
		Name: "coverbridge_ledger_entries_total",
		Help: "Ledger entries appended by the engine.",
	})
	staleBatches = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "coverbridge_engine_recomputed_batches_total",
		Help: "Batches computed again from reads, by reason: recorded (an event taken to be new was a redelivery), state (a remembered running total had changed).",
	}, []string{"reason"})
	batchSize = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "coverbridge_engine_batch_messages",
		Help:    "Messages per applied batch.",
		Buckets: prometheus.ExponentialBuckets(1, 4, 8),
	})
	batchDuration = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "coverbridge_engine_batch_duration_seconds",
		Help:    "Time to decode, compute and commit one batch.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	// ConsumerLag is the lag of each partition after its last batch; set by
	// the consumer's OnBatch hook.
	ConsumerLag = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "coverbridge_engine_consumer_lag",
		Help: "Messages behind the end of the partition after the last applied batch.",
	}, []string{"topic", "partition"})
)

func (r Result) observe(messages int, d time.Duration) {
	consumed.WithLabelValues("recorded").Add(float64(r.Recorded))
	consumed.WithLabelValues("duplicate").Add(float64(r.Duplicates))
	consumed.WithLabelValues("rejected").Add(float64(r.Rejected))
	lateEntries.Add(float64(r.Late))
	ledgerEntries.Add(float64(r.Entries))
	batchSize.Observe(float64(messages))
	batchDuration.Observe(d.Seconds())
}
