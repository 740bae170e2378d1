package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// Kind is how a Rule finds the due date from its anchor.
type Kind int

// Kinds of rule.
const (
	// DayOfMonth: day Day of the month Months after the anchor's month.
	DayOfMonth Kind = iota + 1
	// WorkingDaysAfter: the Days-th working day after the anchor.
	WorkingDaysAfter
	// DaysAfter: Days calendar days after the anchor.
	DaysAfter
)

// Anchor is the day a Rule counts from, derived from the period's last day.
type Anchor int

// Anchors.
const (
	// AnchorPeriod is the period's last day itself.
	AnchorPeriod Anchor = iota
	// AnchorMonth is the last day of the month the period ends in.
	AnchorMonth
	// AnchorQuarter is the last day of the calendar quarter the period ends in.
	AnchorQuarter
	// AnchorYear is 31 December of the year the period ends in.
	AnchorYear
)

// Roll says what happens when a rule lands on a day that is not a working
// day.
type Roll int

// Rolls.
const (
	// Following moves to the next working day (the default).
	Following Roll = iota
	// Preceding moves to the previous working day.
	Preceding
	// Unadjusted keeps the date even if it is not a working day.
	Unadjusted
)

// LastDay as Rule.Day means the last day of the month.
const LastDay = -1

// Rule is a scheme's due-date rule. Write it in configuration as text and
// read it with [ParseRule]; [Rule.String] gives the canonical text back.
//
//	15th of next month                      Kind DayOfMonth, Months 1, Day 15
//	last day of the month                   Kind DayOfMonth, Months 0, Day LastDay
//	last day of next month                  Kind DayOfMonth, Months 1, Day LastDay
//	15th of the month after the quarter     Kind DayOfMonth, Anchor AnchorQuarter, Months 1
//	10th of the 2nd month after the period  Kind DayOfMonth, Anchor AnchorPeriod, Months 2
//	5 working days after the quarter        Kind WorkingDaysAfter, Anchor AnchorQuarter, Days 5
//	30 days after the period                Kind DaysAfter, Anchor AnchorPeriod, Days 30
//
// Any of them may end in ", preceding" (roll back to the previous working
// day) or ", unadjusted" (no roll); the default rolls forward to the next
// working day.
type Rule struct {
	Kind   Kind
	Anchor Anchor
	// Months after the anchor's month, for DayOfMonth: 0 to 12.
	Months int
	// Day of the month for DayOfMonth: 1 to 31, or LastDay. A day beyond
	// the month's end means its last day (31st of February is the 28th or
	// 29th).
	Day int
	// Days for WorkingDaysAfter and DaysAfter: 0 to 366.
	Days int
	Roll Roll
}

// Validate checks that the fields are in range.
func (r Rule) Validate() error {
	switch {
	case r.Anchor < AnchorPeriod || r.Anchor > AnchorYear:
		return ruleError("anchor %d is unknown", r.Anchor)
	case r.Roll < Following || r.Roll > Unadjusted:
		return ruleError("roll %d is unknown", r.Roll)
	}
	switch r.Kind {
	case DayOfMonth:
		if r.Months < 0 || r.Months > 12 {
			return ruleError("months must be 0 to 12, got %d", r.Months)
		}
		if r.Day != LastDay && (r.Day < 1 || r.Day > 31) {
			return ruleError("day must be 1 to 31 or last, got %d", r.Day)
		}
	case WorkingDaysAfter, DaysAfter:
		if r.Days < 0 || r.Days > 366 {
			return ruleError("days must be 0 to 366, got %d", r.Days)
		}
	default:
		return ruleError("kind %d is unknown", r.Kind)
	}
	return nil
}

