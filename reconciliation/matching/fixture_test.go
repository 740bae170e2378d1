package matching

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/interest"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// The fixtures: platforms "laju" (number 1, account ACC-LAJU) and "jom"
// (number 2, account ACC-JOM) owe SOCSO (MYR, due the 15th, India-style
// interest of 1% a month or part for round numbers) for October 2026,
// due 2026-11-16.

var (
	due       = calendar.D(2026, 11, 16)
	kl        = mustZone("Asia/Kuala_Lumpur")
	seoul     = mustZone("Asia/Seoul")
	nowBefore = time.Date(2026, 11, 10, 12, 0, 0, 0, kl) // before the due date
	nowAfter  = time.Date(2026, 12, 20, 12, 0, 0, 0, kl) // well past due and grace
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func testConfig() Config {
	india := interest.India()
	korea := interest.Korea()
	return Config{
		Tolerance: Tolerance{Minor: 100}, // one ringgit
		Schemes: map[string]Scheme{
			"SOCS": {Interest: &india, Grace: 7, Location: kl},
			"KRIA": {Interest: &korea, Location: seoul},
		},
	}
}

var platformNumbers = map[string]uint64{"laju": 1, "jom": 2, "kedai": 3}

func platforms() []Platform {
	return []Platform{
		{ID: "laju", Accounts: []bankstatement.Account{{Other: "ACC-LAJU"}, {IBAN: "GB29NWBK60161331926819"}}},
		{ID: "jom", Accounts: []bankstatement.Account{{Other: "ACC-JOM"}, {Other: "ACC-SHARED"}}},
		{ID: "kedai", Accounts: []bankstatement.Account{{Other: "ACC-SHARED"}}},
	}
}

func ref(platform, period string, seq uint32) string {
	r, err := rfref.Generate(rfref.Key{Platform: platformNumbers[platform], Scheme: "SOCS", Period: period, Seq: seq})
	if err != nil {
		panic(err)
	}
	return r
}

func myr(minor int64) gateway.Money { return gateway.Money{Amount: minor, Currency: "MYR"} }

// stmtOf makes statement seq of platform for period, due on dueOn, with
// lines "worker:minor" (all worker share).
func stmtOf(platform, period string, seq uint32, dueOn calendar.Date, lines ...string) statement.Statement {
	s := statement.Statement{
		ID:        fmt.Sprintf("%s/%s/%d", platform, period, seq),
		Key:       statement.Key{Platform: platform, Scheme: "SOCS", Period: period},
		Seq:       seq,
		Kind:      statement.Original,
		Reference: ref(platform, period, seq),
		Currency:  "MYR",
		DueDate:   dueOn,
		IssuedAt:  time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
	}
	if seq > 0 {
		s.Kind, s.Supplements = statement.Supplementary, fmt.Sprintf("%s/%s/0", platform, period)
	}
	var total int64
	for _, l := range lines {
		w, amt, _ := strings.Cut(l, ":")
		var n int64
		fmt.Sscan(amt, &n)
		s.Lines = append(s.Lines, statement.Line{WorkerKey: w, Worker: myr(n), Platform: myr(0)})
		total += n
	}
	s.Worker, s.Platform, s.Total = myr(total), myr(0), myr(total)
	return s
}

// oct returns the October statement of platform with one line per amount.
func oct(platform string, amounts ...int64) statement.Statement {
	var lines []string
	for i, a := range amounts {
		lines = append(lines, fmt.Sprintf("w%d:%d", i+1, a))
	}
	return stmtOf(platform, "2026-10", 0, due, lines...)
}

func credit(id string, minor int64, value calendar.Date) Receipt {
	return Receipt{ID: id, Receipt: bankstatement.Receipt{
		StatementID: "BANK-1", Direction: bankstatement.Credit, Amount: myr(minor), Status: bankstatement.Booked,
		BookingDate: value, ValueDate: value,
	}}
}

func withRef(r Receipt, ref string) Receipt { r.CreditorRef = ref; return r }
func withE2E(r Receipt, id string) Receipt  { r.EndToEndID = id; return r }
func withAccount(r Receipt, acct string) Receipt {
	r.DebtorAccount = bankstatement.Account{Other: acct}
	return r
}
func withText(r Receipt, text string) Receipt              { r.Remittance = text; return r }
func withCurrency(r Receipt, c gateway.Currency) Receipt   { r.Amount.Currency = c; return r }
func withStatus(r Receipt, s bankstatement.Status) Receipt { r.Status = s; return r }

func reversal(id string, of Receipt, value calendar.Date) Receipt {
	r := of
	r.ID = id
	r.Direction, r.Reversal = bankstatement.Debit, true
	r.BookingDate, r.ValueDate = value, value
	r.CreditorRef = ""
	return r
}

func advice(id, platform, paymentRef string, value calendar.Date, lines ...string) statement.Advice {
	a := statement.Advice{ID: id, Platform: platform, PaymentReference: paymentRef, ValueDate: value, Amount: myr(0)}
	for _, l := range lines {
		w, amt, _ := strings.Cut(l, ":")
		var n int64
		fmt.Sscan(amt, &n)
		a.Lines = append(a.Lines, statement.AdviceLine{WorkerKey: w, Amount: myr(n)})
		a.Amount.Amount += n
	}
	return a
}

func run(t *testing.T, cfg Config, in Input) *Result {
	t.Helper()
	if in.Platforms == nil {
		in.Platforms = platforms()
	}
	if in.Now.IsZero() {
		in.Now = nowAfter
	}
	res, err := Reconcile(cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, in, res)
	return res
}

// allocs summarises the allocations as "receipt>statement amount rule",
// with "+over" for an overpayment and "+late n interest" when late.
func allocs(res *Result) []string {
	var out []string
	for _, a := range res.Allocations {
		s := fmt.Sprintf("%s>%s %s %s", a.ReceiptID, a.StatementID, a.Amount, a.Rule)
		if a.Overpayment {
			s += " +over"
		}
		if a.Carried {
			s += " +carried from " + a.CreditOf
		}
		if a.Late > 0 {
			s += fmt.Sprintf(" +late %d %s", a.Late, a.Interest)
		}
		out = append(out, s)
	}
	return out
}

func suspense(res *Result) []string {
	var out []string
	for _, s := range res.Suspense {
		out = append(out, fmt.Sprintf("%s %s %s", s.ReceiptID, s.Amount, s.Reason))
	}
	return out
}

func ignored(res *Result) []string {
	var out []string
	for _, s := range res.Ignored {
		out = append(out, s.ReceiptID+" "+s.Reason)
	}
	return out
}

// outcome summarises the outcome of key "platform/period".
func outcome(t *testing.T, res *Result, platform, period string) string {
	t.Helper()
	for _, o := range res.Outcomes {
		if o.Key.Platform == platform && o.Key.Period == period {
			s := fmt.Sprintf("%s due=%s paid=%s short=%s over=%s", o.Status, o.Due, o.Paid, o.Shortfall, o.Overpaid)
			if o.Late {
				s += " late interest=" + o.Interest.String()
			}
			if !o.Accrued.IsZero() {
				s += " accrued=" + o.Accrued.String()
			}
			if !o.CarriedIn.IsZero() {
				s += " carried_in=" + o.CarriedIn.String()
			}
			if !o.CarriedOut.IsZero() {
				s += " carried_out=" + o.CarriedOut.String()
			}
			return s
		}
	}
	t.Fatalf("no outcome for %s %s", platform, period)
	return ""
}

// checkInvariants holds every result to the properties that do not depend
// on the case: each matchable receipt is fully accounted for by its
// allocations and suspense, and no statement is paid beyond what it may
// receive except as a recorded overpayment.
func checkInvariants(t *testing.T, in Input, res *Result) {
	t.Helper()
	out := map[string]bool{}
	for _, ig := range res.Ignored {
		out[ig.ReceiptID] = true
	}
	for _, rv := range res.Reversals {
		out[rv.ReversalID], out[rv.ReceiptID] = true, true
	}
	accounted := map[string]int64{}
	for _, a := range res.Allocations {
		if a.Amount.Amount <= 0 {
			t.Errorf("allocation %+v is not positive", a)
		}
		accounted[a.ReceiptID] += a.Amount.Amount
	}
	for _, s := range res.Suspense {
		if s.Amount.Amount <= 0 {
			t.Errorf("suspense %+v is not positive", s)
		}
		accounted[s.ReceiptID] += s.Amount.Amount
	}
	var received, sum int64
	for _, r := range in.Receipts {
		if out[r.ID] {
			if accounted[r.ID] != 0 {
				t.Errorf("receipt %s is ignored or reversed but has %d allocated", r.ID, accounted[r.ID])
			}
			continue
		}
		received += r.Amount.Amount
		sum += accounted[r.ID]
		if accounted[r.ID] != r.Amount.Amount {
			t.Errorf("receipt %s of %d: %d allocated or in suspense", r.ID, r.Amount.Amount, accounted[r.ID])
		}
	}
	if received != sum {
		t.Errorf("money not conserved: received %d, allocated plus suspense %d", received, sum)
	}
	paid := map[string]int64{}
	for _, a := range res.Allocations {
		if !a.Overpayment {
			paid[a.StatementID] += a.Amount.Amount
		}
	}
	for _, o := range res.Outcomes {
		var sumPaid, sumOpen int64
		for _, so := range o.Statements {
			if paid[so.ID] != so.Paid.Amount {
				t.Errorf("statement %s: outcome says paid %d, allocations %d", so.ID, so.Paid.Amount, paid[so.ID])
			}
			if so.Paid.Amount > max(so.Total.Amount, 0) || so.Open.Amount < 0 {
				t.Errorf("statement %s of %d: paid %d beyond its due (open %d)", so.ID, so.Total.Amount, so.Paid.Amount, so.Open.Amount)
			}
			sumPaid += so.Paid.Amount
			sumOpen += so.Open.Amount
		}
		if o.Paid.Amount != sumPaid || o.Shortfall.Amount != sumOpen {
			t.Errorf("%s: paid %d shortfall %d, statements say %d and %d", o.Key, o.Paid.Amount, o.Shortfall.Amount, sumPaid, sumOpen)
		}
	}
}
