package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

func mustBuiltin(t *testing.T, code string) *Calendar {
	t.Helper()
	c, err := Builtin(code)
	if err != nil {
		t.Fatalf("Builtin(%q): %v", code, err)
	}
	return c
}

func TestBuiltin(t *testing.T) {
	codes := BuiltinCodes()
	if got := strings.Join(codes, ","); got != "CN,IN,KR,MY,SG" {
		t.Fatalf("BuiltinCodes = %s", got)
	}
	for _, code := range codes {
		c := mustBuiltin(t, code)
		if c.Code != code || c.FirstYear != 2026 || c.LastYear != 2027 || c.Name == "" {
			t.Errorf("%s: header %q %q %d-%d", code, c.Code, c.Name, c.FirstYear, c.LastYear)
		}
		if len(c.Entries()) < 10 {
			t.Errorf("%s: only %d entries", code, len(c.Entries()))
		}
		for y := 2026; y <= 2027; y++ {
			n := 0
			for _, e := range c.Entries() {
				if e.Date.Year == y && !e.Working {
					n++
				}
			}
			if n < 9 {
				t.Errorf("%s: %d holidays in %d, want at least 9", code, n, y)
			}
		}
	}
	if _, err := Builtin("XX"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("Builtin(XX) = %v, want not_found", err)
	}
}

func TestIsWorkingDay(t *testing.T) {
	tests := []struct {
		cal  string
		date string
		want bool
	}{
		{"CN", "2026-02-14", true},  // Saturday, adjusted working day
		{"CN", "2026-02-15", false}, // Spring Festival
		{"CN", "2026-02-24", true},
		{"CN", "2026-02-21", false}, // Saturday inside the holiday
		{"CN", "2026-10-10", true},  // Saturday, adjusted working day
		{"CN", "2026-10-11", false}, // plain Sunday
		{"KR", "2026-03-02", false}, // substitute holiday
		{"KR", "2026-06-03", false}, // local elections
		{"KR", "2026-03-03", true},
		{"SG", "2026-08-10", false}, // National Day observed
		{"SG", "2026-03-21", false}, // Saturday and Hari Raya Puasa
		{"MY", "2026-06-02", false}, // Wesak replacement after the Agong's birthday
		{"IN", "2026-11-24", false},
		{"IN", "2026-11-23", true},
	}
	for _, tt := range tests {
		d, _ := ParseDate(tt.date)
		got, err := mustBuiltin(t, tt.cal).IsWorkingDay(d)
		if err != nil || got != tt.want {
			t.Errorf("%s IsWorkingDay(%s) = %v, %v; want %v", tt.cal, tt.date, got, err, tt.want)
		}
	}
	_, err := mustBuiltin(t, "KR").IsWorkingDay(D(2028, 1, 3))
	assertCode(t, err, "year_not_covered")
	e, _ := mustBuiltin(t, "KR").Holiday(D(2027, 2, 9))
	if !e.Provisional || !strings.Contains(e.Name, "Seollal") {
		t.Errorf("KR 2027-02-09 = %+v, want provisional Seollal substitute", e)
	}
}

