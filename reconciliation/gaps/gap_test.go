package gaps_test

import (
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/gaps"
)

var now = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestTransition(t *testing.T) {
	tests := []struct {
		from, to gaps.Status
		reason   string
		field    string // "" when allowed
	}{
		{gaps.Open, gaps.Acknowledged, "", ""},
		{gaps.Open, gaps.NoticeSent, "", ""},
		{gaps.Open, gaps.Resolved, "", ""},
		{gaps.Open, gaps.Waived, "below the threshold", ""},
		{gaps.Open, gaps.Waived, "  ", "reason"},
		{gaps.Open, gaps.Open, "", ""},
		{gaps.Acknowledged, gaps.Open, "", "status"},
		{gaps.Acknowledged, gaps.NoticeSent, "", ""},
		{gaps.NoticeSent, gaps.Acknowledged, "", ""},
		{gaps.NoticeSent, gaps.Open, "", "status"},
		{gaps.Resolved, gaps.Open, "", ""},
		{gaps.Resolved, gaps.Acknowledged, "", "status"},
		{gaps.Waived, gaps.Open, "", ""},
		{gaps.Waived, gaps.Resolved, "", "status"},
		{gaps.Open, "closed", "", "status"},
	}
	for _, tt := range tests {
		err := gaps.Transition(tt.from, tt.to, tt.reason)
		var ge *gateway.Error
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s → %s: %v, want allowed", tt.from, tt.to, err)
		case tt.field != "" && (err == nil || !asError(err, &ge) || ge.Code != gateway.EINVALID || ge.Details[0].Field != tt.field):
			t.Errorf("%s → %s: %v, want invalid naming %s", tt.from, tt.to, err, tt.field)
		}
	}
}

func asError(err error, ge **gateway.Error) bool {
	e, ok := err.(*gateway.Error)
	*ge = e
	return ok
}

func TestSeverity(t *testing.T) {
	c := gaps.Config{}.WithDefaults()
	tests := []struct {
		kind   gaps.Kind
		cur    gateway.Currency
		amount int64
		since  time.Time
		want   gaps.Severity
	}{
		{gaps.AdviceMismatch, "MYR", 500, now, gaps.Low},
		{gaps.Late, "MYR", 100_000, now, gaps.Medium},                 // 1,000.00 MYR
		{gaps.Underpaid, "MYR", 1_000_000, now, gaps.High},            // 10,000.00 MYR: 1 + 2
		{gaps.Missing, "MYR", 500, now.AddDate(0, 0, -31), gaps.High}, // 2 + 0 + 1
		{gaps.Missing, "MYR", 1_000_000, now.AddDate(0, 0, -91), gaps.Critical},
		{gaps.WithheldNotRemitted, "KRW", 999_999, now, gaps.Medium}, // KRW weighs from 1,000,000
		{gaps.WithheldNotRemitted, "KRW", 1_000_000, now, gaps.High},
		{gaps.UnmatchedReceipt, "EUR", 100, now.AddDate(0, 0, -100), gaps.Medium},
	}
	for _, tt := range tests {
		f := gaps.Finding{Key: gaps.Key{Kind: tt.kind}, Currency: tt.cur, Amount: tt.amount, Since: tt.since}
		if got := c.Severity(&f, now); got != tt.want {
			t.Errorf("%s %d %s since %s: %s, want %s", tt.kind, tt.amount, tt.cur, tt.since.Format(time.DateOnly), got, tt.want)
		}
	}
}

func TestFromOutcome(t *testing.T) {
	base := gaps.Outcome{PlatformID: "p1", SchemeID: "my-gig", Period: "2026-10", Currency: "MYR", Due: 10000,
		DueDate: day(2026, 11, 16), Statements: []string{"RF18MYGW0000012026100000"}, RunID: 4}
	tests := []struct {
		name string
		edit func(*gaps.Outcome)
		want map[gaps.Kind][2]int64 // amount, interest
	}{
		{"paid", func(o *gaps.Outcome) { o.Status, o.Paid = "paid", 10000 }, map[gaps.Kind][2]int64{}},
		{"open, not due", func(o *gaps.Outcome) { o.Status, o.Shortfall = "open", 10000 }, map[gaps.Kind][2]int64{}},
		{"missing", func(o *gaps.Outcome) { o.Status, o.Shortfall, o.Accrued = "missing", 10000, 25 },
			map[gaps.Kind][2]int64{gaps.Missing: {10000, 25}}},
		{"underpaid", func(o *gaps.Outcome) { o.Status, o.Paid, o.Shortfall, o.Accrued = "underpaid", 6000, 4000, 10 },
			map[gaps.Kind][2]int64{gaps.Underpaid: {4000, 10}}},
		{"paid late", func(o *gaps.Outcome) { o.Status, o.Paid, o.Late, o.Interest = "paid", 10000, true, 33 },
			map[gaps.Kind][2]int64{gaps.Late: {0, 33}}},
		{"underpaid, partly late, advice off", func(o *gaps.Outcome) {
			o.Status, o.Paid, o.Shortfall, o.Late, o.Interest, o.Mismatches, o.MismatchAmount = "underpaid", 6000, 4000, true, 7, 2, 150
		}, map[gaps.Kind][2]int64{gaps.Underpaid: {4000, 0}, gaps.Late: {0, 7}, gaps.AdviceMismatch: {150, 0}}},
	}
	for _, tt := range tests {
		o := base
		tt.edit(&o)
		fs := gaps.FromOutcome(&o)
		if len(fs) != len(tt.want) {
			t.Errorf("%s: %d findings %+v, want %v", tt.name, len(fs), fs, tt.want)
			continue
		}
		for _, f := range fs {
			w, ok := tt.want[f.Kind]
			if !ok || f.Amount != w[0] || f.Interest != w[1] || f.PlatformID != "p1" || f.Period != "2026-10" || f.Subject != "" ||
				!f.Since.Equal(o.DueDate) || f.Evidence.RunID != 4 || f.Evidence.Statements[0] != "RF18MYGW0000012026100000" {
				t.Errorf("%s: %+v, want %s %v", tt.name, f, f.Kind, w)
			}
		}
	}
}

