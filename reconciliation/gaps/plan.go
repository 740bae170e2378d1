package gaps

import (
	"encoding/binary"
	"hash/fnv"
	"time"
)

// State is a stored gap, as much as Plan needs of it.
type State struct {
	ID       int64
	Key      Key
	Status   Status
	Cured    bool // its cause was last found absent
	Digest   int64
	Amount   int64
	Interest int64
	Severity Severity
	Since    time.Time
}

// Action is what a change records in a gap's history.
type Action string

// Actions.
const (
	Detected  Action = "detected" // a new gap
	Updated   Action = "updated"  // amount, interest or severity changed
	Cured     Action = "cured"    // the cause is gone
	Reopened  Action = "reopened" // the cause of a cured gap is back
	Returned  Action = "returned" // the cause of a waived gap is back; it stays waived
	Refreshed Action = ""         // only the evidence changed: no history
)

// Change is one write Plan asks for.
type Change struct {
	ID       int64    // 0: a new gap
	Finding  *Finding // nil for a cure
	Severity Severity
	Digest   int64
	Status   Status // the status after the change
	From     Status // before, when the status changes
	Cured    bool
	Action   Action
	Note     string
}

// Digest fingerprints what detection says of a gap and its severity:
// equal digests mean nothing to write. The matching run is left out: a new
// run that finds the same leaves the gap as it is, its evidence naming the
// run it was detected or last changed in, and a run does not rewrite every
// gap.
func Digest(f *Finding, sev Severity) int64 {
	h := fnv.New64a()
	var b [8]byte
	num := func(v int64) {
		binary.BigEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		h.Write([]byte(s))
	}
	strs := func(ss []string) {
		num(int64(len(ss)))
		for _, s := range ss {
			str(s)
		}
	}
	str(string(f.Currency))
	num(f.Amount)
	num(f.Interest)
	num(f.Since.UnixMicro())
	str(string(sev))
	e := &f.Evidence
	num(e.Entries)
	str(e.DueDate)
	str(e.Detail)
	for _, ss := range [][]string{e.Statements, e.Receipts, e.Advices, e.Events, e.Workers} {
		strs(ss)
	}
	return int64(h.Sum64())
}

// Plan compares the findings of a detection with the stored gaps and
// returns the writes that make the store agree, as of now:
//
//   - a finding with no gap opens one (detected);
//   - a finding whose gap is cured and resolved is reopened; one whose gap
//     is cured and waived stays waived (returned); any other cured gap is
//     marked found again;
//   - a finding whose amounts or severity changed updates the gap
//     (updated), one whose evidence alone changed refreshes it;
//   - a gap not found and not cured is cured, and resolves itself while
//     active (cured).
//
// A gap found again keeps the earlier of its stored and found since, so
// its age only grows while its cause lasts; Plan sets it in found.
//
// Findings with the same key count once (the last). Nothing is returned
// for what has not changed, so planning again after applying the changes
// returns none.
func (c Config) Plan(stored []State, found []Finding, now time.Time) []Change {
	c = c.WithDefaults()
	byKey := make(map[Key]int, len(stored))
	for i := range stored {
		byKey[stored[i].Key] = i
	}
	seen := make([]bool, len(stored))
	last := make(map[Key]int, len(found))
	for i := range found {
		last[found[i].Key] = i
	}
	var out []Change
	for i := range found {
		f := &found[i]
		if last[f.Key] != i {
			continue
		}
		j, ok := byKey[f.Key]
		if ok && !stored[j].Cured && stored[j].Since.Before(f.Since) && !stored[j].Since.IsZero() {
			// The cause has lasted since the gap was first found: a
			// silent platform's quiet window moves with the clock, its
			// age must not.
			f.Since = stored[j].Since
		}
		sev := c.Severity(f, now)
		d := Digest(f, sev)
		if !ok {
			out = append(out, Change{Finding: f, Severity: sev, Digest: d, Status: Open, Action: Detected, Note: f.Evidence.Detail})
			continue
		}
		seen[j] = true
		g := &stored[j]
		ch := Change{ID: g.ID, Finding: f, Severity: sev, Digest: d, Status: g.Status}
		switch {
		case g.Cured && g.Status == Resolved:
			ch.From, ch.Status, ch.Action, ch.Note = g.Status, Open, Reopened, "the cause is back: "+f.Evidence.Detail
		case g.Cured && g.Status == Waived:
			ch.Action, ch.Note = Returned, "the cause is back; the gap stays waived: "+f.Evidence.Detail
		case g.Cured:
			ch.Action, ch.Note = Returned, "the cause is back: "+f.Evidence.Detail
		case g.Digest == d:
			continue
		case g.Amount != f.Amount || g.Interest != f.Interest || g.Severity != sev:
			ch.Action, ch.Note = Updated, f.Evidence.Detail
		default:
			ch.Action = Refreshed
		}
		out = append(out, ch)
	}
	for j := range stored {
		g := &stored[j]
		if seen[j] || g.Cured {
			continue
		}
		ch := Change{ID: g.ID, Severity: g.Severity, Digest: g.Digest, Status: g.Status, Cured: true, Action: Cured, Note: cureNote[g.Key.Kind]}
		if g.Status.Active() {
			ch.From, ch.Status = g.Status, Resolved
		}
		out = append(out, ch)
	}
	return out
}

// cureNote says in the history why a gap of each kind went away.
var cureNote = map[Kind]string{
	Underpaid:           "cured: the period is no longer underpaid",
	Late:                "cured: no late payment is found any more",
	Missing:             "cured: payment for the period has arrived",
	AdviceMismatch:      "cured: the advice agrees with the statements",
	UnmatchedReceipt:    "cured: the receipt is no longer in suspense",
	UnregisteredWorker:  "cured: the worker is registered now",
	SilentPlatform:      "cured: the platform reports earnings again",
	WithheldNotRemitted: "cured: the worker's contributions are remitted",
}
