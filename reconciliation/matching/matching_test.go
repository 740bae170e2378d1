package matching

import (
	"errors"
	"iter"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

var (
	nov2   = calendar.D(2026, 11, 2)
	nov10  = calendar.D(2026, 11, 10)
	nov14  = calendar.D(2026, 11, 14)
	nov17  = calendar.D(2026, 11, 17)
	nov20  = calendar.D(2026, 11, 20)
	sepDue = calendar.D(2026, 10, 15)
	decDue = calendar.D(2026, 12, 15)
)

const (
	lajuOct = "laju/2026-10/0"
	lajuSup = "laju/2026-10/1"
	lajuSep = "laju/2026-09/0"
	lajuNov = "laju/2026-11/0"
	jomOct  = "jom/2026-10/0"
)

var at = time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)

// TestRules has a case for every matching rule and every way a receipt
// can fail to match; each case states the allocations, suspense, ignored
// receipts and the outcome of the periods it names.
func TestRules(t *testing.T) {
	lajuRef := ref("laju", "2026-10", 0)
	badRef := "RF00" + lajuRef[4:]
	if rfref.Validate(badRef) == nil {
		badRef = "RF01" + lajuRef[4:]
	}
	sup := stmtOf("laju", "2026-10", 1, decDue, "w1:5000")
	creditNote := stmtOf("laju", "2026-10", 1, decDue, "w1:-20000")
	sep := stmtOf("laju", "2026-09", 0, sepDue, "w1:30000")
	nov := stmtOf("laju", "2026-11", 0, decDue, "w1:30000")
	otherScheme := stmtOf("laju", "2026-08", 0, sepDue, "w1:30000")
	otherScheme.ID, otherScheme.Key.Scheme, otherScheme.Reference = "laju/KRIA/2026-08", "KRIA", ""
	r1 := withAccount(withE2E(withRef(credit("r1", 1000_00, nov14), lajuRef), "LAJU-1"), "ACC-LAJU")
	tests := []struct {
		name       string
		statements []statement.Statement
		advices    []statement.Advice
		receipts   []Receipt
		decisions  []Decision
		now        time.Time
		allocs     []string
		suspense   []string
		ignored    []string
		outcomes   map[string]string // "platform period" → summary
	}{
		{
			name:       "reference in print format and lower case",
			statements: []statement.Statement{oct("laju", 600_00, 400_00)},
			receipts:   []Receipt{withRef(credit("r1", 1000_00, nov14), strings.ToLower(rfref.Format(lajuRef)))},
			allocs:     []string{"r1>" + lajuOct + " 1000.00 reference"},
			outcomes:   map[string]string{"laju 2026-10": "paid due=1000.00 paid=1000.00 short=0.00 over=0.00"},
		},
		{
			name:       "reference in the remittance text",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withText(credit("r1", 1000_00, nov14), "SOCSO Oct "+rfref.Format(lajuRef)+", thanks")},
			allocs:     []string{"r1>" + lajuOct + " 1000.00 reference"},
		},
		{
			name:       "reference with wrong check digits falls through to the account",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withAccount(withRef(credit("r1", 1000_00, nov14), badRef), "ACC-LAJU")},
			allocs:     []string{"r1>" + lajuOct + " 1000.00 account"},
		},
		{
			name:       "reference of another currency is not a match",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withCurrency(withRef(credit("r1", 1000_00, nov14), lajuRef), "SGD")},
			suspense:   []string{"r1 1000.00 unidentified"},
			outcomes:   map[string]string{"laju 2026-10": "missing due=1000.00 paid=0.00 short=1000.00 over=0.00 accrued=20.00"},
		},
		{
			name:       "end-to-end id is the statement's reference",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withE2E(credit("r1", 1000_00, nov14), rfref.Format(lajuRef))},
			allocs:     []string{"r1>" + lajuOct + " 1000.00 end_to_end"},
		},
		{
			name:       "end-to-end id is an advice's payment reference",
			statements: []statement.Statement{oct("laju", 600_00, 400_00), oct("jom", 500_00)},
			advices:    []statement.Advice{keyed(advice("a1", "laju", "LAJU-PAY-77", nov14, "w1:60000", "w2:40000"))},
			receipts:   []Receipt{withE2E(credit("r1", 1000_00, nov14), "LAJU-PAY-77")},
			allocs:     []string{"r1>" + lajuOct + " 1000.00 end_to_end"},
			outcomes: map[string]string{
				"laju 2026-10": "paid due=1000.00 paid=1000.00 short=0.00 over=0.00",
				"jom 2026-10":  "missing due=500.00 paid=0.00 short=500.00 over=0.00 accrued=10.00",
			},
		},
		{
			name:       "an advice reference two platforms use needs the debtor account",
			statements: []statement.Statement{oct("laju", 1000_00), oct("jom", 500_00)},
			advices: []statement.Advice{
				keyed(advice("a1", "laju", "PAY-1", nov14, "w1:100000")),
				keyed(advice("a2", "jom", "PAY-1", nov14, "w1:50000")),
			},
			receipts: []Receipt{
				withAccount(withE2E(credit("r1", 500_00, nov14), "PAY-1"), "ACC-JOM"),
				withE2E(credit("r2", 1000_00, nov14), "PAY-1"),
			},
			allocs:   []string{"r1>" + jomOct + " 500.00 end_to_end"},
			suspense: []string{"r2 1000.00 unidentified"},
		},
		{
			name:       "account and amount within tolerance",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withAccount(credit("r1", 999_50, nov14), "ACC-LAJU")},
			allocs:     []string{"r1>" + lajuOct + " 999.50 account"},
			outcomes:   map[string]string{"laju 2026-10": "underpaid due=1000.00 paid=999.50 short=0.50 over=0.00 accrued=0.01"},
		},
		{
			name:       "account by IBAN, amount above the statement within tolerance",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts: []Receipt{func() Receipt {
				r := credit("r1", 1000_80, nov14)
				r.DebtorAccount = bankstatement.Account{IBAN: "GB29 NWBK 6016 1331 9268 19"}
				return r
			}()},
			allocs:   []string{"r1>" + lajuOct + " 1000.00 account", "r1>" + lajuOct + " 0.80 account +over"},
			outcomes: map[string]string{"laju 2026-10": "overpaid due=1000.00 paid=1000.00 short=0.00 over=0.80"},
		},
		{
			name:       "account but amount beyond tolerance",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withAccount(credit("r1", 998_00, nov14), "ACC-LAJU")},
			suspense:   []string{"r1 998.00 unidentified"},
			outcomes:   map[string]string{"laju 2026-10": "missing due=1000.00 paid=0.00 short=1000.00 over=0.00 accrued=20.00"},
		},
		{
			name:       "account but value date outside the window",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withAccount(credit("r1", 1000_00, due.AddDays(32)), "ACC-LAJU")},
			suspense:   []string{"r1 1000.00 unidentified"},
		},
		{
			name:       "an account two platforms share identifies neither",
			statements: []statement.Statement{oct("jom", 500_00)},
			receipts:   []Receipt{withAccount(credit("r1", 500_00, nov14), "ACC-SHARED")},
			suspense:   []string{"r1 500.00 unidentified"},
		},
		{
			name:       "unknown debtor, no reference: suspense",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withAccount(credit("r1", 1000_00, nov14), "ACC-STRANGER")},
			suspense:   []string{"r1 1000.00 unidentified"},
		},
		{
			name:       "one receipt pays two statements, oldest due first",
			statements: []statement.Statement{oct("laju", 1000_00), sep},
			receipts:   []Receipt{withAccount(credit("r1", 1300_00, nov2), "ACC-LAJU")},
			allocs:     []string{"r1>" + lajuSep + " 300.00 account +late 1 3.00", "r1>" + lajuOct + " 1000.00 account"},
			outcomes: map[string]string{
				"laju 2026-09": "paid due=300.00 paid=300.00 short=0.00 over=0.00 late interest=3.00",
				"laju 2026-10": "paid due=1000.00 paid=1000.00 short=0.00 over=0.00",
			},
		},
		{
			name:       "the account rule picks the one statement the amount fits",
			statements: []statement.Statement{oct("laju", 1000_00), sep},
			receipts:   []Receipt{withAccount(credit("r1", 1000_00, nov2), "ACC-LAJU")},
			allocs:     []string{"r1>" + lajuOct + " 1000.00 account"},
		},
		{
			name:       "a reference pays its statement, then the period's supplementary; the rest is overpaid",
			statements: []statement.Statement{oct("laju", 1000_00), sup},
			receipts:   []Receipt{withRef(credit("r1", 1100_00, nov14), lajuRef)},
			allocs: []string{
				"r1>" + lajuOct + " 1000.00 reference", "r1>" + lajuSup + " 50.00 reference", "r1>" + lajuOct + " 50.00 reference +over",
			},
			outcomes: map[string]string{"laju 2026-10": "overpaid due=1050.00 paid=1050.00 short=0.00 over=50.00"},
		},
		{
			name:       "money beyond the period pays the platform's next open period; the rest stays a credit",
			statements: []statement.Statement{oct("laju", 1000_00), nov},
			receipts:   []Receipt{withRef(credit("r1", 1500_00, nov14), lajuRef)},
			allocs: []string{
				"r1>" + lajuOct + " 1000.00 reference", "r1>" + lajuNov + " 300.00 reference +carried from " + lajuOct,
				"r1>" + lajuOct + " 200.00 reference +over",
			},
			outcomes: map[string]string{
				"laju 2026-10": "overpaid due=1000.00 paid=1000.00 short=0.00 over=200.00 carried_out=300.00",
				"laju 2026-11": "paid due=300.00 paid=300.00 short=0.00 over=0.00 carried_in=300.00",
			},
		},
		{
			name:       "a credit carried forward, then the next period's own payment: its excess is carried on",
			statements: []statement.Statement{oct("laju", 1000_00), nov},
			receipts: []Receipt{
				withRef(credit("r1", 1100_00, nov14), lajuRef),
				withRef(credit("r2", 300_00, decDue), ref("laju", "2026-11", 0)),
			},
			allocs: []string{
				"r1>" + lajuOct + " 1000.00 reference", "r1>" + lajuNov + " 100.00 reference +carried from " + lajuOct,
				"r2>" + lajuNov + " 200.00 reference", "r2>" + lajuNov + " 100.00 reference +over",
			},
			outcomes: map[string]string{
				"laju 2026-10": "paid due=1000.00 paid=1000.00 short=0.00 over=0.00 carried_out=100.00",
				"laju 2026-11": "overpaid due=300.00 paid=300.00 short=0.00 over=100.00 carried_in=100.00",
			},
		},
		{
			name:       "a credit pays an older shortfall first, late with its interest; another scheme's statement is not paid",
			statements: []statement.Statement{oct("laju", 1000_00), sep, otherScheme},
			receipts:   []Receipt{withRef(credit("r1", 1100_00, nov14), lajuRef)},
			allocs: []string{
				"r1>" + lajuOct + " 1000.00 reference", "r1>" + lajuSep + " 100.00 reference +carried from " + lajuOct + " +late 1 1.00",
			},
			outcomes: map[string]string{
				"laju 2026-10": "paid due=1000.00 paid=1000.00 short=0.00 over=0.00 carried_out=100.00",
				"laju 2026-09": "underpaid due=300.00 paid=100.00 short=200.00 over=0.00 late interest=1.00 accrued=6.00 carried_in=100.00",
			},
		},
		{
			name:       "partial payments, the second late with its own interest",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts: []Receipt{
				withRef(credit("r2", 600_00, nov20), lajuRef),
				withRef(credit("r1", 400_00, nov10), lajuRef),
			},
			allocs:   []string{"r1>" + lajuOct + " 400.00 reference", "r2>" + lajuOct + " 600.00 reference +late 1 6.00"},
			outcomes: map[string]string{"laju 2026-10": "paid due=1000.00 paid=1000.00 short=0.00 over=0.00 late interest=6.00"},
		},
		{
			name:       "partly paid before the due date: open",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withRef(credit("r1", 400_00, nov10), lajuRef)},
			now:        nowBefore,
			outcomes:   map[string]string{"laju 2026-10": "open due=1000.00 paid=400.00 short=600.00 over=0.00"},
			allocs:     []string{"r1>" + lajuOct + " 400.00 reference"},
		},
		{
			name:       "partly paid, past due and grace: underpaid with interest accruing on the rest",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withRef(credit("r1", 400_00, nov10), lajuRef)},
			allocs:     []string{"r1>" + lajuOct + " 400.00 reference"},
			outcomes:   map[string]string{"laju 2026-10": "underpaid due=1000.00 paid=400.00 short=600.00 over=0.00 accrued=12.00"},
		},
		{
			name:       "nothing paid, within the grace: open",
			statements: []statement.Statement{oct("laju", 1000_00)},
			now:        time.Date(2026, 11, 23, 12, 0, 0, 0, kl), // due + 7 days
			outcomes:   map[string]string{"laju 2026-10": "open due=1000.00 paid=0.00 short=1000.00 over=0.00 accrued=10.00"},
		},
		{
			name:       "nothing paid by due date plus grace: missing",
			statements: []statement.Statement{oct("laju", 1000_00)},
			now:        time.Date(2026, 11, 24, 0, 0, 0, 0, kl), // due + 8 days, just begun in Kuala Lumpur
			outcomes:   map[string]string{"laju 2026-10": "missing due=1000.00 paid=0.00 short=1000.00 over=0.00 accrued=10.00"},
		},
		{
			name:       "a reversal undoes its receipt",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{r1, reversal("r2", r1, nov17)},
			outcomes:   map[string]string{"laju 2026-10": "missing due=1000.00 paid=0.00 short=1000.00 over=0.00 accrued=20.00"},
		},
		{
			name:       "a reversal naming its receipt",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts: []Receipt{r1, func() Receipt {
				r := reversal("r2", r1, nov17)
				r.EndToEndID, r.DebtorAccount, r.Reverses = "", bankstatement.Account{}, "r1"
				return r
			}()},
			outcomes: map[string]string{"laju 2026-10": "missing due=1000.00 paid=0.00 short=1000.00 over=0.00 accrued=20.00"},
		},
		{
			name:       "a reversal of a receipt not in the input, a debit, a pending credit and a refunded fee are never matched",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts: []Receipt{
				reversal("r1", withE2E(credit("elsewhere", 1000_00, nov10), "OTHER"), nov17),
				func() Receipt { r := credit("r2", 15_00, nov14); r.Direction = bankstatement.Debit; return r }(),
				withStatus(withRef(credit("r3", 1000_00, nov14), lajuRef), bankstatement.Pending),
				func() Receipt { r := credit("r4", 15_00, nov14); r.Reversal = true; return r }(),
			},
			ignored:  []string{"r2 debit", "r3 not_booked", "r4 reverses_debit", "r1 no_original"},
			outcomes: map[string]string{"laju 2026-10": "missing due=1000.00 paid=0.00 short=1000.00 over=0.00 accrued=20.00"},
		},
		{
			name:       "the reference rule runs before the account rule",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts: []Receipt{
				withAccount(credit("r1", 1000_00, nov2), "ACC-LAJU"),
				withRef(credit("r2", 1000_00, nov14), lajuRef),
			},
			allocs:   []string{"r2>" + lajuOct + " 1000.00 reference"},
			suspense: []string{"r1 1000.00 unidentified"},
		},
		{
			name:       "a negative supplementary statement reduces what is owed",
			statements: []statement.Statement{oct("laju", 1000_00), creditNote},
			receipts:   []Receipt{withRef(credit("r1", 800_00, nov14), lajuRef)},
			allocs:     []string{"r1>" + lajuOct + " 800.00 reference"},
			outcomes:   map[string]string{"laju 2026-10": "paid due=800.00 paid=800.00 short=0.00 over=0.00"},
		},
		{
			name:       "a receipt without date goes to suspense",
			statements: []statement.Statement{oct("laju", 1000_00)},
			receipts:   []Receipt{withRef(credit("r1", 1000_00, calendar.Date{}), lajuRef)},
			suspense:   []string{"r1 1000.00 undated"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, testConfig(), Input{Statements: tt.statements, Advices: tt.advices, Receipts: tt.receipts, Decisions: tt.decisions, Now: tt.now})
			if got := allocs(res); !reflect.DeepEqual(got, tt.allocs) {
				t.Errorf("allocations\n got %q\nwant %q", got, tt.allocs)
			}
			if got := suspense(res); !reflect.DeepEqual(got, tt.suspense) {
				t.Errorf("suspense\n got %q\nwant %q", got, tt.suspense)
			}
			if got := ignored(res); !reflect.DeepEqual(got, tt.ignored) {
				t.Errorf("ignored\n got %q\nwant %q", got, tt.ignored)
			}
			for k, want := range tt.outcomes {
				p, period, _ := strings.Cut(k, " ")
				if got := outcome(t, res, p, period); got != want {
					t.Errorf("outcome %s\n got %s\nwant %s", k, got, want)
				}
			}
		})
	}
}

