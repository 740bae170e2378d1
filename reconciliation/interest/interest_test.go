package interest

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

func TestKorea(t *testing.T) {
	won := func(n int64) gateway.Money { return gateway.NewMoney(n, "KRW") }
	tests := []struct {
		owed   int64
		days   int
		want   int64
		rate   string
		capped bool
	}{
		{1_000_000, 0, 0, "0%", false},
		{1_000_000, 1, 666, "1/1500", false},        // 666.67 cut to 666
		{1_000_000, 29, 19_333, "29/1500", false},   // 19,333.33
		{1_000_000, 30, 20_000, "2%", false},        // first tier full: 2%
		{1_000_000, 31, 20_166, "121/6000", false},  // 2% + 1/6000
		{1_000_000, 209, 49_833, "299/6000", false}, // 2% + 179/6000
		{1_000_000, 210, 50_000, "5%", false},       // 2% + 180/6000 = 5% exactly
		{1_000_000, 211, 50_000, "5%", true},        // total cap reached
		{1_000_000, 3650, 50_000, "5%", true},       // ten years: still 5%
		{123_457, 1, 82, "1/1500", false},           // 82.30
		{123_457, 45, 2_777, "2.25%", false},        // 2% + 15/6000 = 2.25%: 2,777.78
		{0, 45, 0, "0%", false},                     // nothing owed
	}
	for _, tt := range tests {
		got, err := Korea().ForUnits(won(tt.owed), tt.days)
		if err != nil {
			t.Fatalf("Korea %d won %d days: %v", tt.owed, tt.days, err)
		}
		if tt.owed == 0 || tt.days == 0 {
			tt.rate = "0%"
		}
		if got.Interest != won(tt.want) || got.Rate.String() != tt.rate || got.Capped != tt.capped || got.MinimumApplied {
			t.Errorf("Korea %d won %d days = %v at %s capped %v; want %d at %s capped %v",
				tt.owed, tt.days, got.Interest, got.Rate, got.Capped, tt.want, tt.rate, tt.capped)
		}
	}
}

func TestSingapore(t *testing.T) {
	sgd := func(s string) gateway.Money { return gateway.MustParseMoney("SGD", s) }
	tests := []struct {
		owed    string
		days    int
		want    string
		minimum bool
	}{
		{"10000.00", 0, "0.00", false},      // on time: no minimum either
		{"10000.00", 1, "5.00", true},       // 4.93 → $4 → minimum $5
		{"10000.00", 2, "9.00", false},      // 9.86 → $9
		{"10000.00", 30, "147.00", false},   // 147.94
		{"10000.00", 31, "152.00", false},   // 152.87
		{"10000.00", 365, "1800.00", false}, // 18% a year exactly
		{"100.00", 10, "5.00", true},        // 0.49 → $0 → minimum
		{"20280.00", 5, "50.00", false},     // 50.0054… → $50
		{"20270.00", 5, "49.00", false},     // 49.98 → $49: down, never up
		{"0.00", 30, "0.00", false},
	}
	for _, tt := range tests {
		got, err := Singapore().ForUnits(sgd(tt.owed), tt.days)
		if err != nil {
			t.Fatal(err)
		}
		if got.Interest != sgd(tt.want) || got.MinimumApplied != tt.minimum || got.Capped {
			t.Errorf("Singapore S$%s %d days = %v minimum %v; want %s minimum %v", tt.owed, tt.days, got.Interest, got.MinimumApplied, tt.want, tt.minimum)
		}
	}
}

func TestIndia(t *testing.T) {
	inr := func(s string) gateway.Money { return gateway.MustParseMoney("INR", s) }
	d := calendar.D
	tests := []struct {
		owed      string
		due, paid calendar.Date
		months    int
		want      string
	}{
		{"50000.00", d(2026, 11, 15), d(2026, 11, 15), 0, "0.00"},    // on the due date
		{"50000.00", d(2026, 11, 15), d(2026, 11, 10), 0, "0.00"},    // early
		{"50000.00", d(2026, 11, 15), d(2026, 11, 16), 1, "500.00"},  // one day: a whole month
		{"50000.00", d(2026, 11, 15), d(2026, 12, 15), 1, "500.00"},  // exactly one month
		{"50000.00", d(2026, 11, 15), d(2026, 12, 16), 2, "1000.00"}, // a month and a day
		{"50000.00", d(2026, 11, 15), d(2027, 11, 15), 12, "6000.00"},
		{"50000.00", d(2026, 1, 31), d(2026, 2, 28), 1, "500.00"}, // month end clamps to 28 Feb
		{"50000.00", d(2026, 1, 31), d(2026, 3, 1), 2, "1000.00"},
		{"50000.00", d(2027, 12, 15), d(2028, 1, 20), 2, "1000.00"}, // across a year end
		{"333.33", d(2026, 11, 15), d(2026, 11, 30), 1, "3.33"},     // 3.3333 → 3.33
		{"333.39", d(2026, 11, 15), d(2027, 1, 30), 3, "10.00"},     // 10.0017 → 10.00
	}
	for _, tt := range tests {
		got, err := India().Interest(inr(tt.owed), tt.due, tt.paid)
		if err != nil {
			t.Fatal(err)
		}
		if got.Late != tt.months || got.Interest != inr(tt.want) {
			t.Errorf("India ₹%s due %s paid %s = %d months %v; want %d months %s", tt.owed, tt.due, tt.paid, got.Late, got.Interest, tt.months, tt.want)
		}
	}
}

