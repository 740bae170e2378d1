package gateway

import (
	"fmt"
	"strconv"
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
type Period struct {
	Unit  PeriodUnit
	Key   string    // "2026-10" (month), "2026-Q4" (quarter), "2026" (year)
	Start time.Time // first instant of the period, in the scheme's zone
	End   time.Time // first instant after the period (exclusive)
}

// PeriodOf returns the period of unit that contains t, with boundaries at
// midnight in loc.
func PeriodOf(unit PeriodUnit, loc *time.Location, t time.Time) (Period, error) {
	if !unit.Valid() {
		return Period{}, Invalid("period", "unknown_period", "period "+quote(string(unit))+" is not month, quarter or year")
	}
	if loc == nil {
		return Period{}, Errorf(EINTERNAL, "period: no time zone")
	}
	y, m, _ := t.In(loc).Date()
	return periodAt(unit, loc, y, m), nil
}

// periodAt returns the period of unit containing month m of year y.
func periodAt(unit PeriodUnit, loc *time.Location, y int, m time.Month) Period {
	var start, end time.Time
	switch unit {
	case PeriodMonth:
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	case PeriodQuarter:
		q := (int(m)-1)/3*3 + 1
		start = time.Date(y, time.Month(q), 1, 0, 0, 0, 0, loc)
		end = time.Date(y, time.Month(q+3), 1, 0, 0, 0, 0, loc)
	default:
		start = time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		end = time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
	}
	return Period{Unit: unit, Key: periodKey(unit, y, m), Start: start, End: end}
}

// periodKeyAt returns the key of the period of unit containing t in loc
// without computing its boundaries. It does not allocate for years 1900-2199.
func periodKeyAt(unit PeriodUnit, loc *time.Location, t time.Time) string {
	y, m, _ := t.In(loc).Date()
	return periodKey(unit, y, m)
}

// ParsePeriod returns the period of unit named by key ("2026-10",
// "2026-Q4", "2026") in loc.
func ParsePeriod(unit PeriodUnit, key string, loc *time.Location) (Period, error) {
	bad := func() (Period, error) {
		return Period{}, Invalid("period", "malformed", "period key "+quote(key)+" does not name a "+string(unit))
	}
	if !unit.Valid() {
		return Period{}, Invalid("period", "unknown_period", "period "+quote(string(unit))+" is not month, quarter or year")
	}
	if len(key) < 4 || !allDigits(key[:4]) {
		return bad()
	}
	y, _ := strconv.Atoi(key[:4])
	rest := key[4:]
	var m time.Month
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
		m = time.Month(int(rest[2]-'0')*3 - 2)
	default:
		if rest != "" {
			return bad()
		}
		m = time.January
	}
	return periodAt(unit, loc, y, m), nil
}

// Contains reports whether t falls in p.
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// Next returns the period that follows p.
func (p Period) Next() Period {
	y, m, _ := p.End.Date()
	return periodAt(p.Unit, p.End.Location(), y, m)
}

// String returns the key.
func (p Period) String() string { return p.Key }

const (
	keyFirstYear = 1900
	keyLastYear  = 2199
)

// periodKeys holds every month, quarter and year key from 1900 to 2199 so
// the per-event path does not format strings.
var periodKeys = sync.OnceValue(func() *[3][][]string {
	var t [3][][]string
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
	}
	return &t
})

func periodKey(unit PeriodUnit, y int, m time.Month) string {
	if y >= keyFirstYear && y <= keyLastYear {
		k := periodKeys()
		i := y - keyFirstYear
		switch unit {
		case PeriodMonth:
			return k[0][i][m-1]
		case PeriodQuarter:
			return k[1][i][(m-1)/3]
		default:
			return k[2][i][0]
		}
	}
	switch unit {
	case PeriodMonth:
		return fmt.Sprintf("%04d-%02d", y, int(m))
	case PeriodQuarter:
		return fmt.Sprintf("%04d-Q%d", y, (int(m)-1)/3+1)
	default:
		return fmt.Sprintf("%04d", y)
	}
}
