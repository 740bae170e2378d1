package gateway_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

func ExampleParseMoney() {
	m, err := gateway.ParseMoney("MYR", "13.10")
	if err != nil {
		panic(err)
	}
	year, _ := m.Mul(12)
	fmt.Println(m.Amount, m.Currency, year)

	_, err = gateway.ParseMoney("MYR", "13.105")
	fmt.Println(err)
	// Output:
	// 1310 MYR 157.20
	// invalid: invalid input (value: amount "13.105" has 3 decimals; the currency has 2)
}

func ExampleMoney_String() {
	fmt.Println(gateway.NewMoney(-5, "MYR"), gateway.NewMoney(800000, "KRW"), gateway.NewMoney(1234, "KWD"))
	// Output: -0.05 800000 1.234
}

func ExampleMoney_Add() {
	a := gateway.MustParseMoney("MYR", "13.10")
	sum, _ := a.Add(gateway.MustParseMoney("MYR", "19.40"))
	fmt.Println(sum)
	_, err := a.Add(gateway.MustParseMoney("SGD", "1.00"))
	fmt.Println(gateway.ErrorCode(err))
	// Output:
	// 32.50
	// invalid
}

func ExampleMoney_MarshalJSON() {
	b, _ := json.Marshal(gateway.MustParseMoney("MYR", "23.50"))
	fmt.Println(string(b))
	var m gateway.Money
	err := json.Unmarshal([]byte(`{"currency":"MYR","value":23.50}`), &m)
	fmt.Println(err)
	// Output:
	// {"currency":"MYR","value":"23.50"}
	// invalid: invalid input (value: money values are decimal strings such as "23.50", not JSON numbers)
}

func ExampleApplyRate() {
	rate := gateway.MustParseRate("1.25%")
	tie := gateway.MustParseMoney("MYR", "10.00") // 1.25% is 12.5 sen
	for _, mode := range []gateway.RoundingMode{gateway.RoundHalfUp, gateway.RoundHalfEven, gateway.RoundDown, gateway.RoundUp} {
		m, _ := gateway.ApplyRate(tie, rate, mode)
		fmt.Println(mode, m)
	}
	late, _ := gateway.ApplyRate(gateway.MustParseMoney("KRW", "1000000"), gateway.MustParseRate("1/1500"), gateway.RoundDown)
	fmt.Println("one day late on KRW 1,000,000:", late)
	// Output:
	// half_up 0.13
	// half_even 0.12
	// down 0.12
	// up 0.13
	// one day late on KRW 1,000,000: 666
}

func ExampleAllocate() {
	parts, _ := gateway.Allocate(gateway.MustParseMoney("MYR", "1.00"), []int64{1, 1, 1})
	fmt.Println(parts)
	// Output: [0.34 0.33 0.33]
}

// A platform worker in Korea earns KRW 400,000 in October from one platform:
// 0.8% is withheld and the platform adds 0.8%, provisionally, because the
// month is below KRW 800,000. At month end the worker has applied to combine
// contracts and earned KRW 600,000 elsewhere, so nothing is refunded.
func ExamplePlanVersion_Deduct() {
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 10, 5, 14, 0, 0, 0, time.UTC)
	v, err := catalog.PlanVersion("kr-ei", "platform-workers", at)
	if err != nil {
		panic(err)
	}
	e := gateway.Earning{
		EventID: "trip-1", PlatformID: "kakao", WorkerRef: "d-77", OccurredAt: at,
		Gross: gateway.MustParseMoney("KRW", "400000"), Orders: 1, Kind: gateway.KindEarning,
	}
	d, state, err := v.Deduct(&e, gateway.PeriodState{})
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Period, "worker", d.Worker, "platform", d.Platform, "total", d.Total, d.Flags)

	s, _ := v.Close(state, gateway.CloseInput{PlatformID: "kakao", Combine: true, CombinedBase: gateway.MustParseMoney("KRW", "1000000")})
	fmt.Println("threshold met:", s.ThresholdMet, "adjustments:", len(s.Adjustments))

	s, _ = v.Close(state, gateway.CloseInput{PlatformID: "kakao"})
	fmt.Println("alone:", s.ThresholdMet, s.Adjustments[0].Kind, s.Adjustments[0].Total)
	// Output:
	// 2026-10 worker 3200 platform 3200 total 6400 provisional
	// threshold met: true adjustments: 0
	// alone: false refund_provisional -6400
}

// A reversal is the exact negative of the original and restores the period.
func ExamplePlanVersion_Reverse() {
	catalog, _ := gateway.BuiltinPacks()
	at := time.Date(2026, 10, 5, 4, 0, 0, 0, time.UTC)
	v, _ := catalog.PlanVersion("my-sess", "2", at)
	e := gateway.Earning{EventID: "o-1", PlatformID: "grab", WorkerRef: "r-9", OccurredAt: at,
		Gross: gateway.MustParseMoney("MYR", "25.00"), Orders: 1, Kind: gateway.KindEarning}
	d, s, _ := v.Deduct(&e, gateway.PeriodState{})
	fmt.Println(d.Worker, d.Flags)

	r := e
	r.EventID, r.Kind, r.Reverses, r.Gross = "o-1-rev", gateway.KindReversal, "o-1", gateway.MustParseMoney("MYR", "-25.00")
	rd, back, _ := v.Reverse(&r, &d, s)
	fmt.Println(rd.Worker, rd.Flags, back == gateway.PeriodState{})
	// Output:
	// 12.50 share_limited
	// -12.50 share_limited|reversal true
}

func ExamplePlanVersion_Levy() {
	catalog, _ := gateway.BuiltinPacks()
	v, _ := catalog.PlanVersion("in-coss", "aggregator-levy", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	l, _ := v.Levy("FY2026", gateway.MustParseMoney("INR", "100000000.00"), gateway.MustParseMoney("INR", "10000000.00"))
	fmt.Println(l.ByTurnover, l.Cap, l.Amount, l.Capped)
	// Output: 1000000.00 500000.00 500000.00 true
}