// keyed names the October SOCSO period on an advice whose reference is the
// platform's own.
func keyed(a statement.Advice) statement.Advice {
	a.Scheme, a.Period = "SOCS", "2026-10"
	return a
}

func TestReversalPairs(t *testing.T) {
	r1 := withAccount(withE2E(withRef(credit("r1", 1000_00, nov14), ref("laju", "2026-10", 0)), "LAJU-1"), "ACC-LAJU")
	r3 := r1
	r3.ID = "r3" // the same payment twice; one is returned
	again := reversal("r4", r1, nov20)
	again.Reverses = "r1" // a second return of the same credit
	zero := credit("r5", 0, nov14)
	res := run(t, testConfig(), Input{
		Statements: []statement.Statement{oct("laju", 1000_00)},
		Receipts:   []Receipt{r1, reversal("r2", r1, nov17), r3, again, zero},
	})
	if got := ignored(res); !reflect.DeepEqual(got, []string{"r5 zero_amount", "r4 reversed_twice"}) {
		t.Errorf("ignored %q", got)
	}
	want := []Reversal{{ReversalID: "r2", ReceiptID: "r1"}}
	if !reflect.DeepEqual(res.Reversals, want) {
		t.Errorf("reversals %+v, want %+v", res.Reversals, want)
	}
	if got := allocs(res); !reflect.DeepEqual(got, []string{"r3>" + lajuOct + " 1000.00 reference"}) {
		t.Errorf("allocations %q", got)
	}
}