func TestFromSuspenseUnregisteredWithheld(t *testing.T) {
	f := gaps.FromSuspense(&gaps.Suspense{ReceiptID: "17", Currency: "MYR", Amount: 1234, Reason: "unidentified", Date: day(2026, 11, 12), RunID: 2})
	if f.Key != (gaps.Key{Kind: gaps.UnmatchedReceipt, Subject: "17"}) || f.Amount != 1234 || f.Evidence.Receipts[0] != "17" {
		t.Errorf("suspense: %+v", f)
	}
	u := gaps.Unregistered{PlatformID: "p1", SchemeID: "my-gig", Period: "2026-10", Worker: "ref:p1:drv-9", Currency: "MYR",
		Amount: 500, Entries: 3, First: day(2026, 10, 2), Events: []string{"e1", "e2", "e3"}}
	f, ok := gaps.FromUnregistered(&u)
	if !ok || f.Subject != "ref:p1:drv-9" || f.Amount != 500 || !strings.Contains(f.Evidence.Detail, "drv-9") || len(f.Evidence.Events) != 3 {
		t.Errorf("unregistered: %+v %v", f, ok)
	}
	u.Registered = true
	if _, ok := gaps.FromUnregistered(&u); ok {
		t.Error("a registered worker is a gap")
	}
	if gaps.WorkerRef("p1", "ref:p1:drv-9") != "drv-9" || gaps.WorkerRef("p1", "abc") != "abc" {
		t.Error("WorkerRef")
	}
	w := gaps.Withheld{PlatformID: "p1", SchemeID: "my-gig", Period: "2026-10", WorkerKey: "wk", Currency: "MYR", Amount: 80, DueDate: day(2026, 11, 16)}
	if f, ok := gaps.FromWithheld(&w); !ok || f.Subject != "wk" || f.Kind != gaps.WithheldNotRemitted || f.Amount != 80 {
		t.Errorf("withheld: %+v %v", f, ok)
	}
	w.Amount = 0
	if _, ok := gaps.FromWithheld(&w); ok {
		t.Error("nothing withheld is a gap")
	}
}

func TestFromActivity(t *testing.T) {
	c := gaps.Config{}.WithDefaults() // 7 quiet days, 28 trailing, 50%
	tests := []struct {
		name   string
		a      gaps.Activity
		silent bool
		amount int64
	}{
		{"never earned", gaps.Activity{}, false, 0},
		{"steady", gaps.Activity{Earned: true, Recent: 70, Trailing: 280, RecentAmount: 700, TrailingAmount: 2800}, false, 0},
		{"quiet", gaps.Activity{Earned: true, Recent: 0, Trailing: 280, TrailingAmount: 2800}, true, 700},
		{"quiet for long", gaps.Activity{Earned: true, LastPeriod: "2026-08"}, true, 0},
		{"half", gaps.Activity{Earned: true, Recent: 35, Trailing: 280, RecentAmount: 350, TrailingAmount: 2800}, false, 0},
		{"below half", gaps.Activity{Earned: true, Recent: 34, Trailing: 280, RecentAmount: 340, TrailingAmount: 2800}, true, 360},
		{"new, busy", gaps.Activity{Earned: true, Recent: 10}, false, 0},
	}
	for _, tt := range tests {
		tt.a.PlatformID, tt.a.Currency = "p1", "MYR"
		f, ok := c.FromActivity(&tt.a, now)
		if ok != tt.silent || ok && (f.Amount != tt.amount || f.Kind != gaps.SilentPlatform || f.Evidence.Detail == "") {
			t.Errorf("%s: %+v %v, want silent %v amount %d", tt.name, f, ok, tt.silent, tt.amount)
		}
	}
	if tr, re := c.Windows(now); !re.Equal(day(2026, 11, 24)) || !tr.Equal(day(2026, 10, 27)) {
		t.Errorf("windows %s %s", tr, re)
	}
	c.SilentDays, c.DropPercent = 3, 90
	a := gaps.Activity{PlatformID: "p1", Currency: "MYR", Earned: true, Recent: 4, Trailing: 280}
	if _, ok := c.FromActivity(&a, now); ok {
		t.Error("a drop under the configured 90% is flagged")
	}
}

