package interest_test

import (
	"fmt"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/interest"
)

func Example() {
	owed := gateway.MustParseMoney("KRW", "1000000")
	due, paid := calendar.D(2026, 11, 10), calendar.D(2026, 12, 11)
	r, _ := interest.Korea().Interest(owed, due, paid)
	fmt.Println(r.Late, "days late at", r.Rate, "=", r.Interest, r.Interest.Currency)
	// Output: 31 days late at 121/6000 = 20166 KRW
}
