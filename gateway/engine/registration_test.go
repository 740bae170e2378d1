package engine_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// TestRegistrationsChooseWorkerAndPlan registers a worker on SESS plan 3,
// changes to plan 2 in November and ends the registration in December: the
// engine books October under plan 3 (RM36.90 a month), November under plan 2
// (RM19.40), and December's earnings in suspense under the platform's
// reference and default plan 1 (RM13.10).
func TestRegistrationsChooseWorkerAndPlan(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	date := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	steps := []postgres.Registration{
		{Change: postgres.RegistrationStart, PlanID: "3", Effective: date("2026-10-01")},
		{Change: postgres.RegistrationChange, PlanID: "2", Effective: date("2026-11-01")},
		{Change: postgres.RegistrationEnd, Effective: date("2026-12-01")},
	}
	for i, r := range steps {
		r.PlatformID, r.WorkerRef, r.WorkerKey, r.SchemeID = "food", "r9", "wk-9", "my-sess"
		w := postgres.NewWorker{}
		if i == 0 {
			w = postgres.NewWorker{WorkerKey: "wk-9", Country: "MY", Sealed: []byte{1}}
		}
		if _, _, err := f.db.Register(ctx, w, r, sha256.Sum256([]byte(r.Change))); err != nil {
			t.Fatal(err)
		}
	}
	f.send(
		ev("food", "unreg", "r9", "2026-09-30T10:00:00+08:00", "200.00"), // before the start
		ev("food", "oct", "r9", "2026-10-15T10:00:00+08:00", "200.00"),
		ev("food", "nov", "r9", "2026-11-15T10:00:00+08:00", "200.00"),
		ev("food", "dec", "r9", "2026-12-15T10:00:00+08:00", "200.00"),
	)
	tests := []struct {
		id, worker, plan string
		registered       bool
		withheld         int64
	}{
		{"unreg", "ref:food:r9", "1", false, 1310},
		{"oct", "wk-9", "3", true, 3690},
		{"nov", "wk-9", "2", true, 1940},
		{"dec", "ref:food:r9", "1", false, 1310},
	}
	for _, tt := range tests {
		en := f.earning("food", tt.id).Entries[0]
		if en.WorkerID != tt.worker || en.PlanID != tt.plan || en.Registered != tt.registered || en.Worker != tt.withheld {
			t.Errorf("%s: worker %s plan %s registered %v withheld %d; want %s %s %v %d", tt.id,
				en.WorkerID, en.PlanID, en.Registered, en.Worker, tt.worker, tt.plan, tt.registered, tt.withheld)
		}
	}
}
