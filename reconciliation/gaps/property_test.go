package gaps_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/reconciliation/gaps"
)

// apply does to stored what a store does with a plan's changes.
func apply(stored []gaps.State, chs []gaps.Change, nextID *int64) []gaps.State {
	byID := map[int64]int{}
	for i, g := range stored {
		byID[g.ID] = i
	}
	for _, ch := range chs {
		if ch.ID == 0 {
			*nextID++
			f := ch.Finding
			stored = append(stored, gaps.State{ID: *nextID, Key: f.Key, Status: ch.Status, Digest: ch.Digest, Amount: f.Amount,
				Interest: f.Interest, Severity: ch.Severity})
			continue
		}
		g := &stored[byID[ch.ID]]
		g.Status, g.Cured, g.Digest, g.Severity = ch.Status, ch.Cured, ch.Digest, ch.Severity
		if ch.Finding != nil {
			g.Amount, g.Interest = ch.Finding.Amount, ch.Finding.Interest
		}
	}
	return stored
}

// TestPlanProperties plans random detections one after another: applying
// a plan and planning the same findings again changes nothing; every key
// found has exactly one gap, active or decided by a person; a gap not
// found is cured and, when it was active, resolved.
func TestPlanProperties(t *testing.T) {
	c := gaps.Config{}
	rng := rand.New(rand.NewPCG(7, 11))
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var stored []gaps.State
	var nextID int64
	for round := range 200 {
		var found []gaps.Finding
		for p := range 6 {
			if rng.IntN(3) == 0 {
				continue
			}
			found = append(found, gaps.Finding{Key: gaps.Key{Kind: gaps.Kinds()[rng.IntN(8)], PlatformID: fmt.Sprint("p", p)},
				Currency: "MYR", Amount: int64(rng.IntN(3)) * 1000, Since: now.AddDate(0, 0, -rng.IntN(100)),
				Evidence: gaps.Evidence{RunID: int64(rng.IntN(2))}})
		}
		// People change some statuses of gaps whose cause is present (a
		// person may also reopen a cured gap, which then stays open).
		for i := range stored {
			if stored[i].Cured {
				continue
			}
			if to := gaps.Statuses()[rng.IntN(5)]; gaps.Transition(stored[i].Status, to, "why") == nil && rng.IntN(4) == 0 {
				stored[i].Status = to
			}
		}
		stored = apply(stored, c.Plan(stored, found, now), &nextID)
		if again := c.Plan(stored, found, now); len(again) != 0 {
			t.Fatalf("round %d: planning again gives %+v", round, again)
		}
		keys := map[gaps.Key]int{}
		for _, g := range stored {
			keys[g.Key]++
		}
		seen := map[gaps.Key]bool{}
		for _, f := range found {
			seen[f.Key] = true
			if keys[f.Key] != 1 {
				t.Fatalf("round %d: %d gaps of %s", round, keys[f.Key], f.Key)
			}
		}
		for _, g := range stored {
			if seen[g.Key] == g.Cured {
				t.Fatalf("round %d: %s found %v, cured %v", round, g.Key, seen[g.Key], g.Cured)
			}
			if g.Cured && g.Status.Active() {
				t.Fatalf("round %d: %s is cured and still %s", round, g.Key, g.Status)
			}
		}
	}
}