func TestDecisions(t *testing.T) {
	lajuRef := ref("laju", "2026-10", 0)
	anon := credit("r1", 1000_00, nov14)
	byRef := withRef(credit("r1", 1000_00, nov14), lajuRef)
	d := func(id string, kind DecisionKind, stmt string, amount int64, minutes int) Decision {
		return Decision{ID: id, Kind: kind, ReceiptID: "r1", StatementID: stmt, Amount: myr(amount),
			Reason: "phoned the platform", User: "finance@insurer", At: at.Add(time.Duration(minutes) * time.Minute)}
	}
	tests := []struct {
		name      string
		receipts  []Receipt
		decisions []Decision
		allocs    []string
		suspense  []string
		applied   []string // per decision in order: "id applied" or "id refused: note" or "id applied: note"
	}{
		{
			name:      "a match by hand",
			receipts:  []Receipt{anon},
			decisions: []Decision{d("d1", Match, lajuOct, 0, 0)},
			allocs:    []string{"r1>" + lajuOct + " 1000.00 manual"},
			applied:   []string{"d1 applied"},
		},
		{
			name:      "a match of part of a receipt leaves the rest in suspense",
			receipts:  []Receipt{anon},
			decisions: []Decision{d("d1", Match, lajuOct, 300_00, 0)},
			allocs:    []string{"r1>" + lajuOct + " 300.00 manual"},
			suspense:  []string{"r1 700.00 manual_remainder"},
			applied:   []string{"d1 applied"},
		},
		{
			name:      "a receipt split by hand over two platforms",
			receipts:  []Receipt{anon},
			decisions: []Decision{d("d2", Match, jomOct, 0, 1), d("d1", Match, lajuOct, 600_00, 0)},
			allocs:    []string{"r1>" + lajuOct + " 600.00 manual", "r1>" + jomOct + " 400.00 manual"},
			applied:   []string{"d1 applied", "d2 applied"},
		},
		{
			name:      "a match for more than the receipt is refused",
			receipts:  []Receipt{anon},
			decisions: []Decision{d("d1", Match, lajuOct, 2000_00, 0)},
			suspense:  []string{"r1 1000.00 manual_remainder"},
			applied:   []string{"d1 refused: the receipt has only 1000.00 left"},
		},
		{
			name:      "an unmatch keeps the rule from matching there",
			receipts:  []Receipt{byRef},
			decisions: []Decision{d("d1", Unmatch, lajuOct, 0, 0)},
			suspense:  []string{"r1 1000.00 unidentified"},
			applied:   []string{"d1 applied"},
		},
		{
			name:      "an unmatch from every statement sends the receipt to suspense",
			receipts:  []Receipt{withAccount(byRef, "ACC-LAJU")},
			decisions: []Decision{d("d1", Unmatch, "", 0, 0)},
			suspense:  []string{"r1 1000.00 unmatched"},
			applied:   []string{"d1 applied"},
		},
		{
			name:      "a match undone returns the receipt to the rules",
			receipts:  []Receipt{byRef},
			decisions: []Decision{d("d1", Match, jomOct, 0, 0), d("d2", Unmatch, jomOct, 0, 5)},
			allocs:    []string{"r1>" + lajuOct + " 1000.00 reference"},
			applied:   []string{"d1 applied: undone by decision d2", "d2 applied"},
		},
		{
			name:      "a match after an unmatch of the same statement wins",
			receipts:  []Receipt{byRef},
			decisions: []Decision{d("d2", Match, lajuOct, 0, 5), d("d1", Unmatch, lajuOct, 0, 0)},
			allocs:    []string{"r1>" + lajuOct + " 1000.00 manual"},
			applied:   []string{"d1 applied", "d2 applied"},
		},
		{
			name:     "decisions on what does not exist are refused",
			receipts: []Receipt{anon},
			decisions: []Decision{
				d("d1", Match, "nope", 0, 0),
				{ID: "d2", Kind: Match, ReceiptID: "r9", StatementID: lajuOct, At: at},
				d("d3", "merge", lajuOct, 0, 1),
				d("d4", Match, lajuOct, -5, 2),
			},
			suspense: []string{"r1 1000.00 unidentified"},
			applied: []string{"d1 refused: no statement nope", "d2 refused: no receipt r9", "d3 refused: unknown decision kind merge",
				"d4 refused: the amount must be positive and in the receipt's currency"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, testConfig(), Input{
				Statements: []statement.Statement{oct("laju", 1000_00), oct("jom", 500_00)},
				Receipts:   tt.receipts, Decisions: tt.decisions,
			})
			if got := allocs(res); !reflect.DeepEqual(got, tt.allocs) {
				t.Errorf("allocations\n got %q\nwant %q", got, tt.allocs)
			}
			if got := suspense(res); !reflect.DeepEqual(got, tt.suspense) {
				t.Errorf("suspense\n got %q\nwant %q", got, tt.suspense)
			}
			var got []string
			for _, r := range res.Decisions {
				s := r.ID + " applied"
				if !r.Applied {
					s = r.ID + " refused"
				}
				if r.Note != "" {
					s += ": " + r.Note
				}
				got = append(got, s)
				if r.User == "" && r.ID != "d2" {
					t.Errorf("decision %s lost its user", r.ID)
				}
			}
			if !reflect.DeepEqual(got, tt.applied) {
				t.Errorf("audit trail\n got %q\nwant %q", got, tt.applied)
			}
		})
	}
}