func TestDueDate(t *testing.T) {
	tests := []struct {
		cal       string
		periodEnd string
		rule      string
		want      string
	}{
		// 15th/10th/14th of the next month, the common monthly rules.
		{"KR", "2026-10-31", "10th of next month", "2026-11-10"},             // a Tuesday
		{"SG", "2026-07-31", "10th of next month", "2026-08-11"},             // National Day observed on the 10th
		{"SG", "2026-10-31", "14th of next month", "2026-11-16"},             // Saturday → Monday
		{"MY", "2026-01-31", "15th of next month", "2026-02-16"},             // Sunday → Monday, before Chinese New Year
		{"MY", "2026-02-28", "15th of next month", "2026-03-16"},             // Sunday → Monday
		{"MY", "2026-05-31", "15th of next month", "2026-06-15"},             // working day as is
		{"CN", "2026-01-31", "15th of next month", "2026-02-24"},             // nine-day Spring Festival
		{"IN", "2026-07-31", "15th of next month", "2026-08-17"},             // Independence Day on a Saturday
		{"IN", "2026-10-31", "15 of next month", "2026-11-16"},               // Sunday → Monday
		{"KR", "2026-07-31", "15th of next month, unadjusted", "2026-08-15"}, // no roll
		{"KR", "2026-07-31", "15th of next month, preceding", "2026-08-14"},
		// Last day of a month.
		{"CN", "2026-02-28", "last day of the month", "2026-02-28"}, // Saturday, adjusted working day
		{"KR", "2026-08-31", "last day of next month", "2026-09-30"},
		{"KR", "2027-01-31", "last day of next month", "2027-03-02"}, // Sun 28 Feb, Mon 1 Mar holiday
		{"KR", "2027-01-31", "last day of next month, preceding", "2027-02-26"},
		{"KR", "2026-01-31", "31st of next month", "2026-03-03"},    // clamps to 28 Feb (Sat), substitute holiday 2 Mar
		{"SG", "2026-05-31", "last day of the month", "2026-06-02"}, // Vesak on Sunday 31st, observed Monday → Tuesday
		// Quarters and years.
		{"CN", "2026-09-30", "5 working days after the quarter", "2026-10-13"}, // Golden Week, Saturday 10 Oct works
		{"CN", "2026-08-31", "5 working days after the quarter end", "2026-10-13"},
		{"KR", "2026-11-30", "15th of the month after the quarter", "2027-01-15"},
		{"SG", "2026-12-31", "last day of the 3rd month after the year", "2027-03-31"},
		{"MY", "2026-03-31", "last day of the last month of the quarter", "2026-03-31"},
		{"KR", "2026-03-31", "30 days after the period", "2026-04-30"},
		{"KR", "2026-04-30", "5 business days after the period", "2026-05-11"}, // 1 and 5 May are holidays
		{"KR", "2026-09-23", "0 working days after the period", "2026-09-23"},
		{"KR", "2026-09-24", "0 working days after the period", "2026-09-28"}, // Chuseok, then the weekend
	}
	for _, tt := range tests {
		rule, err := ParseRule(tt.rule)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tt.rule, err)
			continue
		}
		end, _ := ParseDate(tt.periodEnd)
		got, err := DueDate(end, rule, mustBuiltin(t, tt.cal))
		if err != nil {
			t.Errorf("%s DueDate(%s, %q): %v", tt.cal, tt.periodEnd, tt.rule, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("%s DueDate(%s, %q) = %s (%s), want %s", tt.cal, tt.periodEnd, tt.rule, got, got.Weekday(), tt.want)
		}
	}
}