func TestPlan(t *testing.T) {
	c := gaps.Config{}
	missing := gaps.Finding{Key: gaps.Key{Kind: gaps.Missing, PlatformID: "p1", SchemeID: "my-gig", Period: "2026-10"}, Currency: "MYR",
		Amount: 10000, Since: day(2026, 11, 16), Evidence: gaps.Evidence{RunID: 1, Detail: "nothing paid"}}
	late := missing
	late.Kind, late.Amount, late.Interest = gaps.Late, 0, 30

	// First detection opens the gap.
	chs := c.Plan(nil, []gaps.Finding{missing}, now)
	if len(chs) != 1 || chs[0].Action != gaps.Detected || chs[0].Status != gaps.Open || chs[0].ID != 0 {
		t.Fatalf("first: %+v", chs)
	}
	stored := []gaps.State{{ID: 1, Key: missing.Key, Status: gaps.Acknowledged, Digest: chs[0].Digest, Amount: 10000, Severity: chs[0].Severity}}
	// The same again: nothing.
	if chs := c.Plan(stored, []gaps.Finding{missing, missing}, now); len(chs) != 0 {
		t.Fatalf("again: %+v", chs)
	}
	// Only the run changed: nothing to write.
	again := missing
	again.Evidence.RunID = 2
	if chs := c.Plan(stored, []gaps.Finding{again}, now); len(chs) != 0 {
		t.Fatalf("a new run: %+v", chs)
	}
	// Only the evidence changed: a refresh without history.
	again.Evidence.Statements = []string{"RF18MYGW0000012026100000", "RF61MYGW0000012026100001"}
	if chs := c.Plan(stored, []gaps.Finding{again}, now); len(chs) != 1 || chs[0].Action != gaps.Refreshed || chs[0].Status != gaps.Acknowledged {
		t.Fatalf("refresh: %+v", chs)
	}
	// Less open: updated.
	less := missing
	less.Amount = 4000
	if chs := c.Plan(stored, []gaps.Finding{less}, now); len(chs) != 1 || chs[0].Action != gaps.Updated || chs[0].Finding.Amount != 4000 {
		t.Fatalf("update: %+v", chs)
	}
	// Paid late: missing cured and resolved, late opened.
	chs = c.Plan(stored, []gaps.Finding{late}, now)
	if len(chs) != 2 || chs[0].Action != gaps.Detected || chs[0].Finding.Kind != gaps.Late ||
		chs[1].Action != gaps.Cured || chs[1].ID != 1 || chs[1].From != gaps.Acknowledged || chs[1].Status != gaps.Resolved || !chs[1].Cured {
		t.Fatalf("cure: %+v", chs)
	}
	// Cured and resolved: nothing more while absent; found again, reopened.
	stored[0].Status, stored[0].Cured = gaps.Resolved, true
	if chs := c.Plan(stored, nil, now); len(chs) != 0 {
		t.Fatalf("absent again: %+v", chs)
	}
	chs = c.Plan(stored, []gaps.Finding{missing}, now)
	if len(chs) != 1 || chs[0].Action != gaps.Reopened || chs[0].Status != gaps.Open || chs[0].From != gaps.Resolved || chs[0].Cured {
		t.Fatalf("reopen: %+v", chs)
	}
	// A silent platform's quiet window moves with the clock; its age does not.
	silent := gaps.Finding{Key: gaps.Key{Kind: gaps.SilentPlatform, PlatformID: "p1"}, Currency: "MYR", Since: day(2026, 11, 24)}
	chs = c.Plan(nil, []gaps.Finding{silent}, now)
	quiet := []gaps.State{{ID: 2, Key: silent.Key, Status: gaps.Open, Digest: chs[0].Digest, Severity: chs[0].Severity, Since: silent.Since}}
	later := now.AddDate(0, 0, 100)
	silent.Since = day(2027, 3, 3)
	chs = c.Plan(quiet, []gaps.Finding{silent}, later)
	if len(chs) != 1 || !chs[0].Finding.Since.Equal(day(2026, 11, 24)) || chs[0].Severity != gaps.High || chs[0].Action != gaps.Updated {
		t.Fatalf("silent 100 days on: %+v", chs)
	}
	// A waived gap's cause coming back leaves it waived.
	stored[0].Status = gaps.Waived
	chs = c.Plan(stored, []gaps.Finding{missing}, now)
	if len(chs) != 1 || chs[0].Action != gaps.Returned || chs[0].Status != gaps.Waived {
		t.Fatalf("waived: %+v", chs)
	}
	// A waived gap cured stays waived.
	stored[0].Cured = false
	chs = c.Plan(stored, nil, now)
	if len(chs) != 1 || chs[0].Action != gaps.Cured || chs[0].Status != gaps.Waived || chs[0].From != "" {
		t.Fatalf("waived cure: %+v", chs)
	}
}
