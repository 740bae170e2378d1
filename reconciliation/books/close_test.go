package books_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// TestCloseSettlesAndStates closes October 2026 of Korea's employment
// insurance: a worker over the KRW 800,000 threshold keeps the deductions,
// one under it is refunded at close, and the statement states the net with
// an RF reference and the 10th of November as due date. Closing again
// changes nothing.
func TestCloseSettlesAndStates(t *testing.T) {
	f := newFixture(t)
	f.send(
		ev("coupang", "a1", "w1", "2026-10-05T10:00:00+09:00", "KRW", "600000"),
		ev("coupang", "a2", "w1", "2026-10-20T10:00:00+09:00", "KRW", "400000"), // w1: 1,000,000
		ev("coupang", "b1", "w2", "2026-10-07T10:00:00+09:00", "KRW", "500000"), // w2: under the threshold
	)
	rep := f.close("kr-ei", "2026-10")
	if !rep.Closed || rep.Settled != 2 || rep.Adjustments != 1 || len(rep.Statements) != 1 {
		t.Fatalf("report = %+v, want 2 settled, 1 adjustment, 1 statement", rep)
	}
	// w2's provisional 4,000 + 4,000 is refunded.
	if n := f.scalar(`SELECT count(*) FROM settlement_adjustments WHERE kind = 'refund_provisional'
		AND worker_minor = -4000 AND platform_minor = -4000 AND period = '2026-10' AND NOT late`); n != 1 {
		t.Errorf("refund adjustments = %d, want 1", n)
	}
	sts := f.statements("coupang", "kr-ei", "2026-10")
	if len(sts) != 1 {
		t.Fatalf("statements = %+v", sts)
	}
	st := sts[0]
	if st.Kind != statement.Original || st.Seq != 0 || st.Total.Amount != 16000 || st.Worker.Amount != 8000 ||
		st.DueDate.String() != "2026-11-10" || st.LineCount != 2 || st.ID != st.Reference {
		t.Errorf("statement = %+v, want 16,000 KRW due 2026-11-10 with 2 lines", st)
	}
	key, err := rfref.Parse(st.Reference)
	if err != nil || key.Scheme != "KREI" || key.Period != "2026-10" || key.Seq != 0 || key.Platform != 1 {
		t.Errorf("reference %s = %+v, %v", st.Reference, key, err)
	}
	var lines []statement.Line
	if err := f.db.EachStatementLine(f.ctx, &st, func(l statement.Line) error { lines = append(lines, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Total().Amount+lines[1].Total().Amount != 16000 {
		t.Errorf("lines = %+v", lines)
	}

	before := f.scalar(`SELECT (SELECT count(*) FROM settlement_adjustments) + (SELECT count(*) FROM statements) + (SELECT count(*) FROM statement_lines)`)
	if rep := f.close("kr-ei", "2026-10"); rep.Closed || len(rep.Statements) != 0 {
		t.Errorf("second close = %+v, want nothing done", rep)
	}
	if after := f.scalar(`SELECT (SELECT count(*) FROM settlement_adjustments) + (SELECT count(*) FROM statements) + (SELECT count(*) FROM statement_lines)`); after != before {
		t.Errorf("rows after the second close = %d, want %d", after, before)
	}
}

// TestLateAdjustmentsGiveSupplementary closes October, then a late October
// event lifts w2 over the threshold: it is booked in November, and
// November's close trues w2 up and issues a supplementary October
// statement, due with November.
func TestLateAdjustmentsGiveSupplementary(t *testing.T) {
	f := newFixture(t)
	f.send(
		ev("coupang", "a1", "w1", "2026-10-05T10:00:00+09:00", "KRW", "1000000"),
		ev("coupang", "b1", "w2", "2026-10-07T10:00:00+09:00", "KRW", "500000"),
	)
	f.close("kr-ei", "2026-10")
	f.now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	f.send(
		ev("coupang", "b2", "w2", "2026-10-30T10:00:00+09:00", "KRW", "400000"), // late: October is closed
		ev("coupang", "c1", "w3", "2026-11-10T10:00:00+09:00", "KRW", "900000"),
	)
	if n := f.scalar(`SELECT count(*) FROM ledger_entries WHERE event_id = 'b2' AND late AND booked_period = '2026-11'`); n != 1 {
		t.Fatalf("late entries = %d, want b2 booked late in November", n)
	}
	rep := f.close("kr-ei", "2026-11")
	if len(rep.LatePeriods) != 1 || rep.LatePeriods[0] != "2026-10" || len(rep.Statements) != 2 {
		t.Fatalf("report = %+v, want October restated with November", rep)
	}
	oct := f.statements("coupang", "kr-ei", "2026-10")
	if len(oct) != 2 {
		t.Fatalf("October statements = %d, want the original and one supplementary", len(oct))
	}
	sup := oct[1]
	// w2 now has 900,000: 7,200 + 7,200 due. The original stated 0 for w2
	// (4,000 + 4,000 deducted, refunded at close); b2 adds 3,200 + 3,200
	// and the true-up gives back the refunded 4,000 + 4,000.
	if sup.Kind != statement.Supplementary || sup.Seq != 1 || sup.Supplements != oct[0].ID || sup.Total.Amount != 14400 ||
		sup.DueDate.String() != "2026-12-10" || sup.LineCount != 1 || sup.LateEntries == 0 {
		t.Errorf("supplementary = %+v, want 14,400 for w2 due 2026-12-10", sup)
	}
	if n := f.scalar(`SELECT count(*) FROM settlement_adjustments WHERE kind = 'true_up' AND late AND booked_period = '2026-11'
		AND period = '2026-10' AND worker_minor = 4000`); n != 1 {
		t.Errorf("late true-ups = %d, want 1", n)
	}
	nov := f.statements("coupang", "kr-ei", "2026-11")
	if len(nov) != 1 || nov[0].Total.Amount != 14400 || nov[0].LateEntries != 0 {
		t.Errorf("November = %+v, want w3's 7,200 + 7,200", nov)
	}
	if rep := f.close("kr-ei", "2026-11"); rep.Closed {
		t.Errorf("closing November again = %+v", rep)
	}
}

// TestCloseLevy closes India's financial year 2025 for an aggregator: 1% of
// the gross its workers earned, capped at 5% of the base, as a platform
// line of the statement.
func TestCloseLevy(t *testing.T) {
	f := newFixture(t)
	f.send(
		ev("zomato", "z1", "r1", "2026-01-10T10:00:00+05:30", "INR", "10000.00"),
		ev("zomato", "z2", "r2", "2026-02-10T10:00:00+05:30", "INR", "5000.00"),
	)
	f.now = time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	rep := f.close("in-coss", "FY2025")
	if rep.Levies != 1 || len(rep.Statements) != 1 {
		t.Fatalf("report = %+v, want one levy and one statement", rep)
	}
	sts := f.statements("zomato", "in-coss", "FY2025")
	if len(sts) != 1 || sts[0].Total.Amount != 15000 || sts[0].Platform.Amount != 15000 || sts[0].DueDate.String() != "2026-06-30" {
		t.Fatalf("statements = %+v, want INR 150.00 due 2026-06-30", sts)
	}
	key, _ := rfref.Parse(sts[0].Reference)
	if key.Scheme != "COSS" || key.Period != "2025" {
		t.Errorf("reference key = %+v", key)
	}
	var levy int64
	err := f.db.EachStatementLine(context.Background(), &sts[0], func(l statement.Line) error {
		if l.WorkerKey == postgres.LevyWorkerKey {
			levy = l.Platform.Amount
		}
		return nil
	})
	if err != nil || levy != 15000 {
		t.Errorf("levy line = %d, %v; want 15000", levy, err)
	}
}

// TestCloseDue closes what is due on the clock, once.
func TestCloseDue(t *testing.T) {
	f := newFixture(t)
	f.send(
		ev("grab", "g1", "d1", "2026-10-03T10:00:00+08:00", "MYR", "100.00"),
		ev("grab", "g2", "d1", "2026-11-03T10:00:00+08:00", "MYR", "100.00"),
	)
	f.now = time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC) // October ended 31 Oct 16:00 UTC: grace runs to 3 Nov 16:00
	if err := f.books.CloseDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.scalar(`SELECT count(*) FROM period_closes`); n != 0 {
		t.Fatalf("closes within grace = %d", n)
	}
	f.now = time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)
	for range 2 {
		if err := f.books.CloseDue(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.scalar(`SELECT count(*) FROM period_closes WHERE scheme_id = 'my-gig' AND period = '2026-10'`); n != 1 {
		t.Errorf("October closes = %d, want 1", n)
	}
	sts := f.statements("grab", "my-gig", "")
	if len(sts) != 1 || sts[0].Key.Period != "2026-10" || sts[0].Total.Amount != 125 || sts[0].DueDate.String() != "2026-11-16" {
		t.Errorf("statements = %+v, want October's RM1.25 due Monday 16 November", sts)
	}
}

// failingState is the database with the stating transaction of the next
// close failing once, as if the process stopped between the two.
type failingState struct {
	*postgres.DB
	fail bool
}

func (f *failingState) InPeriodClose(ctx context.Context, scheme, period string, at time.Time, settle, state func(*postgres.CloseTx) error) (bool, error) {
	return f.DB.InPeriodClose(ctx, scheme, period, at, settle, func(tx *postgres.CloseTx) error {
		if f.fail {
			f.fail = false
			return errors.New("stopped")
		}
		return state(tx)
	})
}

// TestCloseResumes stops a close after it settled and before it stated:
// the period is closed and settled, not stated; closing again states it
// without settling twice.
func TestCloseResumes(t *testing.T) {
	f := newFixture(t)
	f.send(
		ev("coupang", "a1", "w1", "2026-10-05T10:00:00+09:00", "KRW", "1000000"),
		ev("coupang", "b1", "w2", "2026-10-07T10:00:00+09:00", "KRW", "500000"),
	)
	catalog, _ := gateway.BuiltinPacks()
	store := &failingState{DB: f.db, fail: true}
	keeper, err := books.New(books.Config{Store: store, Catalog: catalog, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keeper.ClosePeriod(f.ctx, "kr-ei", "2026-10"); err == nil {
		t.Fatal("the close did not fail")
	}
	if n := f.scalar(`SELECT (SELECT count(*) FROM scheme_periods WHERE status = 'closed') * 100 + (SELECT count(*) FROM settlement_adjustments) * 10
		+ (SELECT count(*) FROM statements) + (SELECT count(*) FROM period_closes)`); n != 110 {
		t.Fatalf("after the stop: %d, want closed (100) and settled (10), not stated", n)
	}
	rep, err := keeper.ClosePeriod(f.ctx, "kr-ei", "2026-10")
	if err != nil || !rep.Closed || rep.Adjustments != 0 || len(rep.Statements) != 1 {
		t.Fatalf("resumed close = %+v, %v; want the statement and no new adjustment", rep, err)
	}
	if sts := f.statements("coupang", "kr-ei", "2026-10"); len(sts) != 1 || sts[0].Total.Amount != 16000 {
		t.Errorf("statements = %+v", sts)
	}
}