func TestDecisionOnReversedReceipt(t *testing.T) {
	r1 := withAccount(withE2E(credit("r1", 1000_00, nov14), "LAJU-1"), "ACC-LAJU")
	res := run(t, testConfig(), Input{
		Statements: []statement.Statement{oct("laju", 1000_00)},
		Receipts:   []Receipt{r1, reversal("r2", r1, nov17)},
		Decisions:  []Decision{{ID: "d1", Kind: Match, ReceiptID: "r1", StatementID: lajuOct, At: at}},
	})
	if len(res.Allocations) != 0 || res.Decisions[0].Applied || res.Decisions[0].Note != "the receipt is reversed" {
		t.Errorf("allocations %v, decision %+v", allocs(res), res.Decisions[0])
	}
}

func TestKoreaInterestPerPartialPayment(t *testing.T) {
	r, _ := rfref.Generate(rfref.Key{Platform: 1, Scheme: "KRIA", Period: "2026-10"})
	krw := func(n int64) gateway.Money { return gateway.Money{Amount: n, Currency: "KRW"} }
	st := statement.Statement{
		ID: "baemin/2026-10/0", Key: statement.Key{Platform: "baemin", Scheme: "KRIA", Period: "2026-10"},
		Reference: r, Currency: "KRW", Total: krw(1_500_000), DueDate: calendar.D(2026, 11, 10),
	}
	pay := func(id string, n int64, d calendar.Date) Receipt {
		x := withRef(credit(id, 0, d), r)
		x.Amount = krw(n)
		return x
	}
	res := run(t, testConfig(), Input{
		Statements: []statement.Statement{st},
		Receipts: []Receipt{
			pay("k1", 750_000, calendar.D(2026, 11, 20)), // 10 days: 750,000 × 10/1500 = 5,000
			pay("k2", 750_000, calendar.D(2026, 12, 20)), // 40 days: 2% + 10/6000 = 16,250
		},
	})
	want := []string{"k1>baemin/2026-10/0 750000 reference +late 10 5000", "k2>baemin/2026-10/0 750000 reference +late 40 16250"}
	if got := allocs(res); !reflect.DeepEqual(got, want) {
		t.Errorf("allocations\n got %q\nwant %q", got, want)
	}
	if o := res.Outcomes[0]; o.Status != StatusPaid || !o.Late || o.Interest != krw(21_250) {
		t.Errorf("outcome %+v", o)
	}
}

