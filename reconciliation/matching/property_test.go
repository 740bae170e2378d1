package matching

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// randomInput makes a messy reconciliation: a few platforms with original,
// supplementary and credit statements over three periods, advices by
// reference and by period, and receipts that pay by reference (in every
// form), end-to-end id, account, in parts, too much, too little, late,
// never, or are reversed, debits, pending or noise; plus manual decisions.
func randomInput(r *rand.Rand) Input {
	var in Input
	nPlat := 2 + r.IntN(5)
	accounts := []string{"ACC-SHARED-1", "ACC-SHARED-2"}
	periods := []struct {
		key string
		due calendar.Date
	}{{"2026-08", calendar.D(2026, 9, 15)}, {"2026-09", calendar.D(2026, 10, 15)}, {"2026-10", calendar.D(2026, 11, 16)}}
	for p := range nPlat {
		id := fmt.Sprintf("p%d", p)
		pl := Platform{ID: id}
		for a := range 1 + r.IntN(2) {
			pl.Accounts = append(pl.Accounts, bankstatement.Account{Other: fmt.Sprintf("ACC-%d-%d", p, a)})
		}
		if r.IntN(4) == 0 {
			pl.Accounts = append(pl.Accounts, bankstatement.Account{Other: accounts[r.IntN(2)]})
		}
		in.Platforms = append(in.Platforms, pl)
		for _, per := range periods {
			if r.IntN(5) == 0 {
				continue
			}
			n := 1 + r.IntN(3)
			for seq := range n {
				s := statement.Statement{
					ID:       fmt.Sprintf("%s/%s/%d", id, per.key, seq),
					Key:      statement.Key{Platform: id, Scheme: "SOCS", Period: per.key},
					Seq:      uint32(seq),
					Currency: "MYR",
					DueDate:  per.due.AddDays(30 * seq),
				}
				s.Reference, _ = rfref.Generate(rfref.Key{Platform: uint64(p + 1), Scheme: "SOCS", Period: per.key, Seq: uint32(seq)})
				var total int64
				for w := range 1 + r.IntN(4) {
					amt := r.Int64N(2000_00)
					if seq > 0 {
						amt -= 800_00 // supplementary statements may be credits
					}
					s.Lines = append(s.Lines, statement.Line{WorkerKey: fmt.Sprintf("w%d", w), Worker: myr(amt), Platform: myr(0)})
					total += amt
				}
				s.Total, s.Worker, s.Platform = myr(total), myr(total), myr(0)
				in.Statements = append(in.Statements, s)
			}
		}
	}
	if len(in.Statements) == 0 {
		return in
	}
	pick := func() statement.Statement { return in.Statements[r.IntN(len(in.Statements))] }
	for a := range r.IntN(6) {
		s := pick()
		adv := statement.Advice{ID: fmt.Sprintf("a%d", a), Platform: s.Key.Platform, ValueDate: s.DueDate, Amount: myr(0)}
		if r.IntN(2) == 0 {
			adv.PaymentReference = s.Reference
		} else {
			adv.PaymentReference, adv.Scheme, adv.Period = fmt.Sprintf("OWN-%d", r.IntN(3)), "SOCS", s.Key.Period
		}
		for _, l := range s.Lines {
			if r.IntN(5) == 0 {
				continue
			}
			amt := l.Total().Amount
			if r.IntN(5) == 0 {
				amt += 1
			}
			adv.Lines = append(adv.Lines, statement.AdviceLine{WorkerKey: l.WorkerKey, Amount: myr(amt)})
			adv.Amount.Amount += amt
		}
		in.Advices = append(in.Advices, adv)
	}
	nRec := r.IntN(25)
	for i := range nRec {
		s := pick()
		amt := max(s.Total.Amount, 1_00)
		switch r.IntN(5) {
		case 0:
			amt /= 2
		case 1:
			amt += r.Int64N(300_00)
		case 2:
			amt = 1 + r.Int64N(5000_00)
		}
		rc := credit(fmt.Sprintf("r%02d", i), amt, s.DueDate.AddDays(r.IntN(80)-40))
		switch r.IntN(9) {
		case 0:
			rc.CreditorRef = s.Reference
		case 1:
			rc.CreditorRef = rfref.Format(s.Reference)
		case 2:
			rc.Remittance = "contributions " + rfref.Format(s.Reference)
		case 3:
			rc.EndToEndID = s.Reference
		case 4:
			rc.EndToEndID = fmt.Sprintf("OWN-%d", r.IntN(3))
		case 5:
			rc.CreditorRef = "RF00" + s.Reference[4:] // bad check digits
		}
		if r.IntN(2) == 0 {
			pl := in.Platforms[r.IntN(len(in.Platforms))]
			rc.DebtorAccount = pl.Accounts[r.IntN(len(pl.Accounts))]
		}
		switch r.IntN(14) {
		case 0:
			rc.Direction = bankstatement.Debit
		case 1:
			rc.Status = bankstatement.Pending
		case 2:
			rc.ValueDate, rc.BookingDate = calendar.Date{}, calendar.Date{}
		case 3:
			rc.Reversal = true
		}
		in.Receipts = append(in.Receipts, rc)
		if r.IntN(6) == 0 && rc.Direction == bankstatement.Credit {
			rv := rc
			rv.ID += "-rv"
			rv.Direction, rv.Reversal = bankstatement.Debit, true
			if r.IntN(2) == 0 {
				rv.Reverses = rc.ID
			}
			in.Receipts = append(in.Receipts, rv)
		}
	}
	for d := range r.IntN(5) {
		if len(in.Receipts) == 0 {
			break
		}
		dec := Decision{
			ID: fmt.Sprintf("d%d", d), Kind: Match, ReceiptID: in.Receipts[r.IntN(len(in.Receipts))].ID,
			StatementID: pick().ID, At: at.Add(time.Duration(r.IntN(3)) * time.Hour), User: "finance", Reason: "test",
		}
		switch r.IntN(4) {
		case 0:
			dec.Kind = Unmatch
		case 1:
			dec.Kind, dec.StatementID = Unmatch, ""
		case 2:
			dec.Amount = myr(1 + r.Int64N(1000_00))
		}
		in.Decisions = append(in.Decisions, dec)
	}
	in.Now = time.Date(2026, 9, 1, 0, 0, 0, 0, kl).Add(time.Duration(r.IntN(120*24)) * time.Hour)
	return in
}

