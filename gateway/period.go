package gateway

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PeriodUnit is the length of a contribution period.
type PeriodUnit string

// Period units.
const (
	PeriodMonth   PeriodUnit = "month"
	PeriodQuarter PeriodUnit = "quarter"
	PeriodYear    PeriodUnit = "year"
)

// Valid reports whether u is a known unit.
func (u PeriodUnit) Valid() bool {
	return u == PeriodMonth || u == PeriodQuarter || u == PeriodYear
}

// Period is one contribution period, computed in a scheme's time zone:
// October 2026 in Asia/Kuala_Lumpur starts at 2026-10-01T00:00+08:00, which is
// 2026-09-30T16:00Z.
//
// Years and quarters follow the calendar unless the plan sets a fiscal year
// start: India's financial year from April gives keys "FY2026" (April 2026
// to March 2027) and "FY2026-Q1" (April to June 2026).
type Period struct {
	Unit  PeriodUnit
	Key   string    // "2026-10" (month), "2026-Q4" (quarter), "2026" (year), "FY2026", "FY2026-Q1"
	Start time.Time // first instant of the period, in the scheme's zone
	End   time.Time // first instant after the period (exclusive)

	yearStart time.Month
}

// PeriodOf returns the calendar period of unit that contains t, with
// boundaries at midnight in loc.
func PeriodOf(unit PeriodUnit, loc *time.Location, t time.Time) (Period, error) {
	return FiscalPeriodOf(unit, time.January, loc, t)
}

// FiscalPeriodOf is PeriodOf for years and quarters that start in month
// yearStart (time.April for India's financial year). Months are unaffected.
func FiscalPeriodOf(unit PeriodUnit, yearStart time.Month, loc *time.Location, t time.Time) (Period, error) {
	if !unit.Valid() {
		return Period{}, Invalid("period", "unknown_period", "period "+quote(string(unit))+" is not month, quarter or year")
	}
	if yearStart < time.January || yearStart > time.December {
		return Period{}, Invalid("year_start", "out_of_range", "a year starts in month 1 to 12")
	}
	if loc == nil {
		return Period{}, Errorf(EINTERNAL, "period: no time zone")
	}
	y, m, _ := t.In(loc).Date()
	return periodAt(unit, yearStart, loc, y, m), nil
}

// periodIndex returns the year a period belongs to (the fiscal year's first
// calendar year) and its index: month 1-12, quarter 1-4, 0 for a year.
func periodIndex(unit PeriodUnit, yearStart time.Month, y int, m time.Month) (fy, i int) {
	if unit == PeriodMonth {
		return y, int(m)
	}
	fy = y
	if m < yearStart {
		fy--
	}
	if unit == PeriodQuarter {
		off := (int(m) - int(yearStart) + 12) % 12
		return fy, off/3 + 1
	}
	return fy, 0
}

// periodAt returns the period of unit containing month m of year y.
func periodAt(unit PeriodUnit, yearStart time.Month, loc *time.Location, y int, m time.Month) Period {
	fy, i := periodIndex(unit, yearStart, y, m)
	var start, end time.Time
	switch unit {
	case PeriodMonth:
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	case PeriodQuarter:
		first := yearStart + time.Month(3*(i-1))
		start = time.Date(fy, first, 1, 0, 0, 0, 0, loc)
		end = time.Date(fy, first+3, 1, 0, 0, 0, 0, loc)
	default:
		start = time.Date(fy, yearStart, 1, 0, 0, 0, 0, loc)
		end = time.Date(fy+1, yearStart, 1, 0, 0, 0, 0, loc)
	}
	return Period{Unit: unit, Key: periodKey(unit, yearStart != time.January, fy, i), Start: start, End: end, yearStart: yearStart}
}

// periodKeyAt returns the key of the period of unit containing t in loc
// without computing its boundaries. It does not allocate for years 1900-2199.
func periodKeyAt(unit PeriodUnit, yearStart time.Month, loc *time.Location, t time.Time) string {
	y, m, _ := t.In(loc).Date()
	fy, i := periodIndex(unit, yearStart, y, m)
	return periodKey(unit, yearStart != time.January, fy, i)
}

// ParsePeriod returns the calendar period of unit named by key ("2026-10",
// "2026-Q4", "2026") in loc.
func ParsePeriod(unit PeriodUnit, key string, loc *time.Location) (Period, error) {
	return ParseFiscalPeriod(unit, time.January, key, loc)
}

