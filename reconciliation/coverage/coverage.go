// Package coverage decides whether a worker is covered under a scheme on a
// date, and says why, from the worker's contributions, the statements that
// carry them and how those statements were paid. It is pure: the store
// gathers the facts, Decide applies the scheme's rule.
//
// A scheme pack names its coverage basis (gateway.CoverageBasis):
//
//   - withholding (postpaid: Malaysia's Gig Workers Act, Korea's employment
//     insurance): the worker is covered for the whole of a period (its
//     days in the scheme's zone) in which a contribution was withheld from
//     an earning, whether or not the platform has paid it yet. Contributions
//     are monthly, and Korea insures by the month's remuneration, so the
//     period is the unit of cover. A contribution refunded in full (a
//     reversal, a threshold not met at close) covers nothing.
//   - payment (prepaid: Malaysia SESS): the worker is covered only once a
//     contribution is paid and recognised. A contribution is recognised on
//     the value date of the payment that completes the statement carrying
//     it; from that day it covers one period of the scheme (a month for
//     SESS: recognised on 9 November, it covers 9 November to 8 December).
//     The contribution withheld in a month is stated when the month closes
//     and paid after, so a date is covered by the contribution of an
//     earlier month: usually the one before its own, or the one before
//     that. A contribution short of
//     the plan's amount (a shortfall notice) covers nothing until the worker
//     pays the rest directly, which Coverbridge does not see.
//   - none (entity levies, welfare fees): contributions decide no worker's
//     cover; the scheme's board decides it by registration.
package coverage