// DueDate applies rule to the period ending on periodEnd (the period's last
// day, in the scheme's own time zone) and rolls the result with cal. It
// fails if the rule is invalid or needs a day outside cal's years.
//
// Examples with periodEnd 2026-10-31 and Korea's calendar: "10th of next
// month" is 2026-11-10 (a Tuesday); with periodEnd 2026-09-30, "15th of next
// month" is 2026-10-15; for Singapore's calendar and periodEnd 2026-07-31,
// "10th of next month" falls on National Day's observed holiday, Monday
// 2026-08-10, and rolls to 2026-08-11.
func DueDate(periodEnd Date, rule Rule, cal *Calendar) (Date, error) {
	if err := rule.Validate(); err != nil {
		return Date{}, err
	}
	anchor := rule.Anchor.of(periodEnd)
	switch rule.Kind {
	case DayOfMonth:
		first := D(anchor.Year, anchor.Month+time.Month(rule.Months), 1)
		last := first.lastOfMonth()
		d := last
		if rule.Day != LastDay && rule.Day < last.Day {
			d = D(first.Year, first.Month, rule.Day)
		}
		return roll(d, rule.Roll, cal)
	case DaysAfter:
		return roll(anchor.AddDays(rule.Days), rule.Roll, cal)
	default: // WorkingDaysAfter
		d := anchor
		for n := rule.Days; n > 0; {
			d = d.AddDays(1)
			ok, err := cal.IsWorkingDay(d)
			if err != nil {
				return Date{}, err
			}
			if ok {
				n--
			}
		}
		return roll(d, rule.Roll, cal)
	}
}

func roll(d Date, r Roll, cal *Calendar) (Date, error) {
	step := 1
	switch r {
	case Unadjusted:
		if !cal.Covers(d) {
			return Date{}, cal.notCovered(d)
		}
		return d, nil
	case Preceding:
		step = -1
	}
	for {
		ok, err := cal.IsWorkingDay(d)
		if err != nil {
			return Date{}, err
		}
		if ok {
			return d, nil
		}
		d = d.AddDays(step)
	}
}

// of returns the anchor day for a period ending on end.
func (a Anchor) of(end Date) Date {
	switch a {
	case AnchorMonth:
		return end.lastOfMonth()
	case AnchorQuarter:
		q := (int(end.Month)-1)/3*3 + 3 // last month of the quarter
		return D(end.Year, time.Month(q+1), 0)
	case AnchorYear:
		return D(end.Year, 12, 31)
	default:
		return end
	}
}

// String returns the rule in the text form ParseRule reads.
func (r Rule) String() string {
	var s string
	switch r.Kind {
	case DayOfMonth:
		day := "last day"
		if r.Day != LastDay {
			day = ordinal(r.Day)
		}
		switch {
		case r.Months == 0 && (r.Anchor == AnchorMonth || r.Anchor == AnchorPeriod):
			s = day + " of the month"
		case r.Months == 1 && (r.Anchor == AnchorMonth || r.Anchor == AnchorPeriod):
			s = day + " of next month"
		case r.Months == 0:
			s = day + " of the last month of the " + r.Anchor.word()
		case r.Months == 1:
			s = day + " of the month after the " + r.Anchor.word()
		default:
			s = fmt.Sprintf("%s of the %s month after the %s", day, ordinal(r.Months), r.Anchor.word())
		}
	case WorkingDaysAfter:
		s = fmt.Sprintf("%d working days after the %s", r.Days, r.Anchor.word())
	case DaysAfter:
		s = fmt.Sprintf("%d days after the %s", r.Days, r.Anchor.word())
	default:
		return fmt.Sprintf("invalid rule kind %d", r.Kind)
	}
	switch r.Roll {
	case Preceding:
		s += ", preceding"
	case Unadjusted:
		s += ", unadjusted"
	}
	return s
}

