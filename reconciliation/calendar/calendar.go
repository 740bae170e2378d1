// Package calendar computes contribution due dates: a scheme's rule ("15th
// of next month", "last day of next month", "5 working days after quarter")
// applied to a period's last day, then rolled past weekends and holidays to
// a working day using a holiday calendar.
//
// A holiday calendar is a small text file, one fact a line:
//
//	# comment
//	calendar KR                      code of the calendar (country or scheme)
//	name Republic of Korea, public holidays
//	weekend sat sun                  the weekly rest days
//	years 2026 2027                  first and last year the file is complete for
//	2026-02-16 holiday Seollal       a non-working day and its name
//	2027-02-09 holiday? Seollal      "?" marks a provisional date, not yet gazetted
//	2026-02-14 workday Adjusted day  a weekend day that is a working day (China)
//
// Dates outside the "years" range are refused rather than guessed: a due
// date that needs a year the calendar does not cover is an error, so a
// missing file update shows up instead of a wrong date. Example calendars
// for MY, KR, SG, IN and CN covering 2026 and 2027, with their sources, are
// embedded and available through [Builtin].
package calendar

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// Date is a calendar day with no time of day or zone. Due dates are dates;
// the caller decides in which zone a date begins and ends.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// D returns the Date year-month-day, normalised like time.Date (so
// D(2026, 2, 30) is 2026-03-02).
func D(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar day of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String returns the date as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.time().Format(time.DateOnly)
}

// IsZero reports whether d is the zero Date, meaning "no date".
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns the date n days after d (before, if n is negative).
func (d Date) AddDays(n int) Date { return D(d.Year, d.Month, d.Day+n) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.time().Weekday() }

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	return cmpInts(d.Year, o.Year, int(d.Month), int(o.Month), d.Day, o.Day)
}

// Start returns the first instant of d in loc, e.g. the moment a payment
// becomes late is Start of the day after the due date in the scheme's zone.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

func (d Date) time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// lastOfMonth returns the last day of d's month.
func (d Date) lastOfMonth() Date { return D(d.Year, d.Month+1, 0) }

func cmpInts(pairs ...int) int {
	for i := 0; i < len(pairs); i += 2 {
		switch {
		case pairs[i] < pairs[i+1]:
			return -1
		case pairs[i] > pairs[i+1]:
			return 1
		}
	}
	return 0
}

// Entry is one dated line of a calendar.
type Entry struct {
	Date Date
	Name string
	// Working is true for a weekend day declared a working day.
	Working bool
	// Provisional is true for a date not yet confirmed by the authority
	// ("holiday?" or "workday?" in the file).
	Provisional bool
}

// Calendar says which days are working days for one country or scheme. Build
// one with [Parse], [Load] or [Builtin]; the zero Calendar has no years and
// refuses every date. A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	Code      string
	Name      string
	Weekend   []time.Weekday // sorted
	FirstYear int
	LastYear  int

	entries map[Date]Entry
	weekend [7]bool
}

// Covers reports whether d falls within the years the calendar is complete
// for.
func (c *Calendar) Covers(d Date) bool {
	return c.FirstYear != 0 && d.Year >= c.FirstYear && d.Year <= c.LastYear
}

// IsWorkingDay reports whether d is a working day: not a weekend day unless
// declared a working day, and not a holiday. It fails for a date outside
// the calendar's years.
func (c *Calendar) IsWorkingDay(d Date) (bool, error) {
	if !c.Covers(d) {
		return false, c.notCovered(d)
	}
	if e, ok := c.entries[d]; ok {
		return e.Working, nil
	}
	return !c.weekend[d.Weekday()], nil
}

// Holiday returns the entry for d, if the calendar has a line for it.
func (c *Calendar) Holiday(d Date) (Entry, bool) {
	e, ok := c.entries[d]
	return e, ok && !e.Working
}

// Entries returns the calendar's dated lines in date order.
func (c *Calendar) Entries() []Entry {
	out := make([]Entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return a.Date.Compare(b.Date) })
	return out
}

func (c *Calendar) notCovered(d Date) error {
	return &gateway.Error{
		Code:    gateway.EINVALID,
		Message: fmt.Sprintf("holiday calendar %s covers %d-%d, not %s", c.Code, c.FirstYear, c.LastYear, d),
		Details: []gateway.Detail{{Field: "calendar", Code: "year_not_covered", Message: fmt.Sprintf("add the holidays of %d to calendar %s", d.Year, c.Code)}},
	}
}