func TestAdviceMismatch(t *testing.T) {
	lajuRef := ref("laju", "2026-10", 0)
	orig := stmtOf("laju", "2026-10", 0, due, "w1:60000", "w2:40000", "w3:10000", "w5:0")
	sup := stmtOf("laju", "2026-10", 1, decDue, "w2:500", "w6:700")
	res := run(t, testConfig(), Input{
		Statements: []statement.Statement{orig, sup, oct("jom", 500_00)},
		Advices: []statement.Advice{
			// Against the original by its reference: w2 differs, w3 is
			// missing, w4 is unknown; w5 was stated as zero.
			advice("a1", "laju", rfref.Format(lajuRef), nov14, "w1:60000", "w2:35000", "w4:5000"),
			// Against the whole period: the two statements together.
			keyed(advice("a2", "laju", "LAJU-77", nov20, "w1:60000", "w2:40500", "w3:10000", "w6:700")),
			keyed(advice("a3", "laju", "LAJU-78", nov20, "w6:1")),
			// jom's advice agrees with its statement.
			advice("a4", "jom", ref("jom", "2026-10", 0), nov14, "w1:50000"),
			// An advice naming nothing known.
			advice("a5", "laju", "WHATEVER", nov14, "w1:1"),
		},
	})
	var laju, jom Outcome
	for _, o := range res.Outcomes {
		switch o.Key.Platform {
		case "laju":
			laju = o
		case "jom":
			jom = o
		}
	}
	want := []Mismatch{
		{Kind: DifferentAmount, StatementID: lajuOct, WorkerKey: "w2", Stated: myr(400_00), Advised: myr(350_00), Advices: []string{"a1"}},
		{Kind: MissingWorker, StatementID: lajuOct, WorkerKey: "w3", Stated: myr(100_00), Advised: myr(0), Advices: []string{"a1"}},
		{Kind: UnknownWorker, StatementID: lajuOct, WorkerKey: "w4", Stated: myr(0), Advised: myr(50_00), Advices: []string{"a1"}},
		{Kind: DifferentAmount, WorkerKey: "w6", Stated: myr(7_00), Advised: myr(7_01), Advices: []string{"a2", "a3"}},
	}
	if !reflect.DeepEqual(laju.Mismatches, want) {
		t.Errorf("mismatches\n got %+v\nwant %+v", laju.Mismatches, want)
	}
	if laju.Advised != myr(1000_00+1112_01) {
		t.Errorf("advised %v", laju.Advised)
	}
	if len(jom.Mismatches) != 0 || jom.Advised != myr(500_00) {
		t.Errorf("jom: mismatches %+v advised %v", jom.Mismatches, jom.Advised)
	}
	if !reflect.DeepEqual(res.UnlinkedAdvices, []string{"a5"}) {
		t.Errorf("unlinked advices %v", res.UnlinkedAdvices)
	}
}

