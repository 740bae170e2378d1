package postgres_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// ledgerFixture is a database with platform grab (MYR, Malaysia's Gig Workers Act
// section 83 deduction, 1.25% of earnings), the real deduction engine on
// one partition and the real books (period close, statements).
type ledgerFixture struct {
	t      *testing.T
	ctx    context.Context
	db     *postgres.DB
	eng    *engine.Engine
	books  *books.Keeper
	claim  kafkabus.Claim
	mu     sync.Mutex
	offset int64
	now    time.Time
}

func newLedgerFixture(t *testing.T) *ledgerFixture {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	if err := db.CreatePlatform(ctx, postgres.Platform{ID: "grab", Name: "Ride", Country: "MY", Currency: "MYR",
		ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Schemes:    []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}}); err != nil {
		t.Fatal(err)
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	f := &ledgerFixture{t: t, ctx: ctx, db: db, now: time.Date(2026, 11, 5, 3, 0, 0, 0, time.UTC)}
	clock := func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	f.eng = engine.New(engine.Config{Store: db, Catalog: catalog, Now: clock})
	if f.books, err = books.New(books.Config{Store: db, Catalog: catalog, Now: clock}); err != nil {
		t.Fatal(err)
	}
	f.claim = kafkabus.Claim{Group: "g", Topic: "earnings", Partition: 0, Generation: 1}
	if f.claim.Epoch, _, err = f.eng.ClaimPartition(ctx, f.claim); err != nil {
		t.Fatal(err)
	}
	return f
}

