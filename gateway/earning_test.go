package gateway

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func validEarning() Earning {
	return Earning{
		EventID:    "e1",
		PlatformID: "grab",
		WorkerRef:  "w-42",
		OccurredAt: time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC),
		Gross:      Money{2350, "MYR"},
		Exclusions: Exclusions{Tips: Money{200, "MYR"}},
		Orders:     1,
		Category:   Category{Sector: "food_delivery", Vehicle: "2w"},
		Region:     "KUL",
		Kind:       KindEarning,
	}
}

func fields(err error) []string {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	var f []string
	for _, d := range e.Details {
		f = append(f, d.Field+":"+d.Code)
	}
	return f
}

func TestEarningValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Earning)
		want   []string
	}{
		{"valid", func(*Earning) {}, nil},
		{"valid reversal", func(e *Earning) {
			e.Kind, e.Reverses, e.Gross, e.Exclusions.Tips = KindReversal, "e0", Money{-2350, "MYR"}, Money{-200, "MYR"}
		}, nil},
		{"valid negative adjustment", func(e *Earning) { e.Kind, e.Gross, e.Exclusions = KindAdjustment, Money{-100, "MYR"}, Exclusions{} }, nil},
		{"zero orders", func(e *Earning) { e.Orders = 0 }, nil},
		{"everything missing", func(e *Earning) { *e = Earning{} }, []string{
			"event_id:required", "platform_id:required", "worker_ref:required", "occurred_at:required",
			"gross.currency:required", "kind:required"}},
		{"unknown currency and kind", func(e *Earning) { e.Gross.Currency, e.Kind = "ZZZ", "bonus" }, []string{"gross.currency:unknown_currency", "kind:unknown_kind"}},
		{"negative earning", func(e *Earning) { e.Gross.Amount, e.Exclusions = -1, Exclusions{} }, []string{"gross:negative"}},
		{"positive reversal", func(e *Earning) { e.Kind, e.Reverses = KindReversal, "e0" }, []string{"gross:positive"}},
		{"reversal without original", func(e *Earning) { e.Kind, e.Gross.Amount, e.Exclusions = KindReversal, -5, Exclusions{} }, []string{"reverses:required"}},
		{"reverses on earning", func(e *Earning) { e.Reverses = "e0" }, []string{"reverses:not_allowed"}},
		{"reverses itself", func(e *Earning) {
			e.Kind, e.Gross.Amount, e.Exclusions, e.Reverses = KindReversal, -5, Exclusions{}, "e1"
		}, []string{"reverses:self"}},
		{"negative orders", func(e *Earning) { e.Orders = -1 }, []string{"orders:negative"}},
		{"exclusion currency", func(e *Earning) {
			e.Exclusions.Tips = Money{1, "SGD"}
			e.Exclusions.Commission = Money{0, "KRW"}
		}, []string{"exclusions.tips:currency_mismatch", "exclusions.commission:currency_mismatch"}},
		{"exclusion sign", func(e *Earning) { e.Exclusions.Incentives = Money{-1, "MYR"} }, []string{"exclusions.incentives:sign"}},
		{"exclusions exceed gross", func(e *Earning) {
			e.Exclusions = Exclusions{Tips: Money{2000, "MYR"}, Expenses: Money{351, "MYR"}}
		}, []string{"exclusions:exceeds_gross"}},
		{"exclusions equal gross", func(e *Earning) {
			e.Exclusions = Exclusions{Tips: Money{2000, "MYR"}, Expenses: Money{350, "MYR"}}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEarning()
			tt.change(&e)
			err := e.Validate()
			if got := fields(err); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Validate() = %v, fields %v, want %v", err, got, tt.want)
			}
			if tt.want == nil && err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if tt.want != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("code = %s", ErrorCode(err))
			}
		})
	}
}

func TestEarningBase(t *testing.T) {
	e := validEarning()
	e.Exclusions = Exclusions{Tips: Money{200, "MYR"}, Incentives: Money{100, "MYR"}, Expenses: Money{50, "MYR"}, Commission: Money{400, "MYR"}}
	for _, tt := range []struct {
		set  ExclusionSet
		want int64
	}{
		{0, 2350},
		{ExcludeTips, 2150},
		{ExcludeTips | ExcludeIncentives, 2050},
		{ExcludeTips | ExcludeIncentives | ExcludeExpenses | ExcludeCommission, 1600},
	} {
		b, err := e.Base(tt.set)
		if err != nil || b != (Money{tt.want, "MYR"}) {
			t.Errorf("Base(%b) = %v, %v; want %d", tt.set, b, err, tt.want)
		}
	}
}