// Parse reads a calendar in the text format described in the package
// comment. Errors are EINVALID *gateway.Error values naming the line.
func Parse(r io.Reader) (*Calendar, error) {
	c := &Calendar{entries: map[Date]Entry{}}
	sc := bufio.NewScanner(r)
	line := 0
	var (
		seenWeekend, seenYears bool
	)
	fail := func(field, format string, args ...any) error {
		return &gateway.Error{
			Code:    gateway.EINVALID,
			Message: "invalid holiday calendar",
			Details: []gateway.Detail{{Field: field, Line: line, Message: fmt.Sprintf(format, args...)}},
		}
	}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, rest, _ := strings.Cut(text, " ")
		rest = strings.TrimSpace(rest)
		switch key {
		case "calendar":
			if rest == "" || strings.ContainsAny(rest, " \t") {
				return nil, fail("calendar", "calendar code must be one word, got %q", rest)
			}
			c.Code = rest
		case "name":
			c.Name = rest
		case "weekend":
			c.weekend = [7]bool{}
			c.Weekend = nil
			for _, w := range strings.Fields(rest) {
				wd, ok := weekdays[strings.ToLower(w)]
				if !ok {
					return nil, fail("weekend", "unknown weekday %q (use sun, mon, tue, wed, thu, fri, sat)", w)
				}
				if !c.weekend[wd] {
					c.weekend[wd] = true
					c.Weekend = append(c.Weekend, wd)
				}
			}
			slices.Sort(c.Weekend)
			seenWeekend = true
		case "years":
			f := strings.Fields(rest)
			if len(f) != 2 {
				return nil, fail("years", "want the first and last year, got %q", rest)
			}
			first, err1 := strconv.Atoi(f[0])
			last, err2 := strconv.Atoi(f[1])
			if err1 != nil || err2 != nil || first < 1900 || last > 9999 || first > last {
				return nil, fail("years", "want two years, first not after last, got %q", rest)
			}
			c.FirstYear, c.LastYear = first, last
			seenYears = true
		default:
			d, err := ParseDate(key)
			if err != nil {
				return nil, fail("date", "want a directive (calendar, name, weekend, years) or a date YYYY-MM-DD, got %q", key)
			}
			kind, name, _ := strings.Cut(rest, " ")
			e := Entry{Date: d, Name: strings.TrimSpace(name)}
			switch kind {
			case "holiday":
			case "holiday?":
				e.Provisional = true
			case "workday":
				e.Working = true
			case "workday?":
				e.Working, e.Provisional = true, true
			default:
				return nil, fail("kind", "want holiday, holiday?, workday or workday? after the date, got %q", kind)
			}
			if e.Name == "" {
				return nil, fail("name", "%s has no name", d)
			}
			if _, dup := c.entries[d]; dup {
				return nil, fail("date", "%s is listed twice", d)
			}
			c.entries[d] = e
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read holiday calendar: %w", err)
	}
	line = 0
	switch {
	case c.Code == "":
		return nil, fail("calendar", "missing the calendar line")
	case !seenWeekend:
		return nil, fail("weekend", "missing the weekend line (an empty \"weekend\" line means every day is a working day)")
	case !seenYears:
		return nil, fail("years", "missing the years line")
	}
	for d, e := range c.entries {
		if !c.Covers(d) {
			return nil, fail("date", "%s is outside years %d-%d", d, c.FirstYear, c.LastYear)
		}
		if e.Working && !c.weekend[d.Weekday()] {
			return nil, fail("date", "workday %s is a %s, not a weekend day", d, d.Weekday())
		}
	}
	return c, nil
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Load parses the calendar file name in fsys.
func Load(fsys fs.FS, name string) (*Calendar, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open holiday calendar: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("holiday calendar %s: %w", name, err)
	}
	return c, nil
}

//go:embed holidays/*.txt
var builtin embed.FS

// Builtin returns the embedded example calendar for code: "CN", "IN", "KR",
// "MY" or "SG" (2026-2027; see each file's header for its sources and which
// dates are provisional). An unknown code is ENOTFOUND.
func Builtin(code string) (*Calendar, error) {
	if !slices.Contains(BuiltinCodes(), code) {
		return nil, gateway.Errorf(gateway.ENOTFOUND, "no built-in holiday calendar %q", code)
	}
	return Load(builtin, "holidays/"+code+".txt")
}

// BuiltinCodes lists the codes Builtin accepts, sorted.
func BuiltinCodes() []string {
	ents, _ := fs.ReadDir(builtin, "holidays")
	var codes []string
	for _, e := range ents {
		codes = append(codes, strings.TrimSuffix(e.Name(), ".txt"))
	}
	return codes
}
