package coverage

import (
	"slices"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

func catalog(t *testing.T) *gateway.Catalog {
	t.Helper()
	c, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func myr(minor int64) gateway.Money { return gateway.Money{Amount: minor, Currency: "MYR"} }
func krw(minor int64) gateway.Money { return gateway.Money{Amount: minor, Currency: "KRW"} }

func day(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestWithholding: Malaysia's Gig Workers Act and Korea's employment
// insurance cover the whole period, in the scheme's zone, in which a
// contribution was withheld, before payment.
func TestWithholding(t *testing.T) {
	c := catalog(t)
	gig := func(period string, total int64) Contribution {
		return Contribution{PlatformID: "grab", PlanID: "s83", Period: period, WorkerShare: myr(total), PlatformShare: myr(0)}
	}
	nov := gig("2026-11", 125)
	kr := func(period string, each int64) Contribution {
		return Contribution{PlatformID: "coupang", Period: period, WorkerShare: krw(each), PlatformShare: krw(each)}
	}
	tests := []struct {
		name     string
		scheme   string
		date     string
		cs       []Contribution
		covered  bool
		reason   string
		period   string
		from, to string
	}{
		{"first day of the month", "my-gig", "2026-11-01", []Contribution{nov}, true, ReasonWithheld, "2026-11", "2026-11-01", "2026-11-30"},
		{"last day of the month", "my-gig", "2026-11-30", []Contribution{nov}, true, ReasonWithheld, "2026-11", "2026-11-01", "2026-11-30"},
		{"the day before is October's", "my-gig", "2026-10-31", []Contribution{nov}, false, ReasonNothingWithheld, "2026-10", "", ""},
		{"the next month needs its own", "my-gig", "2026-12-01", []Contribution{nov}, false, ReasonNothingWithheld, "2026-12", "", ""},
		{"refunded in full", "my-gig", "2026-11-20", []Contribution{gig("2026-11", 0)}, false, ReasonNothingWithheld, "2026-11", "", ""},
		{"any platform's contribution", "my-gig", "2026-11-20", []Contribution{gig("2026-11", 0),
			{PlatformID: "foodpanda", Period: "2026-11", WorkerShare: myr(50), PlatformShare: myr(0)}},
			true, ReasonWithheld, "2026-11", "2026-11-01", "2026-11-30"},
		{"the scheme's first day in its zone", "my-gig", "2026-01-01", []Contribution{gig("2026-01", 10)}, true, ReasonWithheld, "2026-01", "2026-01-01", "2026-01-31"},
		{"before the scheme", "my-gig", "2025-12-31", nil, false, ReasonNotInForce, "", "", ""},
		{"Korea, February", "kr-ei", "2028-02-29", []Contribution{kr("2028-02", 8000)}, true, ReasonWithheld, "2028-02", "2028-02-01", "2028-02-29"},
		{"under Korea's threshold, refunded at close", "kr-ei", "2026-10-20", []Contribution{kr("2026-10", 0)}, false, ReasonNothingWithheld, "2026-10", "", ""},
		{"an entity levy decides nothing", "in-coss", "2026-06-01", nil, false, ReasonNotByContribution, "FY2026", "", ""},
		{"China, the platform's per-order fee", "cn-oip", "2026-12-31", []Contribution{{PlatformID: "meituan", Period: "2026-12",
			WorkerShare: gateway.Money{Currency: "CNY"}, PlatformShare: gateway.Money{Amount: 70, Currency: "CNY"}}},
			true, ReasonWithheld, "2026-12", "2026-12-01", "2026-12-31"},
		{"China, from the pilot's start", "cn-oip", "2022-06-30", nil, false, ReasonNotInForce, "", "", ""},
		{"Chile's year", "cl-honorarios", "2026-07-01", []Contribution{{PlatformID: "uber", Period: "2026",
			WorkerShare: gateway.Money{Amount: 15250, Currency: "CLP"}, PlatformShare: gateway.Money{Currency: "CLP"}}},
			true, ReasonWithheld, "2026", "2026-01-01", "2026-12-31"},
		{"Chile, another year", "cl-honorarios", "2027-01-01", []Contribution{{PlatformID: "uber", Period: "2026",
			WorkerShare: gateway.Money{Amount: 15250, Currency: "CLP"}, PlatformShare: gateway.Money{Currency: "CLP"}}},
			false, ReasonNothingWithheld, "2027", "", ""},
		// Midnight in Santiago is 03:00 UTC: read in UTC, 1 January 2025
		// would start in 2024, before the first version.
		{"Chile's first day, in Santiago", "cl-honorarios", "2025-01-01", nil, false, ReasonNothingWithheld, "2025", "", ""},
		{"Karnataka's fee decides nothing", "in-ka-welfare", "2026-03-31", nil, false, ReasonNotByContribution, "2026-Q1", "", ""},
		{"Karnataka, before the order", "in-ka-welfare", "2026-02-12", nil, false, ReasonNotInForce, "", "", ""},
		{"India's year starts in April", "in-coss", "2026-03-31", nil, false, ReasonNotByContribution, "FY2025", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := c.Scheme(tt.scheme)
			if err != nil {
				t.Fatal(err)
			}
			a := Decide(Input{Scheme: s, Date: day(tt.date), Contributions: tt.cs})
			if a.Covered != tt.covered || a.Reason != tt.reason || a.Period.Key != tt.period ||
				a.CoveredFrom.String() != tt.from || a.CoveredUntil.String() != tt.to {
				t.Errorf("answer = covered %v, %s, period %q, %s to %s (%s); want %v, %s, %q, %s to %s",
					a.Covered, a.Reason, a.Period.Key, a.CoveredFrom, a.CoveredUntil, a.Why, tt.covered, tt.reason, tt.period, tt.from, tt.to)
			}
			if a.Why == "" || a.Rule == "" || a.Basis != s.Coverage {
				t.Errorf("answer %+v has no reason in words, rule or basis", a)
			}
		})
	}
}

// TestPayment: Malaysia SESS covers only once a contribution is paid and
// recognised; a month's contribution covers one month from the day the
// payment completing its statement is recognised.
func TestPayment(t *testing.T) {
	c := catalog(t)
	sess, err := c.Scheme("my-sess")
	if err != nil {
		t.Fatal(err)
	}
	paid := func(period, recognised string) Contribution {
		return Contribution{PlatformID: "grab", PlanID: "2", Period: period, WorkerShare: myr(1940), PlatformShare: myr(0),
			Statements: []Statement{{ID: "RF18GRAB" + period[5:], Line: myr(1940), Outcome: "paid", Paid: true, RecognisedOn: day(recognised)}}}
	}
	oct := paid("2026-10", "2026-11-09")
	unpaid := oct
	unpaid.Statements = []Statement{{ID: "RF18GRAB10", Line: myr(1940), Outcome: "underpaid"}}
	unstated := oct
	unstated.Statements = nil
	short := oct
	short.WorkerShare, short.Shortfall = myr(1000), myr(940)
	jan := paid("2026-12", "2027-01-31")

	tests := []struct {
		name     string
		date     string
		cs       []Contribution
		covered  bool
		reason   string
		deciding string
		from, to string
	}{
		{"the day it is recognised", "2026-11-09", []Contribution{oct}, true, ReasonPaid, "2026-10", "2026-11-09", "2026-12-08"},
		{"the day before", "2026-11-08", []Contribution{oct}, false, ReasonPaidLater, "2026-10", "2026-11-09", "2026-12-08"},
		{"its last day, in the month after next", "2026-12-08", []Contribution{oct}, true, ReasonPaid, "2026-10", "2026-11-09", "2026-12-08"},
		{"the day after its cover", "2026-12-09", []Contribution{oct}, false, ReasonCoverEnded, "2026-10", "2026-11-09", "2026-12-08"},
		{"the next month's contribution takes over", "2026-12-20", []Contribution{oct, paid("2026-11", "2026-12-09")}, true, ReasonPaid, "2026-11", "2026-12-09", "2027-01-08"},
		{"withheld in its own month covers nothing there", "2026-10-20", []Contribution{oct}, false, ReasonNothingWithheld, "2026-09", "", ""},
		{"stated, not paid", "2026-11-20", []Contribution{unpaid}, false, ReasonNotPaid, "2026-10", "", ""},
		{"withheld, not stated", "2026-11-02", []Contribution{unstated}, false, ReasonNotStated, "2026-10", "", ""},
		{"short of the plan", "2026-11-20", []Contribution{short}, false, ReasonShortfall, "2026-10", "", ""},
		{"recognised on the 31st covers to the end of February", "2027-02-28", []Contribution{jan}, true, ReasonPaid, "2026-12", "2027-01-31", "2027-02-28"},
		{"and not into March", "2027-03-01", []Contribution{jan}, false, ReasonCoverEnded, "2026-12", "2027-01-31", "2027-02-28"},
		{"nothing at all", "2026-11-20", nil, false, ReasonNothingWithheld, "2026-10", "", ""},
		{"paid three months late covers from then", "2027-02-10", []Contribution{paid("2026-10", "2027-01-20")}, true, ReasonPaid, "2026-10", "2027-01-20", "2027-02-19"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Decide(Input{Scheme: sess, Date: day(tt.date), Contributions: tt.cs})
			if a.Covered != tt.covered || a.Reason != tt.reason || a.Deciding != tt.deciding ||
				a.CoveredFrom.String() != tt.from || a.CoveredUntil.String() != tt.to {
				t.Errorf("answer = covered %v, %s, deciding %q, %s to %s (%s); want %v, %s, %q, %s to %s",
					a.Covered, a.Reason, a.Deciding, a.CoveredFrom, a.CoveredUntil, a.Why, tt.covered, tt.reason, tt.deciding, tt.from, tt.to)
			}
		})
	}
	p, keys, err := Periods(sess, "2", day("2026-12-01"))
	if err != nil || p.Key != "2026-12" || len(keys) != Lookback || keys[0] != "2026-11" || keys[1] != "2026-10" || keys[11] != "2025-12" {
		t.Errorf("periods = %s %v %v", p.Key, keys, err)
	}
	gig, _ := c.Scheme("my-gig")
	if p, keys, err := Periods(gig, "", day("2026-12-01")); err != nil || p.Key != "2026-12" || !slices.Equal(keys, []string{"2026-12"}) {
		t.Errorf("periods on withholding = %s %v %v", p.Key, keys, err)
	}
}

// TestRegistrationsOn: the registration in force on a date, per platform.
func TestRegistrationsOn(t *testing.T) {
	steps := []Step{
		{PlatformID: "grab", WorkerRef: "g-1", Change: "start", PlanID: "1", Effective: day("2026-01-01")},
		{PlatformID: "foodpanda", WorkerRef: "f-9", Change: "start", Effective: day("2026-03-01")},
		{PlatformID: "grab", WorkerRef: "g-1", Change: "change", PlanID: "3", Effective: day("2026-06-01")},
		{PlatformID: "grab", WorkerRef: "g-1", Change: "end", Effective: day("2026-09-30")},
	}
	tests := []struct {
		date string
		want []Registration
	}{
		{"2026-02-01", []Registration{{PlatformID: "foodpanda", WorkerRef: "f-9"},
			{PlatformID: "grab", WorkerRef: "g-1", Active: true, PlanID: "1", Since: day("2026-01-01")}}},
		{"2026-09-29", []Registration{{PlatformID: "foodpanda", WorkerRef: "f-9", Active: true, Since: day("2026-03-01")},
			{PlatformID: "grab", WorkerRef: "g-1", Active: true, PlanID: "3", Since: day("2026-01-01")}}},
		{"2026-09-30", []Registration{{PlatformID: "foodpanda", WorkerRef: "f-9", Active: true, Since: day("2026-03-01")},
			{PlatformID: "grab", WorkerRef: "g-1", PlanID: "3", Since: day("2026-01-01"), Ended: day("2026-09-30")}}},
	}
	for _, tt := range tests {
		if got := RegistrationsOn(steps, day(tt.date)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.date, got, tt.want)
		}
	}
}