// send applies one engine batch of grab's events: id, worker_ref, day of
// October 2026 (Kuala Lumpur), gross in MYR.
func (f *ledgerFixture) send(events ...[4]string) {
	f.t.Helper()
	if err := f.sendErr(events...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *ledgerFixture) sendErr(events ...[4]string) error {
	var msgs []kafka.Message
	for _, e := range events {
		v := fmt.Sprintf(`{"event_id":%q,"platform_id":"grab","worker_ref":%q,"occurred_at":"2026-%sT10:00:00+08:00","gross":{"currency":"MYR","value":%q}}`,
			e[0], e[1], e[2], e[3])
		msgs = append(msgs, kafka.Message{Topic: "earnings", Offset: f.offset, Value: []byte(v)})
		f.offset++
	}
	return f.eng.HandleBatch(f.ctx, f.claim, msgs)
}

func (f *ledgerFixture) scalar(sql string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.Pool.QueryRow(f.ctx, sql, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (f *ledgerFixture) register(ref, key, agent string) postgres.Transfer {
	f.t.Helper()
	r := postgres.Registration{PlatformID: "grab", WorkerRef: ref, WorkerKey: key, SchemeID: "my-gig",
		Change: postgres.RegistrationStart, Effective: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), AgentID: agent}
	_, _, moved, err := f.db.RegisterMoving(f.ctx, postgres.NewWorker{WorkerKey: key, Country: "MY", Sealed: []byte("s")}, r,
		sha256.Sum256([]byte(ref+key+agent)))
	if err != nil {
		f.t.Fatalf("register %s: %v", ref, err)
	}
	return moved
}

func (f *ledgerFixture) close(period string) books.CloseReport {
	f.t.Helper()
	rep, err := f.books.ClosePeriod(f.ctx, "my-gig", period)
	if err != nil {
		f.t.Fatalf("close %s: %v", period, err)
	}
	return rep
}

// lines returns the statement lines of grab's my-gig statements of period
// by worker: worker share summed over the statements.
func (f *ledgerFixture) lines(period string) map[string]int64 {
	f.t.Helper()
	sts, err := f.db.Statements(f.ctx, postgres.StatementFilter{PlatformID: "grab", SchemeID: "my-gig", Period: period})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int64{}
	for i := range sts {
		err := f.db.EachStatementLine(f.ctx, &sts[i], func(l statement.Line) error {
			out[l.WorkerKey] += l.Worker.Amount
			return nil
		})
		if err != nil {
			f.t.Fatal(err)
		}
	}
	return out
}

func workerKey(n int) string { return fmt.Sprintf("%064x", n) }

// TestSuspenseMovesToWorker records October earnings of a reference the
// platform has not registered (in suspense), then registers it: the
// entries move to the worker without editing the ledger, once, with their
// running totals, and October's statement states them under the worker.
func TestSuspenseMovesToWorker(t *testing.T) {
	f := newLedgerFixture(t)
	suspense := postgres.SuspenseWorkerID("grab", "drv-1")
	f.send([4]string{"e1", "drv-1", "10-03", "100.00"}, [4]string{"e2", "drv-1", "10-04", "60.00"},
		[4]string{"o1", "drv-9", "10-05", "40.00"}) // drv-9 stays in suspense
	if n := f.scalar(`SELECT count(*) FROM ledger_entries WHERE worker_id = $1 AND NOT registered`, suspense); n != 2 {
		t.Fatalf("suspense entries = %d, want 2", n)
	}
	k := workerKey(1)
	moved := f.register("drv-1", k, "")
	// 1.25% of 100.00 and of 60.00: 1.25 + 0.75.
	if moved.Entries != 2 || moved.Worker != 200 || moved.Gross != 16000 {
		t.Fatalf("moved = %+v, want 2 entries, 2.00 withheld of 160.00", moved)
	}
	var events, gross, withheld int64
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT events, gross, worker_minor FROM worker_periods
		WHERE worker_id = $1 AND platform_id = 'grab' AND scheme_id = 'my-gig' AND period = '2026-10'`, k).Scan(&events, &gross, &withheld); err != nil {
		t.Fatal(err)
	}
	if events != 2 || gross != 16000 || withheld != 200 {
		t.Errorf("worker's October = %d events, %d gross, %d withheld; want 2, 16000, 200", events, gross, withheld)
	}
	if n := f.scalar(`SELECT count(*) FROM worker_periods WHERE worker_id = $1 AND trim(currency) <> ''`, suspense); n != 0 {
		t.Errorf("the reference keeps %d running totals, want them emptied", n)
	}
	// The same registration again, and once more with nothing new: nothing
	// moves twice, and the ledger is as it was.
	if again := f.register("drv-1", k, ""); again.Entries != 0 {
		t.Errorf("registering again moved %+v", again)
	}
	if n := f.scalar(`SELECT count(*) FROM suspense_transfers`); n != 2 {
		t.Errorf("transfers = %d, want 2", n)
	}
	if n := f.scalar(`SELECT count(*) FROM ledger_entries WHERE worker_id = $1`, suspense); n != 2 {
		t.Errorf("ledger entries under the reference = %d, want the 2 recorded, unedited", n)
	}
	if _, err := f.db.Pool.Exec(f.ctx, `DELETE FROM suspense_transfers`); err == nil {
		t.Error("suspense_transfers took a DELETE")
	}
	// Events after the registration go to the worker directly, on top of
	// the moved totals.
	f.send([4]string{"e3", "drv-1", "10-20", "40.00"})
	if w := f.scalar(`SELECT worker_minor FROM worker_periods WHERE worker_id = $1 AND period = '2026-10'`, k); w != 250 {
		t.Errorf("worker's October withheld = %d, want 250", w)
	}
	f.close("2026-10")
	lines := f.lines("2026-10")
	if lines[k] != 250 || lines[suspense] != 0 || lines[postgres.SuspenseWorkerID("grab", "drv-9")] != 50 {
		t.Errorf("statement lines = %v, want the worker 2.50, drv-9 still in suspense 0.50, nothing under drv-1's reference", lines)
	}

	// A late October event of a reference still in suspense, registered in
	// November: it moves, and November's close restates October with it
	// under the worker.
	f.now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	f.send([4]string{"o2", "drv-9", "10-30", "80.00"})
	k9 := workerKey(9)
	if moved := f.register("drv-9", k9, ""); moved.Entries != 2 || moved.Worker != 150 {
		t.Fatalf("moved = %+v, want drv-9's 2 entries, 1.50", moved)
	}
	f.close("2026-11")
	lines = f.lines("2026-10")
	if lines[k9] != 150 || lines[postgres.SuspenseWorkerID("grab", "drv-9")] != 0 || lines[k] != 250 {
		t.Errorf("October lines after November's close = %v, want drv-9's 1.50 under its worker", lines)
	}
}

// TestSuspenseMoveWithEngineRunning registers references one after the
// other while engine batches with their events run: every event ends up
// counted for its worker once, whichever side of a registration its batch
// fell on, and nothing is left in suspense.
func TestSuspenseMoveWithEngineRunning(t *testing.T) {
	f := newLedgerFixture(t)
	const batches, perBatch, workers = 40, 30, 10
	done := make(chan error, 1)
	go func() {
		for b := range batches {
			var evs [][4]string
			for i := range perBatch {
				evs = append(evs, [4]string{fmt.Sprintf("c%d-%d", b, i), fmt.Sprintf("drv-%d", i%workers), "10-10", "10.00"})
			}
			if err := f.sendErr(evs...); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	// Register each reference once more batches are in.
	deadline := time.Now().Add(time.Minute)
	for w := range workers {
		for f.scalar(`SELECT count(*) FROM ledger_entries`) < int64((w+1)*batches*perBatch/(workers+2)) && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		f.register(fmt.Sprintf("drv-%d", w), workerKey(100+w), "")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.scalar(`SELECT count(*) FROM ledger_entries l WHERE NOT registered
		AND NOT EXISTS (SELECT 1 FROM suspense_transfers t WHERE t.entry_id = l.id)`); n != 0 {
		t.Errorf("%d entries left in suspense", n)
	}
	// Each worker has batches*perBatch/workers events of 10.00: 0.125
	// rounds half up to 0.13 each.
	per := int64(batches * perBatch / workers)
	for w := range workers {
		k := workerKey(100 + w)
		if wm, e := f.scalar(`SELECT worker_minor FROM worker_periods WHERE worker_id = $1`, k),
			f.scalar(`SELECT events FROM worker_periods WHERE worker_id = $1`, k); wm != per*13 || e != per {
			t.Errorf("worker %d's totals = %d events, %d withheld; want %d, %d", w, e, wm, per, per*13)
		}
	}
	if n := f.scalar(`SELECT count(*) FROM worker_periods WHERE worker_id LIKE 'ref:%' AND trim(currency) <> ''`); n != 0 {
		t.Errorf("%d references keep running totals", n)
	}
	t.Logf("transfers: %d of %d events", f.scalar(`SELECT count(*) FROM suspense_transfers`), batches*perBatch)
}

// TestAgentCommission registers workers through an agent and closes
// October: the agent earns 5% of the contributions, rounded half up, once;
// a late October event adds the difference at November's close; a scheme's
// own rate applies from the next accrual.
func TestAgentCommission(t *testing.T) {
	f := newLedgerFixture(t)
	if _, _, err := f.db.CreateAgent(f.ctx, postgres.Agent{PlatformID: "grab", AgentID: "ag-1", Name: "Agen Satu"}); err != nil {
		t.Fatal(err)
	}
	if _, created, err := f.db.CreateAgent(f.ctx, postgres.Agent{PlatformID: "grab", AgentID: "ag-1", Name: "Agen Satu"}); err != nil || created {
		t.Errorf("declaring again = %v, %v; want the stored one", created, err)
	}
	if _, _, err := f.db.CreateAgent(f.ctx, postgres.Agent{PlatformID: "grab", AgentID: "ag-1", Name: "Other"}); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("another name = %v, want conflict", err)
	}
	r := postgres.Registration{PlatformID: "grab", WorkerRef: "x", WorkerKey: workerKey(99), SchemeID: "my-gig",
		Change: postgres.RegistrationStart, Effective: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), AgentID: "nobody"}
	if _, _, err := f.db.Register(f.ctx, postgres.NewWorker{WorkerKey: workerKey(99), Country: "MY", Sealed: []byte("s")}, r, sha256.Sum256([]byte("x"))); gateway.ErrorCode(err) != gateway.EINVALID ||
		!strings.Contains(err.Error(), "agent") {
		t.Errorf("unknown agent = %v, want invalid", err)
	}

	// drv-1 earns in suspense first, then is registered by the agent:
	// the moved entries count for the agent too.
	f.send([4]string{"a1", "drv-1", "10-02", "100.00"}, [4]string{"a2", "drv-2", "10-02", "100.00"})
	f.register("drv-1", workerKey(1), "ag-1")
	f.register("drv-2", workerKey(2), "") // no agent
	f.send([4]string{"a3", "drv-1", "10-03", "100.00"}, [4]string{"a4", "drv-1", "10-04", "50.00"},
		[4]string{"a5", "drv-2", "10-04", "300.00"})
	f.close("2026-10")
	// drv-1: 1.25 + 1.25 + 0.63 (0.625 half up) = 3.13; 5% = 0.1565 → 0.16.
	cs, err := f.db.AgentCommissions(f.ctx, postgres.AgentCommissionFilter{Period: "2026-10"}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].AgentID != "ag-1" || cs[0].WorkerID != workerKey(1) || cs[0].Base != 313 || cs[0].Commission != 16 ||
		cs[0].Rate != "5%" || cs[0].BookedPeriod != "2026-10" || cs[0].Currency != "MYR" {
		t.Fatalf("commissions = %+v, want 0.16 on 3.13 for ag-1", cs)
	}
	if rep := f.close("2026-10"); rep.Closed {
		t.Errorf("second close = %+v", rep)
	}
	if n := f.scalar(`SELECT count(*) FROM agent_commissions`); n != 1 {
		t.Errorf("accruals after closing twice = %d, want 1", n)
	}

	// A scheme's own rate, then a late October event: November's close
	// accrues the difference on everything stated for October, at the
	// rate in force: 4% of 3.13 + 1.25 = 4.38 is 0.1752 → 0.18, less 0.16.
	if err := f.db.SetAgentCommissionRates(f.ctx, gateway.MustParseRate("5%"), map[string]gateway.Rate{"my-gig": gateway.MustParseRate("4%")}); err != nil {
		t.Fatal(err)
	}
	f.now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	f.send([4]string{"a6", "drv-1", "10-30", "100.00"})
	f.close("2026-11")
	cs, err = f.db.AgentCommissions(f.ctx, postgres.AgentCommissionFilter{AgentID: "ag-1"}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[1].BookedPeriod != "2026-11" || cs[1].Period != "2026-10" || cs[1].Base != 125 || cs[1].Commission != 2 ||
		cs[1].Rate != "4%" {
		t.Fatalf("commissions = %+v, want a second October accrual of 0.02 on 1.25 booked in November", cs)
	}
	if n := f.scalar(`SELECT sum(commission_minor) FROM agent_commissions WHERE period = '2026-10'`); n != 18 {
		t.Errorf("October's commission = %d, want 18", n)
	}
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE agent_commissions SET commission_minor = 0`); err == nil {
		t.Error("agent_commissions took an UPDATE")
	}
}

// TestKafkaNationalIDRejected produces an event with a raw national ID
// straight to the engine, as a platform writing to the earnings topic
// would: it is rejected with raw_national_id, and nothing is recorded.
func TestKafkaNationalIDRejected(t *testing.T) {
	f := newLedgerFixture(t)
	msg := kafka.Message{Topic: "earnings", Offset: 0, Value: []byte(`{"event_id":"k1","platform_id":"grab","worker_ref":"drv-1",` +
		`"national_id":{"country":"MY","number":"900101-14-5678"},"occurred_at":"2026-10-03T10:00:00+08:00","gross":{"currency":"MYR","value":"10.00"}}`)}
	if err := f.eng.HandleBatch(f.ctx, f.claim, []kafka.Message{msg}); err != nil {
		t.Fatal(err)
	}
	if n := f.scalar(`SELECT count(*) FROM rejected_events WHERE event_id = 'k1' AND code = 'raw_national_id' AND field = 'national_id'`); n != 1 {
		t.Errorf("rejections with raw_national_id = %d, want 1", n)
	}
	if n := f.scalar(`SELECT count(*) FROM ledger_entries`) + f.scalar(`SELECT count(*) FROM earning_events`); n != 0 {
		t.Errorf("%d rows recorded for a rejected event", n)
	}
	// What is kept of it (listed to the platform, relayed to the
	// dead-letter topic) masks the number.
	var kept string
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT convert_from(payload, 'UTF8') FROM rejected_events WHERE event_id = 'k1'`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(kept, "900101") || strings.Contains(kept, "14-56") || !strings.Contains(kept, `"country":"MY"`) {
		t.Errorf("kept payload %s, want the number masked and the rest kept", kept)
	}
}

// TestCloseSweepsSuspense registers a reference from 10 October, after its
// earlier events: an event dated before the start that arrives after the
// registration lands in suspense again, and October's close moves it to the
// worker before settling, so the statement has one line for the worker and
// none for the reference; the reversal of an event already moved is the
// worker's at once.
func TestCloseSweepsSuspense(t *testing.T) {
	f := newLedgerFixture(t)
	suspense := postgres.SuspenseWorkerID("grab", "drv-1")
	f.send([4]string{"e1", "drv-1", "10-03", "100.00"}, [4]string{"e2", "drv-1", "10-04", "60.00"})
	k := workerKey(1)
	r := postgres.Registration{PlatformID: "grab", WorkerRef: "drv-1", WorkerKey: k, SchemeID: "my-gig",
		Change: postgres.RegistrationStart, Effective: time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)}
	if _, _, moved, err := f.db.RegisterMoving(f.ctx, postgres.NewWorker{WorkerKey: k, Country: "MY", Sealed: []byte("s")}, r,
		sha256.Sum256([]byte("r"))); err != nil || moved.Entries != 2 {
		t.Fatalf("register = %+v, %v", moved, err)
	}
	rev := kafka.Message{Topic: "earnings", Offset: f.offset, Value: []byte(`{"event_id":"r1","platform_id":"grab","worker_ref":"drv-1",` +
		`"occurred_at":"2026-10-05T10:00:00+08:00","gross":{"currency":"MYR","value":"-100.00"},"kind":"reversal","reverses":"e1"}`)}
	f.offset++
	if err := f.eng.HandleBatch(f.ctx, f.claim, []kafka.Message{rev}); err != nil {
		t.Fatal(err)
	}
	f.send([4]string{"e3", "drv-1", "10-05", "40.00"}, [4]string{"e4", "drv-1", "10-15", "20.00"})
	if n := f.scalar(`SELECT count(*) FROM ledger_entries l WHERE worker_id = $1
		AND NOT EXISTS (SELECT 1 FROM suspense_transfers t WHERE t.entry_id = l.id)`, suspense); n != 1 {
		t.Fatalf("entries back in suspense = %d, want the early event alone", n)
	}
	// The reversal of a moved event is booked for the worker at once.
	if n := f.scalar(`SELECT count(*) FROM ledger_entries WHERE event_id = 'r1' AND worker_id = $1 AND registered`, k); n != 1 {
		t.Fatalf("reversals booked for the worker = %d, want 1", n)
	}
	f.close("2026-10")
	lines := f.lines("2026-10")
	// 0.75 (e2) + 0.50 (e3) + 0.25 (e4); e1 and its reversal cancel out.
	if len(lines) != 1 || lines[k] != 150 {
		t.Errorf("statement lines = %v, want the worker's 1.50 alone", lines)
	}
	var events, withheld int64
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT events, worker_minor FROM worker_periods WHERE worker_id = $1 AND period = '2026-10'`, k).
		Scan(&events, &withheld); err != nil || events != 3 || withheld != 150 {
		t.Errorf("worker's October = %d events, %d withheld, %v; want 3, 150", events, withheld, err)
	}
	if n := f.scalar(`SELECT count(*) FROM suspense_transfers`); n != 3 {
		t.Errorf("transfers = %d, want 3: two at registration, the early event at close", n)
	}
}
