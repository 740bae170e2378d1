package coverage

import (
	"fmt"
	"strconv"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// MonthPeriod is one period of a scheme as the statistics count it: under
// the month in which the period ends (a month's own, a quarter's third, a
// year's twelfth).
type MonthPeriod struct {
	SchemeID    string
	Basis       gateway.CoverageBasis
	Month       string // "2026-10"
	Period      string // the period's key
	FirstDay    calendar.Date
	LastDay     calendar.Date
	CoverMonths int      // how long one paid contribution covers (payment basis)
	Candidates  []string // periods whose paid contributions may cover this one (payment basis)
}

// ParseMonth reads "2026-10" as its first day.
func ParseMonth(field, s string) (calendar.Date, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return calendar.Date{}, gateway.Invalid(field, "bad_month", fmt.Sprintf("%s must be a month such as 2026-10, not %q", field, s))
	}
	return calendar.DateOf(t), nil
}

// StatisticsPeriods returns the periods of scheme s that end in the months
// from to to (first days of months), in order. Months before the scheme's
// first plan version are left out.
func StatisticsPeriods(s *gateway.Scheme, from, to calendar.Date) []MonthPeriod {
	var out []MonthPeriod
	for m := from; !to.Before(m); m = calendar.D(m.Year, m.Month+1, 1) {
		v, err := planVersion(s, "", m)
		if err != nil {
			continue
		}
		p := v.PeriodOf(m.Start(s.Location))
		last := calendar.DateOf(p.End.Add(-time.Nanosecond))
		if last.Year != m.Year || last.Month != m.Month {
			continue // the period ends in a later month
		}
		mp := MonthPeriod{SchemeID: s.ID, Basis: s.Coverage, Month: fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)), Period: p.Key,
			FirstDay: calendar.DateOf(p.Start), LastDay: last, CoverMonths: CoverMonths(v)}
		if s.Coverage == gateway.CoverageOnPayment {
			for _, q := range paymentCandidates(v, p) {
				mp.Candidates = append(mp.Candidates, q.Key)
			}
		}
		out = append(out, mp)
	}
	return out
}

// Ratio is an exact rate: Num out of Den.
type Ratio struct {
	Num, Den int64
}

// String is "Num/Den".
func (r Ratio) String() string {
	return strconv.FormatInt(r.Num, 10) + "/" + strconv.FormatInt(r.Den, 10)
}

// Decimal renders the ratio with digits decimals, rounded half up; "" when
// Den is not positive or Num is negative.
func (r Ratio) Decimal(digits int) string {
	if r.Den <= 0 || r.Num < 0 || digits < 0 || digits > 9 {
		return ""
	}
	scale := int64(1)
	for range digits {
		scale *= 10
	}
	// Worker counts stay far below the range where Num×scale×2 overflows.
	q := (2*r.Num*scale + r.Den) / (2 * r.Den)
	whole, frac := q/scale, q%scale
	if digits == 0 {
		return strconv.FormatInt(whole, 10)
	}
	f := strconv.FormatInt(frac, 10)
	for len(f) < digits {
		f = "0" + f
	}
	return strconv.FormatInt(whole, 10) + "." + f
}
