package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// TestLookupPlans checks that each statement that looks rows up by key
// probes the key's index, once per key, whatever PostgreSQL knows of the
// tables: in the plan it keeps for a prepared statement (the generic plan)
// made while the tables are empty, as when the gateway starts on a new
// database, and in the plan it makes for 2,000 keys against tables of
// 20,000 rows. Written as joins, the statements were run by hashing the
// keys and scanning the whole table on every call; and another index on
// the same leading column was taken for the API's retry check.
func TestLookupPlans(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	want := map[string][]string{
		"recorded hashes": {"earning_events_pkey"},
		"recorded":        {"earning_events_pkey"},
		"entries":         {"ledger_entries_event_key", "ledger_entries_reversal_key", "suspense_transfers_entry_key"},
		"registrations":   {"registrations_ref_idx"},
		"states":          {"worker_periods_pkey"},
		"relay entries":   {"ledger_entries_source_idx"},
		"relay event":     {"ledger_entries_source_idx"},
		"list recorded":   {"earning_events_recorded_idx"},
		"list rejected":   {"rejected_events_rejected_idx"},
		"rejection":       {"rejected_events_event_idx"},
		"rejections page": {"rejected_events_platform_idx"},
	}
	// args are each statement's parameters for keys a0, a1, ...
	args := func(name string, keys int) string {
		ids := make([]string, keys)
		platforms := make([]string, keys)
		for i := range ids {
			ids[i], platforms[i] = fmt.Sprintf("a%d", i), "p"
		}
		p, k := "'{"+strings.Join(platforms, ",")+"}'", "'{"+strings.Join(ids, ",")+"}'"
		switch name {
		case "recorded hashes":
			return "('p', " + k + ")"
		case "states": // the workers' periods of 2026-10, every other key a group (no platform)
			workers, groups, schemes, plans, periods := make([]string, keys), make([]string, keys), make([]string, keys),
				make([]string, keys), make([]string, keys)
			for i := range keys {
				workers[i], schemes[i], plans[i], periods[i] = fmt.Sprintf("wa%d", i), "my-gig", "s83", "2026-10"
				if i%2 == 0 {
					groups[i] = "p"
				} else {
					groups[i] = `""`
				}
			}
			arr := func(xs []string) string { return "'{" + strings.Join(xs, ",") + "}'" }
			return "(" + arr(workers) + ", " + arr(groups) + ", " + arr(schemes) + ", " + arr(plans) + ", " + arr(periods) + ")"
		case "relay entries": // partition 0 from offset 100
			return "(0, 100, 2000)"
		case "relay event":
			return "(0, 100)"
		case "list recorded": // a page from the start
			return "('p', '-infinity', 'infinity', '-infinity', false, '', 100)"
		case "rejection": // of one event
			return "('p', 'x7')"
		case "rejections page": // the newest 100
			return "('p', 9223372036854775807, 100)"
		case "list rejected":
			return "('p', '-infinity', 'infinity', '-infinity', false, 0, 100)"
		}
		return "(" + p + ", " + k + ")"
	}
	check := func(t *testing.T, mode string, keys int) {
		conn, err := db.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, `SET plan_cache_mode = `+mode); err != nil {
			t.Fatal(err)
		}
		for name, sql := range postgres.LookupStatements {
			stmt := strings.ReplaceAll(name, " ", "_")
			if _, err := conn.Exec(ctx, `PREPARE `+stmt+` AS `+sql); err != nil {
				t.Fatal(err)
			}
			plan := explain(t, conn, `EXPLAIN EXECUTE `+stmt+args(name, keys))
			if _, err := conn.Exec(ctx, `DEALLOCATE `+stmt); err != nil {
				t.Fatal(err)
			}
			for _, index := range want[name] {
				if !strings.Contains(plan, index) {
					t.Errorf("%s: the plan does not probe %s:\n%s", name, index, plan)
				}
			}
			if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Hash Join") || strings.Contains(plan, "Merge Join") {
				t.Errorf("%s: the plan scans a table:\n%s", name, plan)
			}
		}
	}
	t.Run("empty tables, generic plans", func(t *testing.T) { check(t, "force_generic_plan", 2) })

	for _, q := range []string{
		`INSERT INTO platforms (id, name, country, currency, active_from) VALUES ('p', 'p', 'MY', 'MYR', '2026-01-01')`,
		`INSERT INTO workers (worker_key, country, national_id) SELECT 'w' || i, 'MY', '\x00' FROM generate_series(1, 20000) i`,
		`INSERT INTO registrations (platform_id, worker_ref, worker_key, scheme_id, change, effective, request_hash)
		 SELECT 'p', 'a' || i, 'w' || i, 'my-gig', 'start', '2026-01-01', '\x00' FROM generate_series(1, 20000) i`,
		`INSERT INTO earning_events (platform_id, event_id, worker_ref, kind, occurred_at, currency, gross_minor, payload,
		        payload_hash, source_topic, source_partition, source_offset, recorded_at)
		 SELECT 'p', 'a' || i, 'a' || i, 'earning', '2026-10-01', 'MYR', 100, '{}', '\x00', 'earnings', i % 6, i,
		        timestamptz '2026-10-01' + i * interval '1 second' FROM generate_series(1, 20000) i`,
		`INSERT INTO rejected_events (platform_id, event_id, code, message, payload, source_topic, source_partition, source_offset, rejected_at)
		 SELECT CASE WHEN i % 50 = 0 THEN 'p' ELSE 'q' END, 'x' || i, 'invalid', 'bad', '\x00', 'earnings', i % 6, i,
		        timestamptz '2026-10-01' + i * interval '1 second'
		 FROM generate_series(1, 20000) i`,
		`INSERT INTO ledger_entries (platform_id, event_id, worker_id, scheme_id, plan_id, plan_version, period, booked_period,
		        entry_kind, late, currency, worker_minor, platform_minor, gross_minor, base_minor, insured_minor, orders, units,
		        flags, source_partition, source_offset)
		 SELECT 'p', 'a' || i, 'w' || i, 'my-gig', 's83', 1, '2026-10', '2026-10', 'deduction', false, 'MYR', 1, 0, 100, 100, 100,
		        1, 0, 0, i % 6, i FROM generate_series(1, 20000) i`,
		`INSERT INTO worker_periods (worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base, insured,
		        orders, units, worker_minor, platform_minor)
		 SELECT 'wa' || i, 'p', 'my-gig', 's83', '2026-' || lpad(m::text, 2, '0'), 'MYR', 1, 100, 100, 100, 1, 0, 1, 0
		 FROM generate_series(1, 20000) i, generate_series(1, 3) m`,
		`INSERT INTO suspense_transfers (entry_id, registration_id, platform_id, scheme_id, worker_ref, from_worker_id, to_worker_id,
		        plan_id, period, booked_period, currency, gross_minor, worker_minor, platform_minor)
		 SELECT l.id, r.id, 'p', 'my-gig', r.worker_ref, 'ref:p:' || r.worker_ref, r.worker_key, 's83', '2026-10', '2026-10', 'MYR', 100, 1, 0
		 FROM ledger_entries l JOIN registrations r ON r.worker_key = l.worker_id`,
		`ANALYZE`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Run("20,000 rows, 2,000 keys", func(t *testing.T) { check(t, "force_custom_plan", 2000) })
}

func explain(t *testing.T, conn *pgxpool.Conn, query string) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