import (
	"fmt"
	"slices"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Reasons: why a worker is or is not covered.
const (
	ReasonWithheld          = "withheld"            // covered: a contribution was withheld in the date's period
	ReasonNothingWithheld   = "nothing_withheld"    // not covered: no contribution (or one refunded in full) in the deciding period
	ReasonPaid              = "paid"                // covered: a contribution paid and recognised on or before the date covers it
	ReasonPaidLater         = "paid_later"          // not covered: the contribution was recognised after the date
	ReasonCoverEnded        = "cover_ended"         // not covered: the last paid contribution's cover ended before the date
	ReasonNotPaid           = "not_paid"            // not covered: the statement carrying the contribution is not paid in full
	ReasonNotStated         = "not_stated"          // not covered: withheld, but its period is not stated yet
	ReasonShortfall         = "shortfall"           // not covered: less was withheld than the plan's amount
	ReasonNotByContribution = "not_by_contribution" // not decided by contributions (basis none)
	ReasonNotInForce        = "scheme_not_in_force" // no plan of the scheme is in force on the date
)

// Contribution is one platform's contribution for the worker in one period
// of the scheme: the ledger's shares net of reversals and of the period
// close's adjustments.
type Contribution struct {
	PlatformID    string
	PlanID        string
	Period        string        // the period's key
	WorkerShare   gateway.Money // withheld from the worker
	PlatformShare gateway.Money // the platform's own share
	// Shortfall is what a period close's shortfall notice says is missing
	// against the plan's amount; zero when there is none.
	Shortfall  gateway.Money
	Statements []Statement // the statements with a line for the worker, in issue order
}

// Total is both shares.
func (c Contribution) Total() gateway.Money {
	return gateway.Money{Amount: c.WorkerShare.Amount + c.PlatformShare.Amount, Currency: c.WorkerShare.Currency}
}

// Statement is a statement that carries a line for the worker, with how the
// latest matching run found it paid.
type Statement struct {
	ID   string
	Seq  uint32
	Line gateway.Money // the worker's line, both shares
	// Outcome is the status of the period's latest matching outcome (paid,
	// overpaid, open, underpaid, missing); "" before any run saw it.
	Outcome string
	// Paid says the statement is paid in full; RecognisedOn is then the
	// value date of the payment that completed it.
	Paid         bool
	RecognisedOn calendar.Date
}

// Step is one step of a registration history, as recorded.
type Step struct {
	PlatformID string
	WorkerRef  string
	Change     string        // start, change or end
	PlanID     string        // "" keeps the plan (a change of category) or the platform's default
	Effective  calendar.Date // the day it takes effect
}

// Registration is where a worker's registration with one platform stands
// on the date.
type Registration struct {
	PlatformID string
	WorkerRef  string
	Active     bool
	PlanID     string        // the plan selected, "" for the platform's default
	Since      calendar.Date // the start in force, or the last start before an end
	Ended      calendar.Date // the end, when one took effect on or before the date
}

// Input is what Decide needs for one scheme.
type Input struct {
	Scheme *gateway.Scheme
	Date   calendar.Date // the day asked about, in the scheme's zone
	PlanID string        // the plan whose periods to use; "" for the first plan
	// Steps is the worker's registration history under the scheme, with
	// every platform the answer may show, ordered by date.
	Steps []Step
	// Contributions of the periods Periods names, every platform the
	// answer may show.
	Contributions []Contribution
}

// Answer is whether the worker is covered under one scheme on a date.
type Answer struct {
	SchemeID string
	Basis    gateway.CoverageBasis
	Rule     string // the scheme's rule in a sentence
	Covered  bool
	Reason   string // one of the Reason codes
	Why      string // the reason in a sentence, with the amounts, statement and dates
	Period   gateway.Period
	// Deciding is the key of the period whose contribution decides: the
	// date's own period on withholding; on payment the period whose paid
	// contribution covers the date, or the latest one that could.
	Deciding string
	// CoveredFrom and CoveredUntil are the first and last day of the cover
	// the deciding contribution gives, when it gives one.
	CoveredFrom, CoveredUntil calendar.Date
	Registrations             []Registration
	Contributions             []Contribution // of the deciding period
}

// Periods returns the period of plan containing date, and the keys of the
// periods whose contributions can decide coverage on it: the period itself
// on withholding, the Lookback periods before it on payment.
func Periods(s *gateway.Scheme, planID string, date calendar.Date) (gateway.Period, []string, error) {
	v, err := planVersion(s, planID, date)
	if err != nil {
		return gateway.Period{}, nil, err
	}
	p := v.PeriodOf(date.Start(s.Location))
	switch s.Coverage {
	case gateway.CoverageOnPayment:
		var keys []string
		for _, q := range paymentCandidates(v, p) {
			keys = append(keys, q.Key)
		}
		return p, keys, nil
	case gateway.CoverageNone:
		return p, nil, nil
	default:
		return p, []string{p.Key}, nil
	}
}

// planVersion returns the version of the plan (or the scheme's first
// plan) in force on date; ENOTFOUND when none is.
func planVersion(s *gateway.Scheme, planID string, date calendar.Date) (*gateway.PlanVersion, error) {
	if s == nil || len(s.Plans) == 0 || s.Location == nil {
		return nil, gateway.Errorf(gateway.EINTERNAL, "coverage: a scheme with plans and a zone is required")
	}
	plan := s.Plans[0]
	if planID != "" {
		if p, err := s.Plan(planID); err == nil {
			plan = p
		}
	}
	return plan.VersionAt(date.Start(s.Location))
}

// Lookback is how many periods before a date's own are searched for a paid
// contribution that covers it. A contribution is paid after its period
// closes, usually within the next one; one paid later covers from its
// later recognition, and one paid more than this many periods late is not
// looked at.
const Lookback = 12

// paymentCandidates returns the Lookback periods before p, latest first.
func paymentCandidates(v *gateway.PlanVersion, p gateway.Period) []gateway.Period {
	out := make([]gateway.Period, 0, Lookback)
	for range Lookback {
		p = previous(v, p)
		out = append(out, p)
	}
	return out
}

func previous(v *gateway.PlanVersion, p gateway.Period) gateway.Period {
	return v.PeriodOf(p.Start.Add(-time.Nanosecond))
}

// Decide applies the scheme's rule.
func Decide(in Input) Answer {
	s := in.Scheme
	a := Answer{SchemeID: s.ID, Basis: s.Coverage, Rule: RuleText(s.Coverage), Registrations: RegistrationsOn(in.Steps, in.Date)}
	planID := in.PlanID
	if planID == "" {
		for _, r := range a.Registrations {
			if r.Active && r.PlanID != "" {
				planID = r.PlanID
				break
			}
		}
	}
	v, err := planVersion(s, planID, in.Date)
	if err != nil {
		a.Reason, a.Why = ReasonNotInForce, fmt.Sprintf("No plan of %s is in force on %s.", s.ID, in.Date)
		return a
	}
	a.Period = v.PeriodOf(in.Date.Start(s.Location))
	switch s.Coverage {
	case gateway.CoverageNone:
		a.Reason = ReasonNotByContribution
		a.Why = fmt.Sprintf("Contributions to %s do not decide a worker's cover: its board decides it by registration.", s.ID)
	case gateway.CoverageOnPayment:
		decidePayment(&a, v, in)
	default:
		decideWithholding(&a, in)
	}
	return a
}

// RuleText describes a basis in a sentence.
func RuleText(b gateway.CoverageBasis) string {
	switch b {
	case gateway.CoverageOnPayment:
		return "Covered only once a contribution is paid and recognised (prepaid): a contribution covers one period from the day the payment that completes its statement is recognised."
	case gateway.CoverageNone:
		return "Not decided by contributions: the scheme is funded by a levy or fee on the platform and its board decides cover by registration."
	default:
		return "Covered on withholding (postpaid): for the whole of a period in which a contribution is withheld, before it is paid."
	}
}

// decideWithholding: covered for the whole of the date's period when a
// contribution of it was withheld and not refunded in full.
func decideWithholding(a *Answer, in Input) {
	a.Deciding = a.Period.Key
	a.Contributions = of(in.Contributions, a.Period.Key)
	var total gateway.Money
	for _, c := range a.Contributions {
		if c.Total().Amount > 0 {
			total = sum(total, c.Total())
		}
	}
	if total.Amount <= 0 {
		a.Reason = ReasonNothingWithheld
		a.Why = fmt.Sprintf("No contribution was withheld for the worker in %s, or it was refunded in full.", a.Period.Key)
		return
	}
	first, last := calendar.DateOf(a.Period.Start), calendar.DateOf(a.Period.End.Add(-time.Nanosecond))
	a.Covered, a.Reason, a.CoveredFrom, a.CoveredUntil = true, ReasonWithheld, first, last
	a.Why = fmt.Sprintf("%s was withheld in %s: covered from %s to %s, whether or not it is paid yet.", total, a.Period.Key, first, last)
}

// decidePayment: covered when a paid contribution of one of the periods
// before the date's covers it. When none does, the contribution that got
// furthest decides, the latest period first among equals.
func decidePayment(a *Answer, v *gateway.PlanVersion, in Input) {
	var best *Answer
	for _, p := range paymentCandidates(v, a.Period) {
		vd := Answer{Deciding: p.Key, Contributions: of(in.Contributions, p.Key)}
		vd.Reason, vd.Why, vd.CoveredFrom, vd.CoveredUntil = paidCover(p, vd.Contributions, in.Date, v)
		if best == nil || reasonRank[vd.Reason] > reasonRank[best.Reason] {
			best = &vd
		}
	}
	a.Covered = best.Reason == ReasonPaid
	a.Reason, a.Why, a.Deciding, a.Contributions = best.Reason, best.Why, best.Deciding, best.Contributions
	a.CoveredFrom, a.CoveredUntil = best.CoveredFrom, best.CoveredUntil
}

// reasonRank orders the reasons on payment by how far the contribution
// got: the furthest one is the answer.
var reasonRank = map[string]int{ReasonNothingWithheld: 0, ReasonShortfall: 1, ReasonNotStated: 2, ReasonNotPaid: 3,
	ReasonCoverEnded: 4, ReasonPaidLater: 5, ReasonPaid: 6}

// paidCover says whether the contributions of period p cover date.
func paidCover(p gateway.Period, cs []Contribution, date calendar.Date, v *gateway.PlanVersion) (reason, why string, from, until calendar.Date) {
	reason = ReasonNothingWithheld
	why = fmt.Sprintf("No contribution was withheld for the worker in %s.", p.Key)
	set := func(r, w string, f, u calendar.Date) {
		if reasonRank[r] >= reasonRank[reason] {
			reason, why, from, until = r, w, f, u
		}
	}
	for _, c := range cs {
		total := c.Total()
		switch {
		case total.Amount <= 0:
			continue
		case c.Shortfall.Amount > 0:
			set(ReasonShortfall, fmt.Sprintf("%s was withheld in %s by %s, %s short of the plan's amount: the worker pays the rest directly, which Coverbridge does not see.",
				total, p.Key, c.PlatformID, c.Shortfall), calendar.Date{}, calendar.Date{})
			continue
		}
		anyPaid := false
		for _, st := range c.Statements {
			if st.Line.Amount <= 0 || !st.Paid || st.RecognisedOn.IsZero() {
				continue
			}
			anyPaid = true
			f := st.RecognisedOn
			u := lastDay(v, f)
			switch {
			case date.Before(f):
				set(ReasonPaidLater, fmt.Sprintf("%s of %s on statement %s was recognised on %s, after %s.", total, p.Key, st.ID, f, date), f, u)
			case u.Before(date):
				set(ReasonCoverEnded, fmt.Sprintf("%s of %s on statement %s was recognised on %s and covered to %s, before %s.", total, p.Key, st.ID, f, u, date), f, u)
			default:
				why = fmt.Sprintf("%s of %s on statement %s of %s was paid and recognised on %s: covered from %s to %s.", total, p.Key, st.ID,
					c.PlatformID, f, f, u)
				return ReasonPaid, why, f, u
			}
		}
		switch {
		case anyPaid:
		case len(c.Statements) == 0:
			set(ReasonNotStated, fmt.Sprintf("%s was withheld in %s by %s, but the period is not stated yet.", total, p.Key, c.PlatformID),
				calendar.Date{}, calendar.Date{})
		default:
			st := c.Statements[len(c.Statements)-1]
			set(ReasonNotPaid, fmt.Sprintf("%s of %s is on statement %s of %s, which is not paid in full (%s).", total, p.Key, st.ID,
				c.PlatformID, outcomeText(st.Outcome)), calendar.Date{}, calendar.Date{})
		}
	}
	return reason, why, from, until
}

// lastDay returns the last day of one period's cover starting on from: the
// day before the same day one period later (clamped to the end of a
// shorter month).
func lastDay(v *gateway.PlanVersion, from calendar.Date) calendar.Date {
	y, m := from.Year, from.Month+time.Month(CoverMonths(v))
	end := calendar.D(y, m+1, 0) // last day of the target month
	day := calendar.D(y, m, from.Day)
	if from.Day > end.Day {
		day = end.AddDays(1)
	}
	return day.AddDays(-1)
}

func outcomeText(s string) string {
	if s == "" {
		return "no matching run has seen it yet"
	}
	return "the period is " + s
}

func of(cs []Contribution, period string) []Contribution {
	var out []Contribution
	for _, c := range cs {
		if c.Period == period {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Contribution) int {
		if a.PlatformID < b.PlatformID {
			return -1
		}
		if a.PlatformID > b.PlatformID {
			return 1
		}
		return 0
	})
	return out
}

// sum adds b to a; amounts in another currency than a's are left out (one
// scheme has one currency).
func sum(a, b gateway.Money) gateway.Money {
	if a.Currency == "" {
		return b
	}
	if a.Currency == b.Currency {
		a.Amount += b.Amount
	}
	return a
}

// RegistrationsOn returns where each platform's registration stands on
// date, by platform.
func RegistrationsOn(steps []Step, date calendar.Date) []Registration {
	by := map[string]*Registration{}
	var order []string
	for _, s := range steps {
		r, ok := by[s.PlatformID]
		if !ok {
			r = &Registration{PlatformID: s.PlatformID, WorkerRef: s.WorkerRef}
			by[s.PlatformID] = r
			order = append(order, s.PlatformID)
		}
		if date.Before(s.Effective) {
			continue
		}
		switch s.Change {
		case "start":
			r.Active, r.PlanID, r.Since, r.Ended = true, s.PlanID, s.Effective, calendar.Date{}
			r.WorkerRef = s.WorkerRef
		case "change":
			if s.PlanID != "" {
				r.PlanID = s.PlanID
			}
		case "end":
			r.Active, r.Ended = false, s.Effective
		}
	}
	slices.Sort(order)
	out := make([]Registration, 0, len(order))
	for _, p := range order {
		out = append(out, *by[p])
	}
	return out
}

// CoverMonths is how many months one paid contribution covers: one
// period of the plan.
func CoverMonths(v *gateway.PlanVersion) int {
	switch v.Period {
	case gateway.PeriodQuarter:
		return 3
	case gateway.PeriodYear:
		return 12
	default:
		return 1
	}
}