func TestLateDays(t *testing.T) {
	k := Korea()
	d := calendar.D
	tests := []struct {
		due, paid calendar.Date
		want      int
	}{
		{d(2026, 11, 10), d(2026, 11, 10), 0},
		{d(2026, 11, 10), d(2026, 11, 9), 0},
		{d(2026, 11, 10), d(2026, 11, 11), 1},
		{d(2026, 11, 10), d(2026, 12, 10), 30},
		{d(2026, 11, 10), d(2026, 12, 11), 31},
		{d(2026, 2, 28), d(2026, 3, 1), 1},
		{d(2027, 12, 31), d(2028, 3, 1), 61}, // 2028 is a leap year
	}
	for _, tt := range tests {
		if got := k.Late(tt.due, tt.paid); got != tt.want {
			t.Errorf("Late(%s, %s) = %d, want %d", tt.due, tt.paid, got, tt.want)
		}
	}
	// Interest uses the same count: 31 days late on 1,000,000 won.
	got, err := k.Interest(gateway.NewMoney(1_000_000, "KRW"), d(2026, 11, 10), d(2026, 12, 11))
	if err != nil || got.Late != 31 || got.Interest.Amount != 20_166 {
		t.Errorf("Korea Interest = %+v, %v", got, err)
	}
}

// The predefined rules are plain configuration: they read back from JSON.
func TestRuleJSON(t *testing.T) {
	const korea = `{"unit":"day","tiers":[{"units":30,"rate":"1/1500","cap":"2%"},{"rate":"1/6000"}],"cap":"5%","rounding":"down","round_to":1}`
	var r Rule
	if err := json.Unmarshal([]byte(korea), &r); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, Korea()) {
		t.Errorf("Korea from JSON = %+v, want %+v", r, Korea())
	}
	for name, rule := range map[string]Rule{"Korea": Korea(), "Singapore": Singapore(), "India": India()} {
		b, err := json.Marshal(rule)
		if err != nil {
			t.Fatal(err)
		}
		var back Rule
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, rule) {
			t.Errorf("%s JSON round trip %s = %+v, %v", name, b, back, err)
		}
	}
}

func TestRuleValidate(t *testing.T) {
	bad := []Rule{
		{Unit: "week", Tiers: []Tier{{Rate: gateway.BasisPoints(1)}}},
		{Unit: Days},
		{Unit: Days, Tiers: []Tier{{Rate: gateway.BasisPoints(1)}, {Units: 3, Rate: gateway.BasisPoints(1)}}},
		{Unit: Days, Tiers: []Tier{{Units: -1, Rate: gateway.BasisPoints(1)}}},
		{Unit: Days, Tiers: []Tier{{Rate: gateway.BasisPoints(1)}}, RoundTo: -1},
		{Unit: Days, Tiers: []Tier{{Rate: gateway.BasisPoints(1)}}, Rounding: 9},
	}
	for i, r := range bad {
		_, err := r.ForUnits(gateway.NewMoney(100, "MYR"), 3)
		var e *gateway.Error
		if !errors.As(err, &e) || e.Code != gateway.EINVALID {
			t.Errorf("rule %d: error %v, want invalid", i, err)
		}
	}
}

func TestOverflow(t *testing.T) {
	huge := Rule{Unit: Days, Tiers: []Tier{{Rate: gateway.BasisPoints(10_000)}}}
	if _, err := huge.ForUnits(gateway.NewMoney(1<<62, "KRW"), 4); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("overflow error = %v", err)
	}
	r, _ := gateway.NewRate(1, 1<<62)
	tiny := Rule{Unit: Days, Tiers: []Tier{{Rate: r}}, RoundTo: 100}
	if _, err := tiny.ForUnits(gateway.NewMoney(1, "SGD"), 1); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("denominator overflow error = %v", err)
	}
}