// failingLines is a LineSource whose statement lines fail midway.
type failingLines struct{}

var errStore = errors.New("connection reset")

func (failingLines) StatementLines(*statement.Statement) iter.Seq2[statement.Line, error] {
	return func(yield func(statement.Line, error) bool) {
		if yield(statement.Line{WorkerKey: "w1"}, nil) {
			yield(statement.Line{}, errStore)
		}
	}
}

func (failingLines) AdviceLines(*statement.Advice) iter.Seq2[statement.AdviceLine, error] {
	return func(func(statement.AdviceLine, error) bool) {}
}

func TestReconcileRejects(t *testing.T) {
	st := oct("laju", 1000_00)
	dupRef := oct("jom", 1)
	dupRef.Reference = st.Reference
	lonely := oct("laju", 1)
	lonely.Key.Scheme = "NOPE"
	adv := advice("a1", "laju", st.Reference, nov14, "w1:1")
	tests := []struct {
		name string
		in   Input
		cfg  func(*Config)
	}{
		{"no clock", Input{Statements: []statement.Statement{st}}, nil},
		{"duplicate statement", Input{Now: at, Statements: []statement.Statement{st, st}}, nil},
		{"duplicate reference", Input{Now: at, Statements: []statement.Statement{st, dupRef}}, nil},
		{"unknown scheme", Input{Now: at, Statements: []statement.Statement{lonely}}, nil},
		{"duplicate receipt", Input{Now: at, Receipts: []Receipt{credit("r1", 1, nov14), credit("r1", 2, nov14)}}, nil},
		{"receipt without ID", Input{Now: at, Receipts: []Receipt{credit("", 1, nov14)}}, nil},
		{"duplicate advice", Input{Now: at, Advices: []statement.Advice{adv, adv}}, nil},
		{"duplicate decision", Input{Now: at, Decisions: []Decision{{ID: "d"}, {ID: "d"}}}, nil},
		{"negative tolerance", Input{Now: at}, func(c *Config) { c.Tolerance.Minor = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			_, err := Reconcile(cfg, tt.in)
			if gateway.ErrorCode(err) != gateway.EINVALID {
				t.Errorf("err = %v, want EINVALID", err)
			}
		})
	}
	_, err := Reconcile(testConfig(), Input{Now: at, Statements: []statement.Statement{st}, Advices: []statement.Advice{adv}, Lines: failingLines{}})
	if !errors.Is(err, errStore) {
		t.Errorf("LineSource error: got %v", err)
	}
}
