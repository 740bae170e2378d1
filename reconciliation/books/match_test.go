package books_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
	"github.com/coverbridge/coverbridge/testing/banktest"
)

var bankAccount = bankstatement.Account{Other: "KR-COLLECT-01"}

// importCamt imports a generated camt.053 statement of the insurer's
// account holding receipts.
func (f *fixture) importCamt(id string, receipts ...bankstatement.Receipt) books.ImportReport {
	f.t.Helper()
	var buf bytes.Buffer
	s := bankstatement.Statement{ID: id, Account: bankAccount, Currency: receipts[0].Amount.Currency, Receipts: receipts}
	if err := banktest.Camt053(&buf, "MSG-"+id, s); err != nil {
		f.t.Fatal(err)
	}
	rep, err := f.books.ImportBankFile(f.ctx, &buf, books.ImportOptions{Name: id + ".xml", By: "finance"})
	if err != nil {
		f.t.Fatalf("import %s: %v", id, err)
	}
	return rep
}

func (f *fixture) outcome(platform, scheme, period string) postgres.Outcome {
	f.t.Helper()
	os, err := f.db.Outcomes(f.ctx, postgres.OutcomeFilter{PlatformID: platform, SchemeID: scheme, Period: period})
	if err != nil || len(os) != 1 {
		f.t.Fatalf("outcomes of %s/%s/%s = %+v, %v", platform, scheme, period, os, err)
	}
	return os[0]
}

// october closes October 2026 of kr-ei with one worker earning
// KRW 1,000,000: a statement of 16,000 due 10 November.
func october(t *testing.T) (*fixture, postgres.IssuedStatement) {
	f := newFixture(t)
	f.send(ev("coupang", "a1", "w1", "2026-10-05T10:00:00+09:00", "KRW", "1000000"))
	f.close("kr-ei", "2026-10")
	sts := f.statements("coupang", "kr-ei", "2026-10")
	if len(sts) != 1 || sts[0].Total.Amount != 16000 {
		t.Fatalf("statements = %+v", sts)
	}
	return f, sts[0]
}