func (a Anchor) word() string {
	switch a {
	case AnchorMonth:
		return "month"
	case AnchorQuarter:
		return "quarter"
	case AnchorYear:
		return "year"
	default:
		return "period"
	}
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

// ParseRule reads a rule in the text form shown on [Rule]. Case, "the" and
// a trailing "end" after the anchor ("after the quarter end") are ignored;
// "business days" is accepted for "working days".
func ParseRule(s string) (Rule, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	var r Rule
	if main, suffix, ok := strings.Cut(text, ","); ok {
		switch strings.TrimSpace(suffix) {
		case "following", "roll forward", "next working day":
			r.Roll = Following
		case "preceding", "roll back", "previous working day":
			r.Roll = Preceding
		case "unadjusted", "no roll":
			r.Roll = Unadjusted
		default:
			return Rule{}, ruleError("unknown roll %q in %q (use following, preceding or unadjusted)", strings.TrimSpace(suffix), s)
		}
		text = main
	}
	var words []string
	for _, w := range strings.Fields(text) {
		if w != "the" && w != "end" {
			words = append(words, w)
		}
	}
	bad := ruleError(`cannot read rule %q; write e.g. "15th of next month", "last day of the month" or "5 working days after the quarter"`, s)
	if len(words) < 3 {
		return Rule{}, bad
	}
	// "N working days after X", "N business days after X", "N days after X".
	if n, err := strconv.Atoi(words[0]); err == nil {
		rest := words[1:]
		switch {
		case len(rest) == 4 && (rest[0] == "working" || rest[0] == "business") && rest[1] == "days" && rest[2] == "after":
			r.Kind, rest = WorkingDaysAfter, rest[3:]
		case len(rest) == 3 && rest[0] == "days" && rest[1] == "after":
			r.Kind, rest = DaysAfter, rest[2:]
		default:
			if len(rest) > 0 && rest[0] == "of" {
				break // "15 of next month"
			}
			return Rule{}, bad
		}
		if r.Kind != 0 {
			a, ok := anchorWords[rest[0]]
			if !ok {
				return Rule{}, bad
			}
			r.Anchor, r.Days = a, n
			return r, r.Validate()
		}
	}
	// "<day> of <month>".
	r.Kind = DayOfMonth
	switch {
	case words[0] == "last" && words[1] == "day":
		r.Day, words = LastDay, words[2:]
	case words[0] == "last":
		r.Day, words = LastDay, words[1:]
	default:
		d, ok := parseOrdinal(words[0])
		if !ok {
			return Rule{}, bad
		}
		r.Day, words = d, words[1:]
	}
	if len(words) == 0 || words[0] != "of" {
		return Rule{}, bad
	}
	words = words[1:]
	switch {
	case len(words) == 1 && (words[0] == "month"):
		r.Anchor, r.Months = AnchorMonth, 0
	case len(words) == 2 && words[0] == "this" && words[1] == "month":
		r.Anchor, r.Months = AnchorMonth, 0
	case len(words) == 2 && (words[0] == "next" || words[0] == "following") && words[1] == "month":
		r.Anchor, r.Months = AnchorMonth, 1
	case len(words) == 3 && words[0] == "month" && words[1] == "after":
		a, ok := anchorWords[words[2]]
		if !ok {
			return Rule{}, bad
		}
		r.Anchor, r.Months = a, 1
	case len(words) == 4 && words[1] == "month" && words[2] == "after":
		m, ok := parseOrdinal(words[0])
		a, ok2 := anchorWords[words[3]]
		if !ok || !ok2 {
			return Rule{}, bad
		}
		r.Anchor, r.Months = a, m
	case len(words) == 4 && words[0] == "last" && words[1] == "month" && words[2] == "of":
		a, ok := anchorWords[words[3]]
		if !ok {
			return Rule{}, bad
		}
		r.Anchor, r.Months = a, 0
	default:
		return Rule{}, bad
	}
	return r, r.Validate()
}

var anchorWords = map[string]Anchor{
	"period": AnchorPeriod, "month": AnchorMonth, "quarter": AnchorQuarter, "year": AnchorYear,
}

// parseOrdinal reads "15", "15th", "1st", "2nd", "3rd".
func parseOrdinal(w string) (int, bool) {
	num := strings.TrimRight(w, "stndrh")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, false
	}
	if suffix := w[len(num):]; suffix != "" && suffix != ordinal(n)[len(num):] {
		return 0, false
	}
	return n, true
}

func ruleError(format string, args ...any) *gateway.Error {
	return &gateway.Error{
		Code:    gateway.EINVALID,
		Message: "invalid due-date rule",
		Details: []gateway.Detail{{Field: "due_rule", Message: fmt.Sprintf(format, args...)}},
	}
}
