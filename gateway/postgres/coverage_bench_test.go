package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/coverage"
	"github.com/coverbridge/coverbridge/testing/banktest"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// coverBench is October and November 2026 of SESS and the Gig Workers Act
// for 20 platforms × 2,500 workers (50,000 workers, 100,000 events through
// the engine, 100,000 worker periods per scheme), October closed and every
// platform's SESS statement paid on 9 November. -short runs a tenth.
func coverBench(b *testing.B) (*postgres.DB, *gateway.Catalog, int) {
	b.Helper()
	ctx := context.Background()
	platforms, workers := 20, 2500
	if testing.Short() {
		platforms = 2
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: pgtest.New(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		b.Fatal(err)
	}
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for p := range platforms {
		err := db.CreatePlatform(ctx, postgres.Platform{ID: fmt.Sprintf("p%03d", p), Name: "p", Country: "MY", Currency: "MYR", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "2"}, {SchemeID: "my-gig", PlanID: "s83"}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 5, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := engine.New(engine.Config{Store: db, Catalog: catalog, Now: clock, Logger: quiet})
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog, Now: clock, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	claim := kafkabus.Claim{Group: "g", Topic: "earnings", Partition: 0, Generation: 1}
	if claim.Epoch, _, err = eng.ClaimPartition(ctx, claim); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var offset int64
	for _, at := range []string{"2026-10-05T10:00:00+08:00", "2026-11-03T10:00:00+08:00"} {
		for p := range platforms {
			var msgs []kafka.Message
			for w := range workers {
				v := fmt.Sprintf(`{"event_id":"e%d","platform_id":"p%03d","worker_ref":"w%d","occurred_at":%q,"gross":{"currency":"MYR","value":"100.00"}}`,
					offset, p, w, at)
				msgs = append(msgs, kafka.Message{Topic: "earnings", Offset: offset, Value: []byte(v)})
				offset++
			}
			if err := eng.HandleBatch(ctx, claim, msgs); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("engine: %d events in %s", offset, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	for _, s := range []string{"my-sess", "my-gig"} {
		if _, err := keeper.ClosePeriod(ctx, s, "2026-10"); err != nil {
			b.Fatalf("close %s: %v", s, err)
		}
	}
	sts, err := db.Statements(ctx, postgres.StatementFilter{SchemeID: "my-sess", Period: "2026-10", Limit: 1000})
	if err != nil || len(sts) != platforms {
		b.Fatalf("statements = %d, %v", len(sts), err)
	}
	now = time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	bs := bankstatement.Statement{ID: "S-1109", Account: bankstatement.Account{Other: "MY-COLLECT-01"}, Currency: "MYR"}
	for _, st := range sts {
		bs.Receipts = append(bs.Receipts, banktest.Credit("MYR", st.Total.Amount, calendar.D(2026, 11, 9), st.Reference, "ACC-"+st.Key.Platform))
	}
	var buf bytes.Buffer
	if err := banktest.Camt053(&buf, "MSG-1", bs); err != nil {
		b.Fatal(err)
	}
	if _, err := keeper.ImportBankFile(ctx, &buf, books.ImportOptions{Name: "s.xml", By: "finance"}); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("close, import and match: %s", time.Since(start).Round(time.Millisecond))
	return db, catalog, platforms * workers
}

// BenchmarkCoverageStatistics counts October and November by scheme and
// platform: 200,000 worker periods, 50,000 paid SESS statement lines.
func BenchmarkCoverageStatistics(b *testing.B) {
	db, catalog, workers := coverBench(b)
	ctx := context.Background()
	q := postgres.StatisticsQuery{From: calendar.D(2026, 10, 1), To: calendar.D(2026, 11, 1), ByScheme: true, ByPlatform: true}
	for b.Loop() {
		rows, err := db.CoverageStatistics(ctx, catalog, q)
		if err != nil {
			b.Fatal(err)
		}
		var covered int64
		for _, r := range rows {
			if r.Month == "2026-11" && r.SchemeID == "my-sess" {
				covered += r.Covered
			}
		}
		if covered != int64(workers) {
			b.Fatalf("covered in November under SESS = %d, want %d", covered, workers)
		}
	}
}

// BenchmarkCoverageFacts answers one worker's coverage on a date under
// both schemes, from the store's facts.
func BenchmarkCoverageFacts(b *testing.B) {
	db, catalog, _ := coverBench(b)
	ctx := context.Background()
	date := calendar.D(2026, 11, 20)
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("ref:p%03d:w%d", i%2, i%2500)
		i++
		ins, err := db.CoverageFacts(ctx, catalog, key, "", date)
		if err != nil || len(ins) != 2 {
			b.Fatalf("facts of %s: %d, %v", key, len(ins), err)
		}
		if a := coverage.Decide(ins[1]); !a.Covered {
			b.Fatalf("%s: %s", key, a.Why)
		}
	}
}