// TestPartialThenLatePayment pays a statement in two parts: 10,000 on
// time, then the 6,000 left ten days late. In between the period is
// underpaid; then it is paid, late, with Korea's 1/1500 a day on the late
// part: 6,000 × 10 / 1,500 = 40.
func TestPartialThenLatePayment(t *testing.T) {
	f, st := october(t)
	o := f.outcome("coupang", "kr-ei", "2026-10")
	if o.Status != "open" || o.Due != 16000 {
		t.Errorf("after close: %+v, want open", o)
	}

	f.now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	rep := f.importCamt("S-1109", banktest.Credit("KRW", 10000, calendar.D(2026, 11, 9), st.Reference, "110-222-333"))
	if rep.Run == nil || rep.Run.Allocations != 1 {
		t.Fatalf("import = %+v, want a run with one allocation", rep)
	}
	o = f.outcome("coupang", "kr-ei", "2026-10")
	if o.Status != "underpaid" || o.Paid != 10000 || o.Shortfall != 6000 || o.Late || o.Accrued != 40 {
		t.Errorf("after the partial payment: %+v, want underpaid by 6,000 with 40 accrued", o)
	}

	f.importCamt("S-1120", banktest.Credit("KRW", 6000, calendar.D(2026, 11, 20), st.Reference, "110-222-333"))
	o = f.outcome("coupang", "kr-ei", "2026-10")
	if o.Status != "paid" || o.Paid != 16000 || o.Shortfall != 0 || !o.Late || o.Interest != 40 || o.Accrued != 0 {
		t.Errorf("after the late payment: %+v, want paid late with 40 interest", o)
	}
	allocs, err := f.db.Allocations(f.ctx, st.ID, "")
	if err != nil || len(allocs) != 2 || allocs[1].Late != 10 || allocs[1].Interest != 40 || allocs[1].Rule != "reference" {
		t.Errorf("allocations = %+v, %v", allocs, err)
	}

	// A rerun over the same data as of the same time gives the same result.
	first, err := f.db.LatestRun(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.books.Reconcile(f.ctx, books.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.Digest != fmt.Sprintf("%x", first.Digest) || run.RunID == first.ID {
		t.Errorf("rerun digest %s, want %x", run.Digest, first.Digest)
	}
}

// TestSuspenseAndManualMatch: a payment no rule identifies goes to
// suspense; finance matches it by hand with a reason, then unmatches it.
func TestSuspenseAndManualMatch(t *testing.T) {
	f, st := october(t)
	f.now = time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	f.importCamt("S-1110", banktest.Credit("KRW", 16000, calendar.D(2026, 11, 10), "", "999-000"))
	sus, err := f.db.Suspense(f.ctx)
	if err != nil || len(sus) != 1 || sus[0].Reason != "unidentified" || sus[0].Amount.Amount != 16000 {
		t.Fatalf("suspense = %+v, %v", sus, err)
	}
	receipt := sus[0].ID

	if _, err := f.books.Match(f.ctx, books.Decision{ReceiptID: receipt, StatementID: st.ID, By: "fin-1"}); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("match without a reason: %v, want invalid", err)
	}
	if _, err := f.books.Match(f.ctx, books.Decision{ReceiptID: "999999", StatementID: st.ID, Reason: "x", By: "fin-1"}); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("match of an unknown receipt: %v, want not found", err)
	}
	dec, err := f.books.Match(f.ctx, books.Decision{ReceiptID: receipt, StatementID: st.ID, Reason: "phone call: October contributions", By: "fin-1"})
	if err != nil || !dec.Applied {
		t.Fatalf("match = %+v, %v", dec, err)
	}
	if o := f.outcome("coupang", "kr-ei", "2026-10"); o.Status != "paid" || o.Late {
		t.Errorf("after the manual match: %+v, want paid on time", o)
	}
	if sus, _ := f.db.Suspense(f.ctx); len(sus) != 0 {
		t.Errorf("suspense after the match = %+v", sus)
	}

	if _, err := f.books.Unmatch(f.ctx, books.Decision{ReceiptID: receipt, Reason: "wrong platform", By: "fin-2"}); err != nil {
		t.Fatal(err)
	}
	sus, _ = f.db.Suspense(f.ctx)
	if len(sus) != 1 || sus[0].Reason != "unidentified" && sus[0].Reason != "unmatched" {
		t.Errorf("suspense after the unmatch = %+v", sus)
	}
	trail, err := f.db.Decisions(f.ctx, receipt)
	if err != nil || len(trail) != 2 || trail[0].User != "fin-1" || trail[1].Reason != "wrong platform" || !trail[0].Ran {
		t.Errorf("audit trail = %+v, %v", trail, err)
	}
	if _, err := f.db.Pool.Exec(f.ctx, `DELETE FROM match_decisions`); err == nil {
		t.Error("the audit trail could be deleted")
	}
}

