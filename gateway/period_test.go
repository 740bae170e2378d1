package gateway

import (
	"testing"
	"time"
)

func TestPeriodOf(t *testing.T) {
	zone := func(name string) *time.Location {
		l, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	kl, seoul, kolkata, santiago := zone("Asia/Kuala_Lumpur"), zone("Asia/Seoul"), zone("Asia/Kolkata"), zone("America/Santiago")
	tests := []struct {
		unit       PeriodUnit
		loc        *time.Location
		at         string
		key        string
		start, end string
	}{
		{PeriodMonth, kl, "2026-09-30T16:00:00Z", "2026-10", "2026-09-30T16:00:00Z", "2026-10-31T16:00:00Z"},
		{PeriodMonth, kl, "2026-09-30T15:59:59.999999999Z", "2026-09", "2026-08-31T16:00:00Z", "2026-09-30T16:00:00Z"},
		{PeriodMonth, seoul, "2026-12-31T15:00:00Z", "2027-01", "2026-12-31T15:00:00Z", "2027-01-31T15:00:00Z"},
		{PeriodQuarter, kolkata, "2026-03-31T18:30:00Z", "2026-Q2", "2026-03-31T18:30:00Z", "2026-06-30T18:30:00Z"},
		{PeriodQuarter, kolkata, "2026-12-31T18:29:59Z", "2026-Q4", "2026-09-30T18:30:00Z", "2026-12-31T18:30:00Z"},
		{PeriodYear, kolkata, "2026-12-31T18:30:00Z", "2027", "2026-12-31T18:30:00Z", "2027-12-31T18:30:00Z"},
		// Santiago changes offset during the year: -03 in January, -04 in July.
		{PeriodYear, santiago, "2026-07-01T12:00:00Z", "2026", "2026-01-01T03:00:00Z", "2027-01-01T03:00:00Z"},
		{PeriodMonth, santiago, "2026-07-01T03:59:59Z", "2026-06", "2026-06-01T04:00:00Z", "2026-07-01T04:00:00Z"},
		{PeriodMonth, time.UTC, "2250-02-10T00:00:00Z", "2250-02", "2250-02-01T00:00:00Z", "2250-03-01T00:00:00Z"},
		{PeriodQuarter, time.UTC, "1850-05-10T00:00:00Z", "1850-Q2", "1850-04-01T00:00:00Z", "1850-07-01T00:00:00Z"},
	}
	for _, tt := range tests {
		at, _ := time.Parse(time.RFC3339Nano, tt.at)
		p, err := PeriodOf(tt.unit, tt.loc, at)
		if err != nil {
			t.Fatal(err)
		}
		start, _ := time.Parse(time.RFC3339, tt.start)
		end, _ := time.Parse(time.RFC3339, tt.end)
		if p.Key != tt.key || !p.Start.Equal(start) || !p.End.Equal(end) || !p.Contains(at) || p.Contains(p.End) {
			t.Errorf("PeriodOf(%s, %s, %s) = %s %s..%s, want %s %s..%s", tt.unit, tt.loc, tt.at, p.Key, p.Start.UTC(), p.End.UTC(), tt.key, start, end)
		}
		back, err := ParsePeriod(tt.unit, p.Key, tt.loc)
		if err != nil || back.Key != p.Key || !back.Start.Equal(p.Start) || !back.End.Equal(p.End) {
			t.Errorf("ParsePeriod(%s) = %+v, %v", p.Key, back, err)
		}
		if next := p.Next(); !next.Start.Equal(p.End) || next.Unit != p.Unit {
			t.Errorf("%s.Next() = %+v", p.Key, next)
		}
		if periodKeyAt(tt.unit, time.January, tt.loc, at) != p.Key {
			t.Errorf("periodKeyAt disagrees for %s", p.Key)
		}
	}
	for _, tt := range []struct {
		unit PeriodUnit
		key  string
	}{{PeriodMonth, "2026-13"}, {PeriodMonth, "2026-1"}, {PeriodMonth, "2026"}, {PeriodQuarter, "2026-Q5"}, {PeriodQuarter, "2026-10"}, {PeriodYear, "2026-Q1"}, {PeriodYear, "26"}, {"week", "2026"}} {
		if _, err := ParsePeriod(tt.unit, tt.key, time.UTC); ErrorCode(err) != EINVALID {
			t.Errorf("ParsePeriod(%s, %q) accepted", tt.unit, tt.key)
		}
	}
	if _, err := PeriodOf("week", time.UTC, time.Now()); ErrorCode(err) != EINVALID {
		t.Error("week accepted")
	}
}

func TestFiscalPeriods(t *testing.T) {
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	tests := []struct {
		unit       PeriodUnit
		start      time.Month
		at         string
		key        string
		from, upto string
	}{
		{PeriodYear, time.April, "2026-03-31T18:30:00Z", "FY2026", "2026-03-31T18:30:00Z", "2027-03-31T18:30:00Z"},
		{PeriodYear, time.April, "2026-03-31T18:29:59Z", "FY2025", "2025-03-31T18:30:00Z", "2026-03-31T18:30:00Z"},
		{PeriodYear, time.April, "2027-01-15T00:00:00Z", "FY2026", "2026-03-31T18:30:00Z", "2027-03-31T18:30:00Z"},
		{PeriodQuarter, time.April, "2026-04-10T00:00:00Z", "FY2026-Q1", "2026-03-31T18:30:00Z", "2026-06-30T18:30:00Z"},
		{PeriodQuarter, time.April, "2027-02-10T00:00:00Z", "FY2026-Q4", "2026-12-31T18:30:00Z", "2027-03-31T18:30:00Z"},
		{PeriodQuarter, time.July, "2026-06-10T00:00:00Z", "FY2025-Q4", "2026-03-31T18:30:00Z", "2026-06-30T18:30:00Z"},
		{PeriodMonth, time.April, "2026-04-10T00:00:00Z", "2026-04", "2026-03-31T18:30:00Z", "2026-04-30T18:30:00Z"},
	}
	for _, tt := range tests {
		at, _ := time.Parse(time.RFC3339, tt.at)
		p, err := FiscalPeriodOf(tt.unit, tt.start, kolkata, at)
		from, _ := time.Parse(time.RFC3339, tt.from)
		upto, _ := time.Parse(time.RFC3339, tt.upto)
		if err != nil || p.Key != tt.key || !p.Start.Equal(from) || !p.End.Equal(upto) {
			t.Errorf("FiscalPeriodOf(%s, %s, %s) = %s %s..%s, %v; want %s %s..%s", tt.unit, tt.start, tt.at, p.Key, p.Start.UTC(), p.End.UTC(), err, tt.key, from, upto)
			continue
		}
		back, err := ParseFiscalPeriod(tt.unit, tt.start, p.Key, kolkata)
		if err != nil || back != p {
			t.Errorf("ParseFiscalPeriod(%s) = %+v, %v", p.Key, back, err)
		}
		if k := periodKeyAt(tt.unit, tt.start, kolkata, at); k != p.Key {
			t.Errorf("periodKeyAt = %s, want %s", k, p.Key)
		}
		if next := p.Next(); !next.Start.Equal(p.End) {
			t.Errorf("%s.Next() starts %s", p.Key, next.Start)
		}
	}
	for _, key := range []string{"2026", "FY2026-Q1", "FY26"} {
		if _, err := ParseFiscalPeriod(PeriodYear, time.April, key, kolkata); ErrorCode(err) != EINVALID {
			t.Errorf("ParseFiscalPeriod(year, %q) accepted", key)
		}
	}
	if _, err := FiscalPeriodOf(PeriodYear, 13, kolkata, time.Now()); ErrorCode(err) != EINVALID {
		t.Error("month 13 accepted")
	}
	if k := periodKey(PeriodYear, true, 2500, 0); k != "FY2500" {
		t.Errorf("key outside the table = %s", k)
	}
}

func TestPeriodKeyDoesNotAllocate(t *testing.T) {
	at := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	loc, _ := time.LoadLocation("Asia/Seoul")
	if n := testing.AllocsPerRun(100, func() { _ = periodKeyAt(PeriodQuarter, time.April, loc, at) }); n != 0 {
		t.Errorf("periodKeyAt allocates %v times", n)
	}
}
