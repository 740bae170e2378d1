package gaps_test

import (
	"fmt"
	"time"

	"github.com/coverbridge/coverbridge/reconciliation/gaps"
)

// A period with nothing paid past its due date is a missing gap; once the
// payment arrives the gap is cured and resolves itself.
func ExampleConfig_Plan() {
	c := gaps.Config{}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	o := gaps.Outcome{PlatformID: "ridego", SchemeID: "my-gig", Period: "2026-10", Currency: "MYR", Status: "missing",
		Due: 120000, Shortfall: 120000, Accrued: 300, DueDate: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC),
		Statements: []string{"RF18MYGW0000012026100000"}}
	found := gaps.FromOutcome(&o)
	chs := c.Plan(nil, found, now)
	fmt.Println(chs[0].Action, chs[0].Finding.Kind, chs[0].Severity, chs[0].Status)

	stored := []gaps.State{{ID: 1, Key: found[0].Key, Status: gaps.Acknowledged, Digest: chs[0].Digest}}
	chs = c.Plan(stored, nil, now) // paid: the outcome has no gap any more
	fmt.Println(chs[0].Action, chs[0].From, "→", chs[0].Status+":", chs[0].Note)
	// Output:
	// detected missing high open
	// cured acknowledged → resolved: cured: payment for the period has arrived
}
