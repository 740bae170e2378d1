package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

func TestWorkerKeyCacheIsBounded(t *testing.T) {
	c := workerKeyCache{size: 4}
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	c.put("p", []string{"a", "b", "c"}, map[string]string{"a": "ka"}, now)
	if e := c.m[workerRefKey{"p", "a"}]; string(e.key) != "ka" || !e.until.Equal(now.Add(workerKeyKnownTTL)) {
		t.Errorf("a = %+v, want its key for %s", e, workerKeyKnownTTL)
	}
	if e, ok := c.m[workerRefKey{"p", "b"}]; !ok || e.key != nil || !e.until.Equal(now.Add(workerKeyMissTTL)) {
		t.Errorf("b = %+v, want no key for %s", e, workerKeyMissTTL)
	}
	c.put("p", []string{"d", "e"}, map[string]string{"d": "kd"}, now)
	if len(c.m) > c.size {
		t.Errorf("the cache holds %d entries, more than %d", len(c.m), c.size)
	}
	if string(c.m[workerRefKey{"p", "d"}].key) != "kd" {
		t.Error("the newest entry was dropped")
	}
}

// memKeys is a WorkerKeyIndex of registered references.
type memKeys map[string]string

func (m memKeys) WorkerKeys(_ context.Context, _ string, refs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, r := range refs {
		if k, ok := m[r]; ok {
			out[r] = k
		}
	}
	return out, nil
}

// WorkerStore's other methods are not used by partitionKeys.
func (memKeys) Register(context.Context, postgres.NewWorker, postgres.Registration, [32]byte) (postgres.Registration, bool, error) {
	return postgres.Registration{}, false, nil
}
func (memKeys) Registrations(context.Context, string, string) ([]postgres.Registration, error) {
	return nil, nil
}
func (memKeys) WorkerPeriods(context.Context, string, string) ([]postgres.WorkerPeriod, error) {
	return nil, nil
}

// BenchmarkPartitionKeys keys a 500-event request whose 500 references are
// registered and cached, the steady state of the HTTP doors: the cost per
// event of keying by worker key.
//
//	go test -run '^$' -bench PartitionKeys -benchmem ./gateway/httpapi
func BenchmarkPartitionKeys(b *testing.B) {
	reg := memKeys{}
	items := make([]*ingestItem, 500)
	for i := range items {
		ref := fmt.Sprintf("drv-%d", i)
		reg[ref] = fmt.Sprintf("%064x", i)
		items[i] = &ingestItem{ev: gateway.Earning{EventID: fmt.Sprint(i), PlatformID: "demo", WorkerRef: ref}}
	}
	s := New(Config{Workers: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.partitionKeys(context.Background(), "demo", items) // fills the cache
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.partitionKeys(context.Background(), "demo", items)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/event")
}
