package feed

import (
	"encoding/json"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// Outcome is what became of an event, as platforms read it: from
// GET /v1/earnings/{event_id}, and as the value of a message on the
// "deductions" topic (key: the event id). Version 1:
//
//	{
//	  "version": 1,
//	  "event_id": "ord-1001", "platform_id": "demo",
//	  "status": "recorded",                         // recorded | rejected
//	  "recorded_at": "2026-10-03T00:15:01Z",
//	  "withhold": {"currency": "MYR", "value": "0.29"}, // worker share, all schemes
//	  "deductions": [{"scheme_id": "my-gig", "plan_id": "s83", "plan_version": 1,
//	                  "period": "2026-10", "booked_period": "2026-10", "late": false,
//	                  "kind": "deduction", "worker_share": {…}, "platform_share": {…},
//	                  "total": {…}, "flags": ["…"]}],
//	  "rejection": {"code": "unknown_platform", "message": "…", "field": "platform_id"},
//	  "event": {…}                                  // the event as recorded (API only)
//	}
type Outcome struct {
	Version    int                `json:"version"`
	EventID    string             `json:"event_id"`
	PlatformID string             `json:"platform_id"`
	Status     string             `json:"status"`
	RecordedAt time.Time          `json:"recorded_at"`
	Withhold   *gateway.Money     `json:"withhold,omitempty"`
	Deductions []OutcomeDeduction `json:"deductions,omitempty"`
	Rejection  *OutcomeRejection  `json:"rejection,omitempty"`
	Event      json.RawMessage    `json:"event,omitempty"`
}

// OutcomeDeduction is what one scheme took for the event.
type OutcomeDeduction struct {
	SchemeID      string        `json:"scheme_id"`
	PlanID        string        `json:"plan_id"`
	PlanVersion   int           `json:"plan_version"`
	Period        string        `json:"period"`        // the event's own period
	BookedPeriod  string        `json:"booked_period"` // the period it counts in
	Late          bool          `json:"late"`
	Kind          string        `json:"kind"` // deduction | reversal
	Reverses      string        `json:"reverses,omitempty"`
	WorkerShare   gateway.Money `json:"worker_share"`
	PlatformShare gateway.Money `json:"platform_share"`
	Total         gateway.Money `json:"total"`
	Flags         []string      `json:"flags,omitempty"`
}

// OutcomeRejection says why an event was not applied.
type OutcomeRejection struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}
