package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/gaps"
	"github.com/coverbridge/coverbridge/testing/banktest"
)

// gapRig is a database with two platforms of my-gig whose October 2026 is
// closed: p0001's three workers and p0002's three, one of whom (drv-9)
// p0002 had not registered. Every worker had 10.00 MYR withheld.
type gapRig struct {
	t     *testing.T
	ctx   context.Context
	db    *postgres.DB
	books *books.Keeper
	now   time.Time
	sts   map[string]postgres.IssuedStatement // by platform
	files int
}

func newGapRig(t *testing.T) *gapRig {
	t.Helper()
	r := &gapRig{t: t, ctx: context.Background(), db: open(t), now: time.Date(2026, 11, 5, 3, 0, 0, 0, time.UTC),
		sts: map[string]postgres.IssuedStatement{}}
	r.exec(`INSERT INTO platforms (id, name, country, currency, active_from)
		SELECT 'p000' || p, 'Platform ' || p, 'MY', 'MYR', '2025-01-01' FROM generate_series(1, 2) p`)
	r.exec(`INSERT INTO platform_schemes (platform_id, scheme_id, plan_id) SELECT id, 'my-gig', 's83' FROM platforms`)
	for _, w := range []struct{ platform, worker string }{
		{"p0001", "w11"}, {"p0001", "w12"}, {"p0001", "w13"}, {"p0002", "w21"}, {"p0002", "w22"}, {"p0002", "ref:p0002:drv-9"},
	} {
		r.entry(w.platform, "e-"+w.worker, w.worker, !strings.HasPrefix(w.worker, "ref:"), time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC))
	}
	r.exec(`INSERT INTO worker_periods (worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base, insured,
		        orders, units, worker_minor, platform_minor)
		 SELECT worker_id, platform_id, scheme_id, plan_id, period, currency, 1, gross_minor, base_minor, insured_minor, 1, 0,
		        worker_minor, platform_minor
		 FROM ledger_entries`)
	r.exec(`INSERT INTO platform_period_balances (platform_id, scheme_id, period, source_partition, currency, entries, late_entries,
		        worker_minor, platform_minor)
		 SELECT platform_id, scheme_id, booked_period, 0, currency, count(*), 0, sum(worker_minor), sum(platform_minor)
		 FROM ledger_entries GROUP BY platform_id, scheme_id, booked_period, currency`)
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	r.books, err = books.New(books.Config{Store: r.db, Catalog: catalog, Now: func() time.Time { return r.now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.books.ClosePeriod(r.ctx, "my-gig", "2026-10"); err != nil {
		t.Fatal(err)
	}
	sts, err := r.db.Statements(r.ctx, postgres.StatementFilter{SchemeID: "my-gig"})
	if err != nil || len(sts) != 2 {
		t.Fatalf("statements: %+v, %v", sts, err)
	}
	for _, st := range sts {
		r.sts[st.Key.Platform] = st
	}
	return r
}

func (r *gapRig) exec(q string, args ...any) {
	r.t.Helper()
	if _, err := r.db.Pool.Exec(r.ctx, q, args...); err != nil {
		r.t.Fatalf("%v\n%s", err, q)
	}
}

// entry records a 10.00 MYR deduction of worker in October 2026.
func (r *gapRig) entry(platform, event, worker string, registered bool, at time.Time) {
	r.t.Helper()
	r.exec(`INSERT INTO ledger_entries (platform_id, event_id, worker_id, scheme_id, plan_id, plan_version, period, booked_period,
		        entry_kind, late, currency, worker_minor, platform_minor, gross_minor, base_minor, insured_minor, orders, units,
		        flags, registered, source_partition, source_offset, created_at)
		VALUES ($1, $2, $3, 'my-gig', 's83', 1, '2026-10', '2026-10', 'deduction', false, 'MYR', 1000, 0, 80000, 80000, 80000,
		        1, 0, 0, $4, 0, 0, $5)`, platform, event, worker, registered, at)
}

// pay imports a bank file of credits and runs matching at r.now.
func (r *gapRig) pay(credits ...bankstatement.Receipt) {
	r.t.Helper()
	r.files++
	var file bytes.Buffer
	if err := banktest.Camt053(&file, "GAPS", bankstatement.Statement{ID: "GAPS-" + string(rune('0'+r.files)),
		Account: bankstatement.Account{Other: "564210002211"}, Currency: "MYR", Receipts: credits}); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.books.ImportBankFile(r.ctx, &file, books.ImportOptions{Name: "gaps.xml"}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *gapRig) detect(at time.Time) postgres.GapDetection {
	r.t.Helper()
	rep, err := r.db.DetectGaps(r.ctx, postgres.GapTriggerCommand, gaps.Config{}, at)
	if err != nil {
		r.t.Fatal(err)
	}
	return rep
}

// gap returns the gap of a key and its history.
func (r *gapRig) gap(k gaps.Key) (postgres.Gap, []postgres.GapEvent) {
	r.t.Helper()
	gs, err := r.db.Gaps(r.ctx, postgres.GapFilter{Kind: k.Kind, PlatformID: k.PlatformID, Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, g := range gs {
		if g.Key == k {
			g, hist, err := r.db.Gap(r.ctx, g.ID)
			if err != nil {
				r.t.Fatal(err)
			}
			return g, hist
		}
	}
	r.t.Fatalf("no gap %s", k)
	return postgres.Gap{}, nil
}

func actions(hist []postgres.GapEvent) []string {
	var out []string
	for _, e := range hist {
		out = append(out, e.Action)
	}
	return out
}

func sameStrings(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDetectGaps(t *testing.T) {
	r := newGapRig(t)
	p1, p2 := r.sts["p0001"], r.sts["p0002"]
	// p0001 pays on time; p0002 nothing; an unknown payer 12.34.
	r.now = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r.pay(banktest.Credit("MYR", p1.Total.Amount, calendar.D(2026, 11, 10), p1.Reference, ""),
		banktest.Credit("MYR", 1234, calendar.D(2026, 11, 12), "", "UNKNOWN-1"))

	rep := r.detect(r.now)
	want := map[gaps.Kind]int{gaps.Missing: 1, gaps.WithheldNotRemitted: 3, gaps.UnregisteredWorker: 1, gaps.UnmatchedReceipt: 1,
		gaps.SilentPlatform: 2}
	if rep.Found != 8 || rep.Opened != 8 || rep.Cured != 0 || len(rep.Kinds) != len(want) {
		t.Fatalf("first detection: %+v", rep)
	}
	for k, n := range want {
		if rep.Kinds[k] != n {
			t.Errorf("%s: %d found, want %d", k, rep.Kinds[k], n)
		}
	}
	missing := gaps.Key{Kind: gaps.Missing, PlatformID: "p0002", SchemeID: "my-gig", Period: "2026-10"}
	g, hist := r.gap(missing)
	if g.Amount != 3000 || g.Interest <= 0 || g.Status != gaps.Open || g.Evidence.Statements[0] != p2.ID || g.Evidence.RunID == 0 ||
		!sameStrings(actions(hist), "detected") || hist[0].Actor != "detection" {
		t.Errorf("missing: %+v %+v", g, hist)
	}
	withheld, _ := r.gap(gaps.Key{Kind: gaps.WithheldNotRemitted, PlatformID: "p0002", SchemeID: "my-gig", Period: "2026-10", Subject: "w21"})
	if withheld.Amount != 1000 || withheld.Evidence.Statements[0] != p2.ID {
		t.Errorf("withheld: %+v", withheld)
	}
	unreg, _ := r.gap(gaps.Key{Kind: gaps.UnregisteredWorker, PlatformID: "p0002", SchemeID: "my-gig", Period: "2026-10", Subject: "ref:p0002:drv-9"})
	if unreg.Amount != 1000 || len(unreg.Evidence.Events) != 1 || unreg.Evidence.Events[0] != "e-ref:p0002:drv-9" {
		t.Errorf("unregistered: %+v", unreg)
	}

	// Detecting again changes nothing.
	var history int
	r.db.Pool.QueryRow(r.ctx, `SELECT count(*) FROM gap_history`).Scan(&history)
	if rep := r.detect(r.now); rep.Found != 8 || rep.Opened+rep.Updated+rep.Cured+rep.Reopened != 0 {
		t.Errorf("second detection: %+v", rep)
	}
	if n := count(t, r.db, "gap_history"); n != history {
		t.Errorf("the second detection wrote history: %d rows, then %d", history, n)
	}
	// A new matching run that finds the same changes nothing either.
	if _, err := r.books.Reconcile(r.ctx, books.TriggerManual); err != nil {
		t.Fatal(err)
	}
	if rep := r.detect(r.now); rep.Found != 8 || rep.Opened+rep.Updated+rep.Cured+rep.Reopened != 0 {
		t.Errorf("detection after a new run: %+v", rep)
	}
	var updated int
	r.db.Pool.QueryRow(r.ctx, `SELECT count(*) FROM gaps WHERE updated_at <> detected_at`).Scan(&updated)
	if n := count(t, r.db, "gap_history"); n != history || updated != 0 {
		t.Errorf("a new run rewrote gaps: %d history rows, then %d; %d gaps updated", history, n, updated)
	}

	// p0002 pays late: missing and withheld cure themselves, late opens.
	r.now = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	r.pay(banktest.Credit("MYR", p2.Total.Amount, calendar.D(2026, 12, 2), p2.Reference, ""))
	rep = r.detect(r.now)
	if rep.Cured != 4 || rep.Kinds[gaps.Late] != 1 || rep.Kinds[gaps.Missing] != 0 {
		t.Errorf("after payment: %+v", rep)
	}
	g, hist = r.gap(missing)
	if g.Status != gaps.Resolved || !g.Cured || !sameStrings(actions(hist), "detected", "cured") ||
		hist[1].From != gaps.Open || hist[1].To != gaps.Resolved || hist[1].Note != "cured: payment for the period has arrived" {
		t.Errorf("missing after payment: %+v %+v", g, hist)
	}
	late, _ := r.gap(gaps.Key{Kind: gaps.Late, PlatformID: "p0002", SchemeID: "my-gig", Period: "2026-10"})
	if late.Interest <= 0 || late.Status != gaps.Open {
		t.Errorf("late: %+v", late)
	}

	// drv-9 registers: the unregistered worker gap cures itself.
	r.exec(`INSERT INTO workers (worker_key, country, national_id) VALUES ('wk-9', 'MY', '\x00')`)
	r.exec(`INSERT INTO registrations (platform_id, worker_ref, worker_key, scheme_id, change, effective, request_hash)
		VALUES ('p0002', 'drv-9', 'wk-9', 'my-gig', 'start', '2026-12-01', '\x00')`)
	if rep := r.detect(r.now); rep.Cured != 1 {
		t.Errorf("after registration: %+v", rep)
	}
	if g, _ := r.gap(unreg.Key); g.Status != gaps.Resolved {
		t.Errorf("unregistered after registration: %+v", g)
	}

	// p0001 reports again: not silent; quiet again later: reopened.
	r.entry("p0001", "e-dec-1", "w11", true, r.now.Add(-time.Hour))
	r.detect(r.now)
	silent := gaps.Key{Kind: gaps.SilentPlatform, PlatformID: "p0001"}
	if g, _ := r.gap(silent); g.Status != gaps.Resolved {
		t.Errorf("silent after earnings: %+v", g)
	}
	later := time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC)
	if rep := r.detect(later); rep.Reopened != 1 {
		t.Errorf("quiet again: %+v", rep)
	}
	g, hist = r.gap(silent)
	if g.Status != gaps.Open || g.Cured || !sameStrings(actions(hist), "detected", "cured", "reopened") || hist[2].To != gaps.Open {
		t.Errorf("silent reopened: %+v %v", g, actions(hist))
	}

	// People's changes, checked by the state machine.
	by := func(at time.Time) postgres.GapChange { return postgres.GapChange{By: "compliance:k1", At: at} }
	c := by(later)
	c.Status = gaps.Acknowledged
	if g, _, err := r.db.SetGapStatus(r.ctx, g.ID, c); err != nil || g.Status != gaps.Acknowledged {
		t.Fatalf("acknowledge: %+v %v", g, err)
	}
	c.Status = gaps.Open
	var ge *gateway.Error
	if _, _, err := r.db.SetGapStatus(r.ctx, g.ID, c); !errors.As(err, &ge) || ge.Code != gateway.EINVALID || ge.Details[0].Field != "status" {
		t.Errorf("acknowledged → open: %v", err)
	}
	c.Status = gaps.Waived
	if _, _, err := r.db.SetGapStatus(r.ctx, g.ID, c); !errors.As(err, &ge) || ge.Details[0].Field != "reason" {
		t.Errorf("waive without a reason: %v", err)
	}
	c.Reason = "the platform closed its Malaysian business"
	g, hist, err := r.db.SetGapStatus(r.ctx, g.ID, c)
	if err != nil || g.Status != gaps.Waived || g.Reason != c.Reason {
		t.Fatalf("waive: %+v %v", g, err)
	}
	if _, hist2, _ := r.db.SetGapStatus(r.ctx, g.ID, c); len(hist2) != len(hist) {
		t.Errorf("waiving again added history")
	}
	if _, _, err := r.db.SetGapStatus(r.ctx, 999999, c); !errors.As(err, &ge) || ge.Code != gateway.ENOTFOUND {
		t.Errorf("unknown gap: %v", err)
	}
	c = by(later)
	c.Assignee = "aisha"
	r.db.AssignGap(r.ctx, g.ID, c)
	c.Note = "called their office"
	r.db.AddGapNote(r.ctx, g.ID, c)
	g, hist, _ = r.db.AddGapNote(r.ctx, g.ID, c)
	if g.Assignee != "aisha" || !sameStrings(actions(hist), "detected", "cured", "reopened", "status", "status", "assigned", "note") {
		t.Errorf("assign and note: %+v %v", g, actions(hist))
	}
	if rep := r.detect(later); rep.Opened+rep.Cured+rep.Reopened != 0 {
		t.Errorf("detection after a waiver: %+v", rep)
	}
	if g, _ := r.gap(silent); g.Status != gaps.Waived {
		t.Errorf("the waiver did not hold: %+v", g)
	}

	// A notice to p0002 lists its open gaps and is sent once.
	renders := 0
	render := func(d postgres.NoticeDraft) ([]byte, error) {
		renders++
		if d.PlatformName != "Platform 2" || len(d.Gaps) == 0 {
			t.Errorf("draft: %+v", d)
		}
		return []byte("%PDF-1.3 test"), nil
	}
	n, created, err := r.db.CreateGapNotice(r.ctx, "p0002", "compliance:k1", later, render)
	if err != nil || !created || n.ID == 0 || len(n.GapIDs) != 2 {
		t.Fatalf("notice: %+v %v %v", n, created, err)
	}
	again, created, err := r.db.CreateGapNotice(r.ctx, "p0002", "compliance:k1", later.Add(time.Hour), render)
	if err != nil || created || again.ID != n.ID || renders != 1 {
		t.Errorf("notice again: %+v %v %v, %d renders", again, created, err, renders)
	}
	late, hist = r.gap(late.Key)
	if late.Status != gaps.NoticeSent || actions(hist)[len(hist)-1] != "notice" {
		t.Errorf("late after the notice: %+v %v", late, actions(hist))
	}
	if stored, err := r.db.GapNoticeByID(r.ctx, n.ID); err != nil || string(stored.PDF) != "%PDF-1.3 test" {
		t.Errorf("stored notice: %+v %v", stored, err)
	}
	if _, _, err := r.db.CreateGapNotice(r.ctx, "p0001", "compliance:k1", later, render); !errors.As(err, &ge) ||
		ge.Details[0].Field != "platform_id" {
		t.Errorf("a notice with nothing to say: %v", err)
	}
	if _, _, err := r.db.CreateGapNotice(r.ctx, "nobody", "compliance:k1", later, render); !errors.As(err, &ge) || ge.Code != gateway.ENOTFOUND {
		t.Errorf("a notice to nobody: %v", err)
	}

	// The worklist: active gaps, the most at stake first.
	wl, err := r.db.Worklist(r.ctx, "", 0, 100)
	if err != nil || len(wl) == 0 {
		t.Fatalf("worklist: %v %v", wl, err)
	}
	for i := 1; i < len(wl); i++ {
		if !wl[i].Status.Active() || wl[i-1].Amount+wl[i-1].Interest < wl[i].Amount+wl[i].Interest {
			t.Errorf("worklist out of order at %d: %+v", i, wl)
		}
	}
}

func TestDetectGapsIfStale(t *testing.T) {
	r := newGapRig(t)
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	if _, ran, err := r.db.DetectGapsIfStale(r.ctx, gaps.Config{}, at, time.Hour); err != nil || !ran {
		t.Fatalf("first: %v %v", ran, err)
	}
	if _, ran, err := r.db.DetectGapsIfStale(r.ctx, gaps.Config{}, at.Add(time.Minute), time.Hour); err != nil || ran {
		t.Fatalf("nothing new: %v %v", ran, err)
	}
	r.now = at
	r.pay(banktest.Credit("MYR", 1234, calendar.D(2026, 11, 12), "", "UNKNOWN-1"))
	if rep, ran, err := r.db.DetectGapsIfStale(r.ctx, gaps.Config{}, at.Add(2*time.Minute), time.Hour); err != nil || !ran || rep.RunID == 0 {
		t.Fatalf("after a matching run: %+v %v %v", rep, ran, err)
	}
	if _, ran, err := r.db.DetectGapsIfStale(r.ctx, gaps.Config{}, at.Add(2*time.Hour), time.Hour); err != nil || !ran {
		t.Fatalf("an hour later: %v %v", ran, err)
	}
	if _, err := r.db.DetectGaps(r.ctx, postgres.GapTriggerCommand, gaps.Config{DropPercent: 101}, at); err == nil {
		t.Error("a drop over 100% is taken")
	}
}