// ParseFiscalPeriod is ParsePeriod for years starting in month yearStart;
// other than January, year and quarter keys carry an "FY" prefix.
func ParseFiscalPeriod(unit PeriodUnit, yearStart time.Month, key string, loc *time.Location) (Period, error) {
	bad := func() (Period, error) {
		return Period{}, Invalid("period", "malformed", "period key "+quote(key)+" does not name a "+string(unit))
	}
	if !unit.Valid() {
		return Period{}, Invalid("period", "unknown_period", "period "+quote(string(unit))+" is not month, quarter or year")
	}
	if yearStart < time.January || yearStart > time.December {
		return Period{}, Invalid("year_start", "out_of_range", "a year starts in month 1 to 12")
	}
	k := key
	if unit != PeriodMonth && yearStart != time.January {
		var ok bool
		if k, ok = strings.CutPrefix(k, "FY"); !ok {
			return bad()
		}
	}
	if len(k) < 4 || !allDigits(k[:4]) {
		return bad()
	}
	y, _ := strconv.Atoi(k[:4])
	rest := k[4:]
	m := yearStart
	switch unit {
	case PeriodMonth:
		if len(rest) != 3 || rest[0] != '-' || !allDigits(rest[1:]) {
			return bad()
		}
		n, _ := strconv.Atoi(rest[1:])
		if n < 1 || n > 12 {
			return bad()
		}
		m = time.Month(n)
	case PeriodQuarter:
		if len(rest) != 3 || rest[:2] != "-Q" || rest[2] < '1' || rest[2] > '4' {
			return bad()
		}
		m = yearStart + time.Month(int(rest[2]-'1')*3)
	default:
		if rest != "" {
			return bad()
		}
	}
	if m > time.December { // a fiscal quarter that falls in the next calendar year
		y, m = y+1, m-12
	}
	return periodAt(unit, yearStart, loc, y, m), nil
}

// Contains reports whether t falls in p.
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// Next returns the period that follows p.
func (p Period) Next() Period {
	ys := p.yearStart
	if ys == 0 {
		ys = time.January
	}
	y, m, _ := p.End.Date()
	return periodAt(p.Unit, ys, p.End.Location(), y, m)
}

// String returns the key.
func (p Period) String() string { return p.Key }

const (
	keyFirstYear = 1900
	keyLastYear  = 2199
)

// periodKeys holds every month, quarter and year key, calendar and fiscal,
// from 1900 to 2199 so the per-event path does not format strings.
var periodKeys = sync.OnceValue(func() *[5][][]string {
	var t [5][][]string // month; quarter, year; fiscal quarter, fiscal year
	for u := range t {
		t[u] = make([][]string, keyLastYear-keyFirstYear+1)
	}
	for y := keyFirstYear; y <= keyLastYear; y++ {
		i := y - keyFirstYear
		ys := strconv.Itoa(y)
		t[0][i] = make([]string, 12)
		for m := 1; m <= 12; m++ {
			t[0][i][m-1] = fmt.Sprintf("%s-%02d", ys, m)
		}
		t[1][i] = []string{ys + "-Q1", ys + "-Q2", ys + "-Q3", ys + "-Q4"}
		t[2][i] = []string{ys}
		t[3][i] = []string{"FY" + ys + "-Q1", "FY" + ys + "-Q2", "FY" + ys + "-Q3", "FY" + ys + "-Q4"}
		t[4][i] = []string{"FY" + ys}
	}
	return &t
})

// periodKey returns the key of period i (month 1-12, quarter 1-4, 0 for a
// year) of year y.
func periodKey(unit PeriodUnit, fiscal bool, y, i int) string {
	fiscal = fiscal && unit != PeriodMonth
	if y >= keyFirstYear && y <= keyLastYear {
		k := periodKeys()
		row := y - keyFirstYear
		switch {
		case unit == PeriodMonth:
			return k[0][row][i-1]
		case unit == PeriodQuarter && fiscal:
			return k[3][row][i-1]
		case unit == PeriodQuarter:
			return k[1][row][i-1]
		case fiscal:
			return k[4][row][0]
		default:
			return k[2][row][0]
		}
	}
	prefix := ""
	if fiscal {
		prefix = "FY"
	}
	switch unit {
	case PeriodMonth:
		return fmt.Sprintf("%04d-%02d", y, i)
	case PeriodQuarter:
		return fmt.Sprintf("%s%04d-Q%d", prefix, y, i)
	default:
		return fmt.Sprintf("%s%04d", prefix, y)
	}
}
