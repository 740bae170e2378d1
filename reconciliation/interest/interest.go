// Package interest computes interest and charges on late contributions, as
// configuration per scheme and with exact integer arithmetic: rates are
// gateway.Rate rationals, products are formed in 128 bits by
// gateway.ApplyRate, and the one rounding is named in the configuration.
//
// A [Rule] counts how late a payment is, in days or in months where a part
// of a month counts as a whole one, applies tiers of per-unit rates with
// optional caps, caps the total rate, rounds, and applies a minimum charge.
// The rules of three schemes are predefined:
//
//   - [Korea]: 1/1500 of the arrears per day for the first 30 days (at most
//     2%), then 1/6000 per day, at most 5% in total; won below one are cut.
//   - [Singapore]: 1.5% a month (18% a year) pro-rated by day over a 365-day
//     year, rounded down to the dollar, at least S$5.
//   - [India]: 1% a month or part of a month, simple, rounded down to the
//     paisa.
package interest

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Unit is how lateness is counted.
type Unit string

// Units.
const (
	// Days counts calendar days after the due date: paid the day after is
	// one day late.
	Days Unit = "day"
	// MonthsOrPart counts months after the due date, a started month
	// counting whole: one day late is one month, one month and a day is
	// two. A month after 31 January ends on the last day of February.
	MonthsOrPart Unit = "month_or_part"
)

// Tier is a run of units charged at one rate.
type Tier struct {
	// Units is how many units the tier covers; 0 means all remaining units
	// (only the last tier may be open).
	Units int `json:"units,omitempty"`
	// Rate is charged per unit of lateness.
	Rate gateway.Rate `json:"rate"`
	// Cap is the most the tier adds to the total rate; zero means no cap.
	Cap gateway.Rate `json:"cap,omitzero"`
}

// Rule is a scheme's late-interest configuration.
type Rule struct {
	Unit  Unit   `json:"unit"`
	Tiers []Tier `json:"tiers"`
	// Cap is the most the total rate may reach; zero means no cap.
	Cap gateway.Rate `json:"cap,omitzero"`
	// Rounding applies once, to the interest amount.
	Rounding gateway.RoundingMode `json:"rounding"`
	// RoundTo is the step, in minor units, the interest is rounded to:
	// 1 (default) for a cent, sen or paisa; 100 for whole dollars.
	RoundTo int64 `json:"round_to,omitempty"`
	// Minimum is the least charge, in minor units, on an amount paid late
	// at all; 0 for none.
	Minimum int64 `json:"minimum,omitempty"`
}

// Result is the interest on one late amount, with what it was computed
// from, for the statement of account.
type Result struct {
	Late     int          // units late: days or months
	Rate     gateway.Rate // total rate after tier caps and the overall cap
	Interest gateway.Money
	// Capped is true when a tier cap or the overall cap limited the rate.
	Capped bool
	// MinimumApplied is true when the minimum charge replaced a smaller
	// computed interest.
	MinimumApplied bool
}

func mustRate(num, den int64) gateway.Rate {
	r, err := gateway.NewRate(num, den)
	if err != nil {
		panic(err)
	}
	return r
}

// Korea is the arrears charge (연체금) of the Korean social insurance
// collection acts: 1/1500 of the arrears for each day late up to 30 days,
// at most 20/1000; from the 31st day a further 1/6000 per day, at most
// 50/1000 in all (reached on day 210). Amounts under one won are cut.
func Korea() Rule {
	return Rule{
		Unit: Days,
		Tiers: []Tier{
			{Units: 30, Rate: mustRate(1, 1500), Cap: mustRate(2, 100)},
			{Rate: mustRate(1, 6000)},
		},
		Cap:      mustRate(5, 100),
		Rounding: gateway.RoundDown,
		RoundTo:  1,
	}
}

// Singapore is CPF late payment interest: 1.5% a month, that is 18% a year,
// computed by day over a 365-day year, rounded down to the dollar, with a
// minimum of S$5 (500 cents).
func Singapore() Rule {
	return Rule{
		Unit:     Days,
		Tiers:    []Tier{{Rate: mustRate(18, 100*365)}},
		Rounding: gateway.RoundDown,
		RoundTo:  100,
		Minimum:  500,
	}
}

// India is simple interest of 1% a month or part of a month on the amount
// in arrears, rounded down to the paisa.
func India() Rule {
	return Rule{
		Unit:     MonthsOrPart,
		Tiers:    []Tier{{Rate: mustRate(1, 100)}},
		Rounding: gateway.RoundDown,
		RoundTo:  1,
	}
}