// TestAdviceMismatch files advice for the statement that misses the worker
// and names one the statement does not have.
func TestAdviceMismatch(t *testing.T) {
	f, st := october(t)
	krw := func(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: "KRW"} }
	advice := statement.Advice{Platform: "coupang", PaymentReference: st.Reference, Amount: krw(16000), ValueDate: calendar.D(2026, 11, 9),
		Lines: []statement.AdviceLine{{WorkerKey: "ghost", Amount: krw(16000)}}}
	a, err := f.books.SubmitAdvice(f.ctx, "adv-1", advice)
	if err != nil || !a.Created {
		t.Fatalf("advice = %+v, %v", a, err)
	}
	again, err := f.books.SubmitAdvice(f.ctx, "adv-1", advice)
	if err != nil || again.Created || again.ID != a.ID {
		t.Errorf("same advice again = %+v, %v", again, err)
	}
	advice.Amount, advice.Lines[0].Amount = krw(15000), krw(15000)
	if _, err := f.books.SubmitAdvice(f.ctx, "adv-1", advice); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("other advice under the same id: %v, want conflict", err)
	}
	advice.Lines[0].Amount = krw(1)
	if _, err := f.books.SubmitAdvice(f.ctx, "adv-2", advice); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("lines not adding up: %v, want invalid", err)
	}
	if _, err := f.books.Reconcile(f.ctx, books.TriggerManual); err != nil {
		t.Fatal(err)
	}
	o := f.outcome("coupang", "kr-ei", "2026-10")
	if o.Mismatches != 2 || o.Advised != 16000 {
		t.Fatalf("outcome = %+v, want two mismatches", o)
	}
	ms, err := f.db.Mismatches(f.ctx, "coupang", "kr-ei", "2026-10", 10)
	if err != nil || len(ms) != 2 || ms[0].Kind != "unknown_worker" || ms[1].Kind != "missing_worker" || ms[1].Stated != 16000 {
		t.Errorf("mismatches = %+v, %v", ms, err)
	}

	csv := "payment_reference,value_date,currency,worker_key,amount,scheme,period\n" +
		"KR-OWN-1,2026-11-09,KRW,w1,16000,KREI,2026-10\n"
	stored, err := f.books.ImportAdviceCSV(f.ctx, "coupang", bytes.NewBufferString(csv))
	if err != nil || len(stored) != 1 || !stored[0].Created || stored[0].Scheme != "kr-ei" {
		t.Fatalf("csv advice = %+v, %v", stored, err)
	}
	if stored, err := f.books.ImportAdviceCSV(f.ctx, "coupang", bytes.NewBufferString(csv)); err != nil || stored[0].Created {
		t.Errorf("the same file again = %+v, %v", stored, err)
	}
}

// TestCreditCarriedForward: October is paid with 4,000 too much; the
// credit pays part of November, whose statement then shows it as carried
// in, and October as carried out.
func TestCreditCarriedForward(t *testing.T) {
	f, oct := october(t)
	f.send(ev("coupang", "n1", "w1", "2026-11-05T10:00:00+09:00", "KRW", "1000000"))
	f.close("kr-ei", "2026-11")
	nov := f.statements("coupang", "kr-ei", "2026-11")
	if len(nov) != 1 || nov[0].Total.Amount != 16000 {
		t.Fatalf("november statements = %+v", nov)
	}

	f.now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	f.importCamt("S-1109", banktest.Credit("KRW", 20000, calendar.D(2026, 11, 9), oct.Reference, "110-222-333"))
	o := f.outcome("coupang", "kr-ei", "2026-10")
	if o.Status != "paid" || o.Paid != 16000 || o.Overpaid != 0 || o.CarriedOut != 4000 || o.CarriedIn != 0 {
		t.Errorf("october: %+v, want paid with 4,000 carried out", o)
	}
	n := f.outcome("coupang", "kr-ei", "2026-11")
	if n.Status != "open" || n.Paid != 4000 || n.Shortfall != 12000 || n.CarriedIn != 4000 || n.Late {
		t.Errorf("november: %+v, want open with 4,000 carried in", n)
	}
	allocs, err := f.db.Allocations(f.ctx, nov[0].ID, "")
	if err != nil || len(allocs) != 1 || !allocs[0].Carried || allocs[0].CreditOf != oct.ID || allocs[0].Amount.Amount != 4000 {
		t.Errorf("november's allocations = %+v, %v", allocs, err)
	}

	// November's own payment of the 12,000 left settles it without
	// counting the credit twice.
	f.importCamt("S-1201", banktest.Credit("KRW", 12000, calendar.D(2026, 12, 1), nov[0].Reference, "110-222-333"))
	n = f.outcome("coupang", "kr-ei", "2026-11")
	if n.Status != "paid" || n.Paid != 16000 || n.Shortfall != 0 || n.Overpaid != 0 || n.CarriedIn != 4000 {
		t.Errorf("november after its payment: %+v, want paid", n)
	}
}
