package books_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is a database of its own with an engine owning partition 0 and
// a Keeper, both on a clock the test sets.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *postgres.DB
	eng    *engine.Engine
	books  *books.Keeper
	claim  kafkabus.Claim
	offset int64
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []postgres.Platform{
		{ID: "coupang", Name: "Delivery", Country: "KR", Currency: "KRW", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "kr-ei", PlanID: "platform-workers"}}, RemittanceAccount: "KR-110-222-333"},
		{ID: "grab", Name: "Ride", Country: "MY", Currency: "MYR", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}},
		{ID: "zomato", Name: "Food", Country: "IN", Currency: "INR", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "in-coss", PlanID: "aggregator-levy"}}},
	} {
		if err := db.CreatePlatform(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, db: db, now: time.Date(2026, 11, 5, 3, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	f.eng = engine.New(engine.Config{Store: db, Catalog: catalog, Now: clock})
	f.books, err = books.New(books.Config{Store: db, Catalog: catalog, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	f.claim = kafkabus.Claim{Group: "g", Topic: "earnings", Partition: 0, Generation: 1}
	if f.claim.Epoch, _, err = f.eng.ClaimPartition(ctx, f.claim); err != nil {
		t.Fatal(err)
	}
	return f
}

// send applies one batch of events.
func (f *fixture) send(values ...string) {
	f.t.Helper()
	var msgs []kafka.Message
	for _, v := range values {
		msgs = append(msgs, kafka.Message{Topic: "earnings", Offset: f.offset, Value: []byte(v)})
		f.offset++
	}
	if err := f.eng.HandleBatch(f.ctx, f.claim, msgs); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) scalar(sql string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.Pool.QueryRow(f.ctx, sql, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (f *fixture) close(scheme, period string) books.CloseReport {
	f.t.Helper()
	rep, err := f.books.ClosePeriod(f.ctx, scheme, period)
	if err != nil {
		f.t.Fatalf("close %s %s: %v", scheme, period, err)
	}
	return rep
}

func (f *fixture) statements(platform, scheme, period string) []postgres.IssuedStatement {
	f.t.Helper()
	sts, err := f.db.Statements(f.ctx, postgres.StatementFilter{PlatformID: platform, SchemeID: scheme, Period: period})
	if err != nil {
		f.t.Fatal(err)
	}
	return sts
}

func ev(platform, id, worker, at, currency, value string) string {
	return fmt.Sprintf(`{"event_id":%q,"platform_id":%q,"worker_ref":%q,"occurred_at":%q,"gross":{"currency":%q,"value":%q}}`,
		id, platform, worker, at, currency, value)
}
