package crash

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// verify compares what the engines left in PostgreSQL with the reference.
func verify(t *testing.T, db *postgres.DB, ref *reference) {
	t.Helper()
	d := &diffs{t: t}

	// Every accepted event has exactly one entry (one scheme per platform),
	// with the reference's amounts; nothing else is in the ledger.
	type entryKey struct {
		postgres.EventKey
		Scheme string
	}
	got := map[postgres.EventKey]refEntry{}
	perScheme := map[entryKey]int{}
	var k entryKey
	var e refEntry
	queryRows(t, db, `SELECT platform_id, event_id, scheme_id, entry_kind, worker_id, period, worker_minor, platform_minor FROM ledger_entries`,
		[]any{&k.PlatformID, &k.EventID, &k.Scheme, &e.Kind, &e.WorkerID, &e.Period, &e.Worker, &e.Platform}, func() {
			perScheme[k]++
			if perScheme[k] == 2 {
				d.add("twice", "%s/%s has %d entries under %s", k.PlatformID, k.EventID, perScheme[k], k.Scheme)
			}
			got[k.EventKey] = e
		})
	for _, ek := range sortedKeys(ref.events) {
		want := ref.events[ek]
		g, ok := got[ek]
		switch {
		case !ok:
			d.add("lost", "%s/%s (%s) has no ledger entry", ek.PlatformID, ek.EventID, want.Kind)
		case g != want:
			d.add("amount", "%s/%s: ledger %+v, reference %+v", ek.PlatformID, ek.EventID, g, want)
			if len(d.kinds["amount"]) <= 2 {
				explain(t, db, ref, want.WorkerID)
			}
		}
	}
	for _, ek := range sortedKeys(got) {
		if _, ok := ref.events[ek]; !ok {
			d.add("extra", "%s/%s is in the ledger but not accepted by the reference: %+v", ek.PlatformID, ek.EventID, got[ek])
		}
	}

	// Totals per worker, platform and period.
	totals := map[totalKey]total{}
	var tk totalKey
	var tt total
	queryRows(t, db, `SELECT worker_id, platform_id, period, count(*), sum(worker_minor)::bigint, sum(platform_minor)::bigint
		FROM ledger_entries GROUP BY worker_id, platform_id, period`,
		[]any{&tk.WorkerID, &tk.PlatformID, &tk.Period, &tt.Entries, &tt.Worker, &tt.Platform}, func() { totals[tk] = tt })
	for _, key := range sortedKeys(union(ref.totals, totals)) {
		if ref.totals[key] != totals[key] {
			d.add("totals", "%+v: ledger %+v, reference %+v", key, totals[key], ref.totals[key])
		}
	}

	// The platforms' period balances add up to the same.
	type balKey struct{ PlatformID, Period string }
	wantBal, gotBal := map[balKey]total{}, map[balKey]total{}
	for key, v := range ref.totals {
		b := wantBal[balKey{key.PlatformID, key.Period}]
		b.Entries, b.Worker, b.Platform = b.Entries+v.Entries, b.Worker+v.Worker, b.Platform+v.Platform
		wantBal[balKey{key.PlatformID, key.Period}] = b
	}
	var bk balKey
	var bt total
	queryRows(t, db, `SELECT platform_id, period, sum(entries)::bigint, sum(worker_minor)::bigint, sum(platform_minor)::bigint
		FROM platform_period_balances GROUP BY platform_id, period`,
		[]any{&bk.PlatformID, &bk.Period, &bt.Entries, &bt.Worker, &bt.Platform}, func() { gotBal[bk] = bt })
	for _, key := range sortedKeys(union(wantBal, gotBal)) {
		if wantBal[key] != gotBal[key] {
			d.add("balances", "%+v: platform_period_balances %+v, reference %+v", key, gotBal[key], wantBal[key])
		}
	}

	// Recorded events: the accepted ones, once each.
	var events, ids int
	if err := db.Pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT (platform_id, event_id)) FROM earning_events`).Scan(&events, &ids); err != nil {
		t.Fatal(err)
	}
	if events != ref.accepted || ids != ref.accepted {
		d.add("events", "earning_events has %d rows for %d ids, reference accepted %d", events, ids, ref.accepted)
	}

	// Rejections: every conflicting message, with code conflict, and nothing
	// else.
	rejected := map[postgres.EventKey]int{}
	var rk postgres.EventKey
	var code string
	var n int
	queryRows(t, db, `SELECT platform_id, event_id, code, count(*) FROM rejected_events GROUP BY platform_id, event_id, code`,
		[]any{&rk.PlatformID, &rk.EventID, &code, &n}, func() {
			if code != gateway.ECONFLICT {
				d.add("rejected", "%s/%s rejected %d times with code %q", rk.PlatformID, rk.EventID, n, code)
				return
			}
			rejected[rk] = n
		})
	for _, key := range sortedKeys(union(ref.conflicts, rejected)) {
		if ref.conflicts[key] != rejected[key] {
			d.add("conflicts", "%s/%s: %d conflict rejections, reference %d", key.PlatformID, key.EventID, rejected[key], ref.conflicts[key])
		}
	}

	// Running totals: the engine's worker periods equal the reference's.
	states := map[postgres.WorkerPeriodKey]gateway.PeriodState{}
	var sk postgres.WorkerPeriodKey
	var s gateway.PeriodState
	var cur string
	queryRows(t, db, `SELECT worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base, insured, orders,
		units, worker_minor, platform_minor, settled_worker, settled_platform FROM worker_periods`,
		[]any{&sk.WorkerID, &sk.PlatformID, &sk.SchemeID, &sk.PlanID, &sk.Period, &cur, &s.Events, &s.Gross, &s.Base,
			&s.Insured, &s.Orders, &s.Units, &s.Worker, &s.Platform, &s.SettledWorker, &s.SettledPlatform}, func() {
			st := s
			st.Period, st.Currency = sk.Period, gateway.Currency(strings.TrimSpace(cur))
			if st.Currency == "" {
				st = gateway.PeriodState{} // the state of a period whose events were all reversed
			}
			states[sk] = st
		})
	for _, key := range sortedKeys(union(ref.states, states)) {
		if ref.states[key] != states[key] {
			d.add("states", "%+v: worker_periods %+v, reference %+v", key, states[key], ref.states[key])
		}
	}
	d.report()
	if !t.Failed() {
		t.Logf("ledger equals the reference: %d entries for %d events, %d totals per worker, platform and period, %d conflicts rejected, %d running totals",
			len(got), ref.accepted, len(totals), ref.conflictMessages(), len(states))
	}
}

// diffs collects differences by kind and reports a few of each.
type diffs struct {
	t     *testing.T
	kinds map[string][]string
}

func (d *diffs) add(kind, format string, args ...any) {
	if d.kinds == nil {
		d.kinds = map[string][]string{}
	}
	d.kinds[kind] = append(d.kinds[kind], fmt.Sprintf(format, args...))
}

func (d *diffs) report() {
	d.t.Helper()
	for _, kind := range sortedKeys(d.kinds) {
		list := d.kinds[kind]
		for _, s := range list[:min(len(list), 10)] {
			d.t.Errorf("%s: %s", kind, s)
		}
		if len(list) > 10 {
			d.t.Errorf("%s: %d differences in all", kind, len(list))
		}
	}
}

func union[K comparable, V any](a, b map[K]V) map[K]bool {
	out := make(map[K]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// sortedKeys returns a map's keys in the order of their printed form.
func sortedKeys[K comparable, V any](m map[K]V) []K {
	type named struct {
		k    K
		name string
	}
	list := make([]named, 0, len(m))
	for k := range maps.Keys(m) {
		list = append(list, named{k, fmt.Sprint(k)})
	}
	slices.SortFunc(list, func(a, b named) int { return cmp.Compare(a.name, b.name) })
	keys := make([]K, len(list))
	for i, n := range list {
		keys[i] = n.k
	}
	return keys
}

// explain logs a worker's messages as produced and its ledger entries as
// recorded.
func explain(t *testing.T, db *postgres.DB, ref *reference, worker string) {
	t.Helper()
	t.Logf("worker %s, as produced:\n\t%s", worker, strings.Join(ref.history[worker], "\n\t"))
	var lines []string
	var id, off int64
	var part int
	var platform, event, kind, period string
	var amount int64
	queryRows(t, db, `SELECT id, platform_id, event_id, entry_kind, period, worker_minor, source_partition, source_offset
		FROM ledger_entries WHERE worker_id = '`+worker+`' ORDER BY id`,
		[]any{&id, &platform, &event, &kind, &period, &amount, &part, &off}, func() {
			lines = append(lines, fmt.Sprintf("entry %d: %s/%s %s in %s: worker %d (partition %d offset %d)", id, platform, event, kind, period, amount, part, off))
		})
	t.Logf("worker %s, in the ledger:\n\t%s", worker, strings.Join(lines, "\n\t"))
}
