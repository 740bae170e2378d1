package gateway

import (
	"sort"
	"time"
)

// Scheme is a social-insurance programme (Malaysia SESS, Korea employment
// insurance, …) as loaded from one scheme pack: its currency, the time zone
// its periods are computed in, the source its numbers come from, and its
// plans.
type Scheme struct {
	ID       string
	Name     string
	Country  string // ISO 3166 code, "MY", "IN-KA"
	Currency Currency
	TimeZone string         // IANA name, "Asia/Kuala_Lumpur"
	Location *time.Location // TimeZone, loaded
	Source   string         // the law, notice or agency page the numbers come from
	Notes    string
	Coverage CoverageBasis // when a worker is covered: on withholding, once payment is recognised, or not by contributions
	Plans    []*Plan

	File   string // the pack file it was loaded from
	Digest string // SHA-256 of the pack file, hex: changes whenever the file does
	Raw    []byte // the pack file as loaded, for storing a versioned copy
}

// CoverageBasis says what makes a worker covered under a scheme.
type CoverageBasis string

// Coverage bases.
const (
	// CoverageOnWithholding: covered from the contribution's withholding,
	// before it is paid (postpaid: Malaysia's Gig Workers Act, Korea's
	// employment insurance). A pack that names no basis has this one.
	CoverageOnWithholding CoverageBasis = "withholding"
	// CoverageOnPayment: covered only once the contribution is paid and
	// recognised (prepaid: Malaysia SESS).
	CoverageOnPayment CoverageBasis = "payment"
	// CoverageNone: contributions decide no worker's cover (entity levies
	// and welfare fees, whose boards decide cover by registration).
	CoverageNone CoverageBasis = "none"
)

// Valid reports whether b is a known basis.
func (b CoverageBasis) Valid() bool {
	return b == CoverageOnWithholding || b == CoverageOnPayment || b == CoverageNone
}

// Plan returns the scheme's plan with the given id, or an ENOTFOUND error.
func (s *Scheme) Plan(id string) (*Plan, error) {
	for _, p := range s.Plans {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "scheme %s has no plan %q", s.ID, id)
}

// Plan is one set of contribution rules in a scheme (SESS plan 2; the
// Karnataka welfare fee), with its effective-dated versions.
type Plan struct {
	ID       string
	Name     string
	SchemeID string
	Versions []*PlanVersion // ordered by ValidFrom, not overlapping
}

// VersionAt returns the version in force at t, or an ENOTFOUND error when no
// version covers t.
func (p *Plan) VersionAt(t time.Time) (*PlanVersion, error) {
	i := sort.Search(len(p.Versions), func(i int) bool { return p.Versions[i].ValidFrom.After(t) })
	if i > 0 && p.Versions[i-1].Covers(t) {
		return p.Versions[i-1], nil
	}
	return nil, Errorf(ENOTFOUND, "plan %s/%s has no version in force at %s", p.SchemeID, p.ID, t.UTC().Format(time.RFC3339))
}

// PlanVersion is a plan's rule as it stands from ValidFrom until ValidTo.
// Its methods Deduct, Reverse, Close and Levy are the whole computation; they
// are pure and safe for concurrent use.
type PlanVersion struct {
	SchemeID  string
	PlanID    string
	Version   int
	ValidFrom time.Time // first instant in force (midnight in the scheme's zone when written as a date)
	ValidTo   time.Time // first instant no longer in force; zero when open-ended
	Period    PeriodUnit
	YearStart time.Month // first month of the year for year and quarter periods (January unless fiscal)
	Currency  Currency
	Location  *time.Location
	Rule      RuleSpec // the rule as written in the pack
	Source    string   // the version's own source, when it has one (a rate notice)

	rule rule // the rule compiled: exact numbers, lookup tables
}

// Covers reports whether the version is in force at t.
func (v *PlanVersion) Covers(t time.Time) bool {
	return !t.Before(v.ValidFrom) && (v.ValidTo.IsZero() || t.Before(v.ValidTo))
}

// PeriodOf returns the version's period that contains t, in the scheme's zone.
func (v *PlanVersion) PeriodOf(t time.Time) Period {
	y, m, _ := t.In(v.Location).Date()
	return periodAt(v.Period, v.YearStart, v.Location, y, m) // unit, zone and year start checked at load
}

// ParsePeriod returns the version's period named by key.
func (v *PlanVersion) ParsePeriod(key string) (Period, error) {
	return ParseFiscalPeriod(v.Period, v.YearStart, key, v.Location)
}

// periodKey returns the key of the version's period containing t.
func (v *PlanVersion) periodKey(t time.Time) string {
	return periodKeyAt(v.Period, v.YearStart, v.Location, t)
}

// Kind returns the rule kind.
func (v *PlanVersion) Kind() RuleKind { return v.rule.kind }

// TargetSelectedIn returns the scheme whose registrations say which plan a
// worker selected, for the plan's period target; "" when the plan has no
// target or names no such scheme.
func (v *PlanVersion) TargetSelectedIn() string {
	if v.rule.targets == nil {
		return ""
	}
	return v.rule.selectedIn
}

// Combined reports whether a worker's running totals under the plan count
// the earnings from every platform together: thresholds, ceilings, period
// amounts and targets are the worker's, and each platform is charged the
// part its own earnings add. Per-order fees and turnover levies are each
// platform's own.
func (v *PlanVersion) Combined() bool {
	return v.rule.kind != RulePerOrder && v.rule.kind != RuleTurnoverLevy
}