func TestRatio(t *testing.T) {
	for _, tt := range []struct {
		r    Ratio
		want string
	}{
		{Ratio{2, 3}, "0.6667"}, {Ratio{1, 3}, "0.3333"}, {Ratio{3, 3}, "1.0000"}, {Ratio{0, 7}, "0.0000"},
		{Ratio{1, 8}, "0.1250"}, {Ratio{1, 20000}, "0.0001"}, {Ratio{1, 20001}, "0.0000"}, {Ratio{1, 0}, ""},
	} {
		if got := tt.r.Decimal(4); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// TestStatisticsPeriods: a month's period counts in its own month, a
// year's in the month it ends (India's financial year: March).
func TestStatisticsPeriods(t *testing.T) {
	c := catalog(t)
	sess, _ := c.Scheme("my-sess")
	ps := StatisticsPeriods(sess, day("2026-11-01"), day("2027-01-01"))
	if len(ps) != 3 || ps[0].Period != "2026-11" || ps[2].Month != "2027-01" || ps[0].LastDay.String() != "2026-11-30" ||
		ps[1].Candidates[0] != "2026-11" || len(ps[1].Candidates) != Lookback || ps[0].CoverMonths != 1 {
		t.Errorf("SESS periods = %+v", ps)
	}
	coss, _ := c.Scheme("in-coss")
	ps = StatisticsPeriods(coss, day("2026-01-01"), day("2026-12-01"))
	if len(ps) != 1 || ps[0].Month != "2026-03" || ps[0].Period != "FY2025" || ps[0].FirstDay.String() != "2025-04-01" || ps[0].Candidates != nil {
		t.Errorf("CoSS periods = %+v", ps)
	}
	if _, err := ParseMonth("from", "2026-13"); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("bad month: %v", err)
	}
}
