package engine

import (
	"encoding/json"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// Outcome renders what became of an event in the platforms' wire form.
func Outcome(platformID, eventID string, r postgres.RecordedEarning) feed.Outcome {
	o := feed.Outcome{Version: feed.Version, EventID: eventID, PlatformID: platformID, Status: r.Status,
		RecordedAt: r.RecordedAt.UTC(), Event: r.Payload}
	if r.Rejection != nil {
		o.Rejection = &feed.OutcomeRejection{Code: r.Rejection.Code, Message: r.Rejection.Message, Field: r.Rejection.Field}
		return o
	}
	addDeductions(&o, r.Entries)
	return o
}

func addDeductions(o *feed.Outcome, entries []postgres.LedgerEntry) {
	var withhold gateway.Money
	for _, en := range entries {
		m := func(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: en.Currency} }
		o.Deductions = append(o.Deductions, feed.OutcomeDeduction{
			SchemeID: en.SchemeID, PlanID: en.PlanID, PlanVersion: en.PlanVersion, Period: en.Period,
			BookedPeriod: en.BookedPeriod, Late: en.Late, Kind: en.Kind, Reverses: en.Reverses,
			WorkerShare: m(en.Worker), PlatformShare: m(en.Platform), Total: m(en.Worker + en.Platform),
			Flags: en.Flags.Names(),
		})
		if sum, err := withhold.Add(m(en.Worker)); err == nil {
			withhold = sum
		}
	}
	if len(entries) > 0 {
		o.Withhold = &withhold
	}
}

// relayOutcome is the "deductions" message of a recorded event.
func relayOutcome(e postgres.RelayEvent) ([]byte, error) {
	o := feed.Outcome{Version: feed.Version, EventID: e.EventID, PlatformID: e.PlatformID, Status: "recorded",
		RecordedAt: e.RecordedAt.UTC()}
	addDeductions(&o, e.Entries)
	return json.Marshal(o)
}