func TestDueDateOutsideCalendar(t *testing.T) {
	kr := mustBuiltin(t, "KR")
	for _, rule := range []string{"15th of next month", "15th of next month, unadjusted", "5 working days after the period"} {
		r, _ := ParseRule(rule)
		_, err := DueDate(D(2027, 12, 31), r, kr)
		assertCode(t, err, "year_not_covered")
	}
	// Rolling forward from the year's last day into an uncovered year.
	r, _ := ParseRule("last day of the month")
	c, err := Parse(strings.NewReader("calendar T\nweekend sat sun\nyears 2026 2026\n2026-12-31 holiday Year end\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = DueDate(D(2026, 12, 1), r, c)
	assertCode(t, err, "year_not_covered")
	// A calendar with no working days never loops forever.
	c, _ = Parse(strings.NewReader("calendar T\nweekend sun mon tue wed thu fri sat\nyears 2026 2026\n"))
	_, err = DueDate(D(2026, 1, 31), r, c)
	assertCode(t, err, "year_not_covered")
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		in   string
		want Rule
		text string
	}{
		{"15th of next month", Rule{Kind: DayOfMonth, Anchor: AnchorMonth, Months: 1, Day: 15}, "15th of next month"},
		{"  15TH OF THE NEXT MONTH ", Rule{Kind: DayOfMonth, Anchor: AnchorMonth, Months: 1, Day: 15}, "15th of next month"},
		{"1st of the following month", Rule{Kind: DayOfMonth, Anchor: AnchorMonth, Months: 1, Day: 1}, "1st of next month"},
		{"last day of the month", Rule{Kind: DayOfMonth, Anchor: AnchorMonth, Day: LastDay}, "last day of the month"},
		{"last of this month", Rule{Kind: DayOfMonth, Anchor: AnchorMonth, Day: LastDay}, "last day of the month"},
		{"22nd of the month after the quarter", Rule{Kind: DayOfMonth, Anchor: AnchorQuarter, Months: 1, Day: 22}, "22nd of the month after the quarter"},
		{"10th of the 2nd month after the period", Rule{Kind: DayOfMonth, Anchor: AnchorPeriod, Months: 2, Day: 10}, "10th of the 2nd month after the period"},
		{"last day of the last month of the quarter", Rule{Kind: DayOfMonth, Anchor: AnchorQuarter, Day: LastDay}, "last day of the last month of the quarter"},
		{"5 working days after the quarter", Rule{Kind: WorkingDaysAfter, Anchor: AnchorQuarter, Days: 5}, "5 working days after the quarter"},
		{"5 business days after quarter end", Rule{Kind: WorkingDaysAfter, Anchor: AnchorQuarter, Days: 5}, "5 working days after the quarter"},
		{"30 days after the period, preceding", Rule{Kind: DaysAfter, Anchor: AnchorPeriod, Days: 30, Roll: Preceding}, "30 days after the period, preceding"},
		{"11th of next month, unadjusted", Rule{Kind: DayOfMonth, Anchor: AnchorMonth, Months: 1, Day: 11, Roll: Unadjusted}, "11th of next month, unadjusted"},
		{"12th of next month, following", Rule{Kind: DayOfMonth, Anchor: AnchorMonth, Months: 1, Day: 12}, "12th of next month"},
		{"13th of next month", Rule{Kind: DayOfMonth, Anchor: AnchorMonth, Months: 1, Day: 13}, "13th of next month"},
	}
	for _, tt := range tests {
		got, err := ParseRule(tt.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseRule(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.text {
			t.Errorf("ParseRule(%q).String() = %q, want %q", tt.in, got.String(), tt.text)
		}
		if again, err := ParseRule(got.String()); err != nil || again != got {
			t.Errorf("ParseRule(%q) round trip = %+v, %v", got.String(), again, err)
		}
	}
	for _, in := range []string{
		"", "soon", "15th", "15th of", "32nd of next month", "0th of next month", "15st of next month",
		"15th of the month after the week", "5 working days before the quarter", "5 days after", "-1 days after the period",
		"400 days after the period", "15th of next month, sometimes", "15th of the 13th month after the year",
	} {
		_, err := ParseRule(in)
		var e *gateway.Error
		if !errors.As(err, &e) || e.Code != gateway.EINVALID || e.Details[0].Field != "due_rule" {
			t.Errorf("ParseRule(%q) = %v, want invalid due_rule", in, err)
		}
	}
}

func TestParseCalendarErrors(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		line  int
		field string
		msg   string
	}{
		{"no calendar line", "weekend sat sun\nyears 2026 2026\n", 0, "calendar", "missing the calendar line"},
		{"no weekend line", "calendar X\nyears 2026 2026\n", 0, "weekend", "missing the weekend line"},
		{"no years line", "calendar X\nweekend sat sun\n", 0, "years", "missing the years line"},
		{"bad weekday", "calendar X\nweekend sat sunday\n", 2, "weekend", `unknown weekday "sunday"`},
		{"bad years", "calendar X\nweekend sat sun\nyears 2027 2026\n", 3, "years", "first not after last"},
		{"bad date", "calendar X\nweekend sat sun\nyears 2026 2026\n2026-02-30 holiday Nope\n", 4, "date", "or a date YYYY-MM-DD"},
		{"bad kind", "calendar X\nweekend sat sun\nyears 2026 2026\n2026-02-03 feast Nope\n", 4, "kind", `got "feast"`},
		{"no name", "calendar X\nweekend sat sun\nyears 2026 2026\n2026-02-03 holiday\n", 4, "name", "has no name"},
		{"duplicate", "calendar X\nweekend sat sun\nyears 2026 2026\n# c\n2026-02-03 holiday A\n2026-02-03 holiday B\n", 6, "date", "listed twice"},
		{"outside years", "calendar X\nweekend sat sun\nyears 2026 2026\n2027-01-01 holiday A\n", 0, "date", "outside years 2026-2026"},
		{"workday on a weekday", "calendar X\nweekend sat sun\nyears 2026 2026\n2026-02-03 workday A\n", 0, "date", "is a Tuesday, not a weekend day"},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.text))
		var e *gateway.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v, want *gateway.Error", tt.name, err)
			continue
		}
		d := e.Details[0]
		if e.Code != gateway.EINVALID || d.Line != tt.line || d.Field != tt.field || !strings.Contains(d.Message, tt.msg) {
			t.Errorf("%s: got %s line %d field %s %q; want line %d field %s containing %q", tt.name, e.Code, d.Line, d.Field, d.Message, tt.line, tt.field, tt.msg)
		}
	}
}

func TestDate(t *testing.T) {
	d := D(2026, 2, 30)
	if d.String() != "2026-03-02" || d.Weekday() != time.Monday {
		t.Errorf("D(2026,2,30) = %s %s", d, d.Weekday())
	}
	if !D(2026, 1, 1).Before(D(2026, 1, 2)) || D(2026, 1, 2).Compare(D(2026, 1, 2)) != 0 {
		t.Error("Compare")
	}
	kl, _ := time.LoadLocation("Asia/Kuala_Lumpur")
	if got := D(2026, 3, 16).Start(kl).UTC().Format(time.RFC3339); got != "2026-03-15T16:00:00Z" {
		t.Errorf("Start = %s", got)
	}
	if got := DateOf(time.Date(2026, 3, 15, 23, 30, 0, 0, kl)); got != D(2026, 3, 15) {
		t.Errorf("DateOf = %s", got)
	}
}

func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *gateway.Error
	if !errors.As(err, &e) || len(e.Details) == 0 || e.Details[0].Code != code {
		t.Errorf("error %v, want detail code %q", err, code)
	}
}
