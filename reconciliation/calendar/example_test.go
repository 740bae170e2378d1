package calendar_test

import (
	"fmt"

	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

func ExampleDueDate() {
	sg, _ := calendar.Builtin("SG")
	rule, _ := calendar.ParseRule("10th of next month")
	// July 2026: the 10th of August is National Day's observed holiday.
	due, _ := calendar.DueDate(calendar.D(2026, 7, 31), rule, sg)
	fmt.Println(due, due.Weekday())
	// Output: 2026-08-11 Tuesday
}