// Validate checks the configuration.
func (r Rule) Validate() error {
	if r.Unit != Days && r.Unit != MonthsOrPart {
		return ruleError("unit", "unit %q is not %q or %q", r.Unit, Days, MonthsOrPart)
	}
	if len(r.Tiers) == 0 {
		return ruleError("tiers", "at least one tier is required")
	}
	for i, t := range r.Tiers {
		if t.Units < 0 {
			return ruleError("tiers", "tier %d has %d units", i+1, t.Units)
		}
		if t.Units == 0 && i != len(r.Tiers)-1 {
			return ruleError("tiers", "only the last tier may be open (units 0); tier %d is", i+1)
		}
	}
	if r.RoundTo < 0 || r.Minimum < 0 {
		return ruleError("round_to", "round_to and minimum must not be negative")
	}
	if _, err := gateway.ParseRoundingMode(r.Rounding.String()); err != nil {
		return ruleError("rounding", "unknown rounding mode %d", r.Rounding)
	}
	return nil
}

// Late returns how many units paid is after due: 0 when paid on or before
// the due date.
func (r Rule) Late(due, paid calendar.Date) int {
	if !due.Before(paid) {
		return 0
	}
	if r.Unit == MonthsOrPart {
		n := 1
		for addMonths(due, n).Before(paid) {
			n++
		}
		return n
	}
	return int(paid.Start(time.UTC).Sub(due.Start(time.UTC)).Hours() / 24)
}

// addMonths returns the date n months after d, clamped to the month's last
// day (31 January + 1 month is 28 or 29 February).
func addMonths(d calendar.Date, n int) calendar.Date {
	first := calendar.D(d.Year, d.Month+time.Month(n), 1)
	last := calendar.D(first.Year, first.Month+1, 0)
	return calendar.D(first.Year, first.Month, min(d.Day, last.Day))
}

// Interest returns the interest on owed, due on due and paid on paid.
func (r Rule) Interest(owed gateway.Money, due, paid calendar.Date) (Result, error) {
	return r.ForUnits(owed, r.Late(due, paid))
}

// ForUnits returns the interest on owed when it is late units days or
// months.
func (r Rule) ForUnits(owed gateway.Money, late int) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	res := Result{Late: late, Interest: gateway.Money{Currency: owed.Currency}}
	if late <= 0 || owed.Amount <= 0 {
		return res, nil
	}
	var total gateway.Rate
	left := late
	for _, t := range r.Tiers {
		n := left
		if t.Units > 0 {
			n = min(n, t.Units)
		}
		left -= n
		add, err := times(t.Rate, n)
		if err != nil {
			return Result{}, err
		}
		if !t.Cap.IsZero() && add.Cmp(t.Cap) > 0 {
			add, res.Capped = t.Cap, true
		}
		if total, err = total.Add(add); err != nil {
			return Result{}, err
		}
		if left == 0 {
			break
		}
	}
	if !r.Cap.IsZero() && total.Cmp(r.Cap) > 0 {
		total, res.Capped = r.Cap, true
	}
	res.Rate = total
	step := max(r.RoundTo, 1)
	perStep := total
	if step > 1 {
		var err error
		if perStep, err = divide(total, step); err != nil {
			return Result{}, err
		}
	}
	steps, err := gateway.ApplyRate(owed, perStep, r.Rounding)
	if err != nil {
		return Result{}, err
	}
	amount, err := steps.Mul(step)
	if err != nil {
		return Result{}, err
	}
	if amount.Amount < r.Minimum {
		amount.Amount, res.MinimumApplied = r.Minimum, true
	}
	res.Interest = amount
	return res, nil
}

// times returns r × n exactly, or an error if the numerator overflows.
func times(r gateway.Rate, n int) (gateway.Rate, error) {
	hi, lo := bits.Mul64(uint64(r.Num()), uint64(n))
	if hi != 0 || lo > 1<<63-1 {
		return gateway.Rate{}, gateway.Errorf(gateway.EINVALID, "interest rate %s × %d overflows", r, n)
	}
	return gateway.NewRate(int64(lo), r.Den())
}

// divide returns r / n exactly, or an error if the denominator overflows.
func divide(r gateway.Rate, n int64) (gateway.Rate, error) {
	hi, lo := bits.Mul64(uint64(r.Den()), uint64(n))
	if hi != 0 || lo > 1<<63-1 {
		return gateway.Rate{}, gateway.Errorf(gateway.EINVALID, "interest rate %s / %d overflows", r, n)
	}
	return gateway.NewRate(r.Num(), int64(lo))
}

func ruleError(field, format string, args ...any) *gateway.Error {
	return &gateway.Error{
		Code:    gateway.EINVALID,
		Message: "invalid late-interest rule",
		Details: []gateway.Detail{{Field: field, Message: fmt.Sprintf(format, args...)}},
	}
}