func shuffled(r *rand.Rand, in Input) Input {
	out := in
	out.Statements = slices.Clone(in.Statements)
	out.Advices = slices.Clone(in.Advices)
	out.Receipts = slices.Clone(in.Receipts)
	out.Platforms = slices.Clone(in.Platforms)
	out.Decisions = slices.Clone(in.Decisions)
	for _, s := range []interface{ shuffle(*rand.Rand) }{
		sh[statement.Statement](out.Statements), sh[statement.Advice](out.Advices), sh[Receipt](out.Receipts),
		sh[Platform](out.Platforms), sh[Decision](out.Decisions),
	} {
		s.shuffle(r)
	}
	for i := range out.Platforms {
		accts := slices.Clone(out.Platforms[i].Accounts)
		sh[bankstatement.Account](accts).shuffle(r)
		out.Platforms[i].Accounts = accts
	}
	return out
}

type sh[T any] []T

func (s sh[T]) shuffle(r *rand.Rand) { r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] }) }

// TestProperties reconciles many random inputs and checks that money is
// conserved, nothing is allocated beyond a statement's due unless recorded
// as an overpayment, a rerun and any order of the same inputs give the
// identical result, and the indexed lookups agree with plain linear scans.
func TestProperties(t *testing.T) {
	rounds := 400
	if testing.Short() {
		rounds = 100
	}
	cfg := testConfig()
	for seed := range uint64(rounds) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		in := randomInput(r)
		first, err := Reconcile(cfg, in)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkInvariants(t, in, first)
		overpaidOnlyWhenSettled(t, first)
		if t.Failed() {
			t.Fatalf("seed %d failed", seed)
		}
		again, _ := Reconcile(cfg, in)
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("seed %d: a rerun gave another result", seed)
		}
		for range 3 {
			other, err := Reconcile(cfg, shuffled(r, in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(first, other) {
				t.Fatalf("seed %d: shuffled inputs gave another result:\n%+v\n%+v", seed, first, other)
			}
		}
		in2 := in
		naive, err := reconcile(cfg, &in2, newScan, compareNaive)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, naive) {
			t.Fatalf("seed %d: linear scans gave another result:\n%+v\n%+v", seed, first, naive)
		}
	}
}

// overpaidOnlyWhenSettled checks that a period shows an overpayment only
// when nothing of it is open, except where finance blocked a statement.
func overpaidOnlyWhenSettled(t *testing.T, res *Result) {
	t.Helper()
	blocked := false
	for _, d := range res.Decisions {
		blocked = blocked || (d.Kind == Unmatch && d.Applied) || (d.Kind == Match && d.Applied)
	}
	for _, o := range res.Outcomes {
		if o.Overpaid.Amount > 0 && o.Shortfall.Amount > 0 && !blocked {
			t.Errorf("%s is overpaid by %s with %s still open", o.Key, o.Overpaid, o.Shortfall)
		}
		switch o.Status {
		case StatusPaid:
			if o.Shortfall.Amount != 0 || o.Overpaid.Amount != 0 {
				t.Errorf("%s paid with shortfall %s, overpaid %s", o.Key, o.Shortfall, o.Overpaid)
			}
		case StatusMissing:
			if o.Paid.Amount != 0 {
				t.Errorf("%s missing with %s paid", o.Key, o.Paid)
			}
		case StatusUnderpaid:
			if o.Paid.Amount == 0 || o.Shortfall.Amount == 0 {
				t.Errorf("%s underpaid with paid %s shortfall %s", o.Key, o.Paid, o.Shortfall)
			}
		}
	}
}
