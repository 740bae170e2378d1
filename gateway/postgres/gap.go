package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/gaps"
)

// gapLock serialises gap detection, notices and people's changes of gaps,
// so detection never overwrites a change made while it ran.
var gapLock = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("gaps"))
	return int64(h.Sum64())
}()

// Detection triggers.
const (
	GapTriggerSchedule = "schedule"
	GapTriggerManual   = "manual"
	GapTriggerCommand  = "command"
)

// GapDetection is what one detection did.
type GapDetection struct {
	ID       int64
	Trigger  string
	RunID    int64 // the matching run read; 0 before the first
	AsOf     time.Time
	Found    int // findings
	Opened   int
	Updated  int // amounts, interest or severity changed
	Cured    int
	Reopened int
	Duration time.Duration
	// Of which: reading the facts and the stored gaps, planning, writing.
	Read, Plan, Write time.Duration
	// Stages is the time of each step: the reads (outcomes, suspense,
	// unregistered, activity, withheld, stored), plan, and the writes
	// (insert, history, update).
	Stages map[string]time.Duration
	Kinds  map[gaps.Kind]int // findings by kind
}

// DetectGaps finds the gaps as of now and makes the stored gaps agree (see
// gaps.Config.Plan), in one transaction holding the gaps' lock. Running it
// again over the same data changes nothing.
func (db *DB) DetectGaps(ctx context.Context, trigger string, cfg gaps.Config, now time.Time) (GapDetection, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return GapDetection{}, err
	}
	start := time.Now()
	now = now.UTC()
	rep := GapDetection{Trigger: trigger, AsOf: now, Kinds: map[gaps.Kind]int{}, Stages: map[string]time.Duration{}}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, gapLock); err != nil {
			return fmt.Errorf("lock gaps: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM reconciliation_runs`).Scan(&rep.RunID); err != nil {
			return fmt.Errorf("read the latest run: %w", err)
		}
		lap := time.Now()
		stage := func(name string) {
			t := time.Now()
			rep.Stages[name], lap = t.Sub(lap), t
		}
		found, err := findGaps(ctx, tx, cfg, now, stage)
		if err != nil {
			return err
		}
		rep.Found = len(found)
		for i := range found {
			rep.Kinds[found[i].Kind]++
		}
		stored, err := gapStates(ctx, tx)
		if err != nil {
			return err
		}
		stage("stored")
		t := time.Now()
		rep.Read = t.Sub(start)
		changes := cfg.Plan(stored, found, now)
		rep.Plan = time.Since(t)
		stage("plan")
		for _, ch := range changes {
			switch ch.Action {
			case gaps.Detected:
				rep.Opened++
			case gaps.Updated:
				rep.Updated++
			case gaps.Cured:
				rep.Cured++
			case gaps.Reopened:
				rep.Reopened++
			}
		}
		t = time.Now()
		if err := applyGapChanges(ctx, tx, changes, now, stage); err != nil {
			return err
		}
		rep.Write = time.Since(t)
		var run *int64
		if rep.RunID > 0 {
			run = &rep.RunID
		}
		rep.Duration = time.Since(start)
		return tx.QueryRow(ctx, `
			INSERT INTO gap_detections (trigger, run_id, as_of, started_at, finished_at, found, opened, updated, cured, reopened)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			trigger, run, now, start.UTC(), time.Now().UTC(), rep.Found, rep.Opened, rep.Updated, rep.Cured, rep.Reopened).Scan(&rep.ID)
	})
	if err != nil {
		return GapDetection{}, fmt.Errorf("detect gaps: %w", err)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// DetectGapsIfStale runs DetectGaps when a matching run finished since
// the last detection, or the last detection is older than maxAge, once
// across processes: a process that does not get the lock does nothing. It
// is the scheduler's gap job; ran reports whether it detected.
func (db *DB) DetectGapsIfStale(ctx context.Context, cfg gaps.Config, now time.Time, maxAge time.Duration) (rep GapDetection, ran bool, err error) {
	release, ok, err := db.TryLeader(ctx, "detect-gaps")
	if err != nil || !ok {
		return rep, false, err
	}
	defer release()
	var stale bool
	err = db.Pool.QueryRow(ctx, `
		SELECT coalesce((SELECT max(id) FROM reconciliation_runs), 0) > coalesce(d.run_id, 0) OR d.as_of IS NULL OR d.as_of < $1
		FROM (SELECT NULL) AS one
		LEFT JOIN LATERAL (SELECT run_id, as_of FROM gap_detections ORDER BY id DESC LIMIT 1) d ON true`,
		now.Add(-maxAge)).Scan(&stale)
	if err != nil || !stale {
		return rep, false, err
	}
	rep, err = db.DetectGaps(ctx, GapTriggerSchedule, cfg, now)
	return rep, err == nil, err
}

// findGaps reads the facts the rules look at and returns the findings.
func findGaps(ctx context.Context, tx pgx.Tx, cfg gaps.Config, now time.Time, stage func(string)) ([]gaps.Finding, error) {
	var found []gaps.Finding
	// Outcomes of the latest matching run, with their advice mismatches
	// added up.
	rows, err := tx.Query(ctx, `
		SELECT o.platform_id, o.scheme_id, o.period, trim(o.currency), o.status, o.due_minor, o.paid_minor, o.shortfall_minor,
		       o.due_date::timestamptz, o.late, o.interest_minor, o.accrued_minor, o.run_id,
		       ARRAY(SELECT s->>'id' FROM jsonb_array_elements(o.statements) s), o.mismatches,
		       coalesce(m.amount, 0), coalesce(m.workers, '{}'),
		       CASE WHEN o.mismatches > 0 THEN ARRAY(
		           SELECT DISTINCT a::text FROM advice_mismatches x CROSS JOIN unnest(x.advice_ids) a
		           WHERE x.platform_id = o.platform_id AND x.scheme_id = o.scheme_id AND x.period = o.period ORDER BY 1 LIMIT 10)
		       ELSE '{}' END
		FROM reconciliation_outcomes o
		LEFT JOIN LATERAL (
		    SELECT sum(abs(x.stated_minor - x.advised_minor))::bigint AS amount,
		           (array_agg(x.worker_key ORDER BY x.position))[1:10] AS workers
		    FROM advice_mismatches x
		    WHERE o.mismatches > 0 AND x.platform_id = o.platform_id AND x.scheme_id = o.scheme_id AND x.period = o.period) m ON true
		WHERE o.status IN ('underpaid', 'missing') OR o.late OR o.mismatches > 0
		ORDER BY o.platform_id, o.scheme_id, o.period`)
	if err != nil {
		return nil, fmt.Errorf("read outcomes: %w", err)
	}
	var o gaps.Outcome
	var cur string
	_, err = pgx.ForEachRow(rows, []any{&o.PlatformID, &o.SchemeID, &o.Period, &cur, &o.Status, &o.Due, &o.Paid, &o.Shortfall,
		&o.DueDate, &o.Late, &o.Interest, &o.Accrued, &o.RunID, &o.Statements, &o.Mismatches, &o.MismatchAmount,
		&o.MismatchWorkers, &o.MismatchAdvices}, func() error {
		o.Currency, o.DueDate = gateway.Currency(cur), o.DueDate.UTC()
		found = append(found, gaps.FromOutcome(&o)...)
		o = gaps.Outcome{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outcomes: %w", err)
	}

	stage("outcomes")

	// Money in suspense.
	rows, err = tx.Query(ctx, `
		SELECT s.receipt_id::text, trim(s.currency), s.amount_minor, s.reason,
		       coalesce(r.value_date::timestamptz, r.booking_date::timestamptz, i.imported_at), r.creditor_ref, r.debtor_name, s.run_id
		FROM suspense_items s JOIN receipts r ON r.id = s.receipt_id
		JOIN bank_statements b ON b.id = r.bank_statement_id JOIN bank_imports i ON i.id = b.import_id
		ORDER BY s.receipt_id`)
	if err != nil {
		return nil, fmt.Errorf("read suspense: %w", err)
	}
	var s gaps.Suspense
	_, err = pgx.ForEachRow(rows, []any{&s.ReceiptID, &cur, &s.Amount, &s.Reason, &s.Date, &s.CreditorRef, &s.DebtorName, &s.RunID}, func() error {
		s.Currency, s.Date = gateway.Currency(cur), s.Date.UTC()
		found = append(found, gaps.FromSuspense(&s))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read suspense: %w", err)
	}

	stage("suspense")

	// Earnings of workers the platform had not registered, still in
	// suspense (not moved to a worker by a registration), and whether a
	// registration exists now.
	rows, err = tx.Query(ctx, `
		SELECT l.platform_id, l.scheme_id, l.period, l.worker_id, trim(l.currency),
		       sum(l.worker_minor + l.platform_minor)::bigint, count(*), min(l.created_at),
		       (array_agg(l.event_id ORDER BY l.id))[1:5],
		       EXISTS (SELECT 1 FROM registrations r
		               WHERE r.platform_id = l.platform_id AND r.worker_ref = substr(l.worker_id, length(l.platform_id) + 6)
		                 AND l.worker_id LIKE 'ref:%' AND r.scheme_id = l.scheme_id AND r.change = 'start')
		       OR EXISTS (SELECT 1 FROM registrations r
		               WHERE r.worker_key = l.worker_id AND r.platform_id = l.platform_id AND r.scheme_id = l.scheme_id
		                 AND r.change = 'start')
		FROM ledger_entries l
		WHERE NOT l.registered AND NOT EXISTS (SELECT 1 FROM suspense_transfers t WHERE t.entry_id = l.id)
		GROUP BY l.platform_id, l.scheme_id, l.period, l.worker_id, l.currency
		ORDER BY 1, 2, 3, 4`)
	if err != nil {
		return nil, fmt.Errorf("read unregistered earnings: %w", err)
	}
	var u gaps.Unregistered
	_, err = pgx.ForEachRow(rows, []any{&u.PlatformID, &u.SchemeID, &u.Period, &u.Worker, &cur, &u.Amount, &u.Entries, &u.First,
		&u.Events, &u.Registered}, func() error {
		u.Currency, u.First = gateway.Currency(cur), u.First.UTC()
		if f, ok := gaps.FromUnregistered(&u); ok {
			found = append(found, f)
		}
		u.Events = nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read unregistered earnings: %w", err)
	}

	stage("unregistered")

	// Each platform's entries recorded in the quiet and trailing windows.
	trailing, recent := cfg.Windows(now)
	rows, err = tx.Query(ctx, `
		WITH w AS (
		    SELECT platform_id,
		           count(*) FILTER (WHERE created_at >= $2) AS recent,
		           count(*) FILTER (WHERE created_at < $2) AS trailing,
		           coalesce(sum(worker_minor + platform_minor) FILTER (WHERE created_at >= $2), 0)::bigint AS recent_amount,
		           coalesce(sum(worker_minor + platform_minor) FILTER (WHERE created_at < $2), 0)::bigint AS trailing_amount
		    FROM ledger_entries WHERE created_at >= $1 AND created_at < $3
		    GROUP BY platform_id),
		b AS (SELECT platform_id, max(period) AS last_period FROM platform_period_balances WHERE entries > 0 GROUP BY platform_id)
		SELECT p.id, trim(p.currency), b.last_period IS NOT NULL OR w.platform_id IS NOT NULL, coalesce(b.last_period, ''),
		       coalesce(w.recent, 0), coalesce(w.trailing, 0), coalesce(w.recent_amount, 0), coalesce(w.trailing_amount, 0)
		FROM platforms p LEFT JOIN b ON b.platform_id = p.id LEFT JOIN w ON w.platform_id = p.id
		ORDER BY p.id`, trailing, recent, now)
	if err != nil {
		return nil, fmt.Errorf("read activity: %w", err)
	}
	var a gaps.Activity
	_, err = pgx.ForEachRow(rows, []any{&a.PlatformID, &cur, &a.Earned, &a.LastPeriod, &a.Recent, &a.Trailing, &a.RecentAmount,
		&a.TrailingAmount}, func() error {
		a.Currency = gateway.Currency(cur)
		if f, ok := cfg.FromActivity(&a, now); ok {
			found = append(found, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read activity: %w", err)
	}

	stage("activity")

	// Per worker, what was withheld in periods underpaid or missing past
	// their due date and is not covered: each line's worker share times
	// its statement's open part over its total, rounded down, added up
	// over the period's statements (exact 128-bit arithmetic in Go).
	rows, err = tx.Query(ctx, `
		SELECT o.platform_id, o.scheme_id, o.period, trim(o.currency), o.due_date::timestamptz, o.run_id,
		       st->>'id', (st->>'open_minor')::bigint, (st->>'total_minor')::bigint, l.worker_key, l.worker_minor
		FROM reconciliation_outcomes o
		CROSS JOIN LATERAL jsonb_array_elements(o.statements) st
		JOIN statement_lines l ON l.statement_id = st->>'id'
		WHERE o.status IN ('underpaid', 'missing') AND (st->>'open_minor')::bigint > 0 AND (st->>'total_minor')::bigint > 0
		  AND l.worker_minor > 0
		ORDER BY o.platform_id, o.scheme_id, o.period, l.worker_key, st->>'id'`)
	if err != nil {
		return nil, fmt.Errorf("read withheld contributions: %w", err)
	}
	var w, next gaps.Withheld
	var stID string
	var open, total, share int64
	flush := func() {
		if f, ok := gaps.FromWithheld(&w); ok {
			found = append(found, f)
		}
	}
	_, err = pgx.ForEachRow(rows, []any{&next.PlatformID, &next.SchemeID, &next.Period, &cur, &next.DueDate, &next.RunID, &stID,
		&open, &total, &next.WorkerKey, &share}, func() error {
		if next.WorkerKey != w.WorkerKey || next.Period != w.Period || next.PlatformID != w.PlatformID || next.SchemeID != w.SchemeID {
			flush()
			w = next
			w.Currency, w.DueDate, w.Amount, w.Statements = gateway.Currency(cur), next.DueDate.UTC(), 0, nil
		}
		w.Amount += uncovered(share, open, total)
		w.Statements = append(w.Statements, stID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read withheld contributions: %w", err)
	}
	flush()
	stage("withheld")
	return found, nil
}

// gapStates reads every stored gap as Plan needs it.
func gapStates(ctx context.Context, tx pgx.Tx) ([]gaps.State, error) {
	rows, err := tx.Query(ctx, `SELECT id, kind, platform_id, scheme_id, period, subject, status, cured, digest, amount_minor,
		interest_minor, severity, since FROM gaps`)
	if err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	var out []gaps.State
	var g gaps.State
	_, err = pgx.ForEachRow(rows, []any{&g.ID, &g.Key.Kind, &g.Key.PlatformID, &g.Key.SchemeID, &g.Key.Period, &g.Key.Subject,
		&g.Status, &g.Cured, &g.Digest, &g.Amount, &g.Interest, &g.Severity, &g.Since}, func() error {
		out = append(out, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	return out, nil
}

// applyGapChanges writes a plan: new gaps and their first history entries
// are copied straight into their tables; changes of stored gaps go to a
// staging table in one COPY, then a few statements update them and record
// their history.
func applyGapChanges(ctx context.Context, tx pgx.Tx, changes []gaps.Change, now time.Time, stage func(string)) error {
	var fresh, stored [][]any
	var freshChanges []*gaps.Change
	for i := range changes {
		ch := &changes[i]
		var f gaps.Finding
		if ch.Finding != nil {
			f = *ch.Finding
		}
		var ev any
		if ch.Finding != nil {
			b, err := json.Marshal(f.Evidence)
			if err != nil {
				return err
			}
			ev = string(b)
		}
		if ch.ID == 0 {
			fresh = append(fresh, []any{string(f.Kind), f.PlatformID, f.SchemeID, f.Period, f.Subject, string(f.Currency), f.Amount,
				f.Interest, string(ch.Severity), f.Since, ev, ch.Digest, string(ch.Status), now, now})
			freshChanges = append(freshChanges, ch)
			continue
		}
		row := []any{ch.ID, nil, nil, nil, nil, string(ch.Severity), ch.Digest, string(ch.Status), string(ch.From), ch.Cured,
			string(ch.Action), ch.Note, ch.Finding != nil}
		if ch.Finding != nil {
			row[1], row[2], row[3], row[4] = string(f.Currency), f.Amount, f.Interest, f.Since
		}
		row = append(row, ev)
		stored = append(stored, row)
	}
	if len(fresh) > 0 {
		// Ids are drawn first, so that the gaps and their first history
		// entries are two COPYs (COPY writes identity values given).
		rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('gaps', 'id')) FROM generate_series(1, $1)`, len(fresh))
		if err != nil {
			return fmt.Errorf("write new gaps: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("write new gaps: %w", err)
		}
		history := make([][]any, len(fresh))
		for i, row := range fresh {
			ch := freshChanges[i]
			history[i] = []any{ids[i], now, "detection", string(gaps.Detected), string(ch.Status), ch.Finding.Amount,
				string(ch.Severity), ch.Note}
			fresh[i] = append([]any{ids[i]}, row...)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"gaps"}, []string{"id", "kind", "platform_id", "scheme_id", "period", "subject",
			"currency", "amount_minor", "interest_minor", "severity", "since", "evidence", "digest", "status", "detected_at",
			"updated_at"}, pgx.CopyFromRows(fresh))
		if err != nil {
			return fmt.Errorf("write new gaps: %w", err)
		}
		stage("insert")
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"gap_history"}, []string{"gap_id", "at", "actor", "action", "to_status",
			"amount_minor", "severity", "note"}, pgx.CopyFromRows(history))
		if err != nil {
			return fmt.Errorf("write new gaps: %w", err)
		}
		stage("history")
	}
	if len(stored) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE gap_changes (
		    id bigint, currency text, amount_minor bigint, interest_minor bigint, since timestamptz, severity text, digest bigint,
		    status text, from_status text, cured boolean, action text, note text, found boolean, evidence text
		) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("stage gap changes: %w", err)
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"gap_changes"}, []string{"id", "currency", "amount_minor", "interest_minor", "since",
		"severity", "digest", "status", "from_status", "cured", "action", "note", "found", "evidence"}, pgx.CopyFromRows(stored))
	if err != nil {
		return fmt.Errorf("stage gap changes: %w", err)
	}
	// A temporary table has no statistics until analyzed; without them
	// the joins below would not use the gaps' key.
	if _, err := tx.Exec(ctx, `ANALYZE gap_changes`); err != nil {
		return fmt.Errorf("stage gap changes: %w", err)
	}
	for _, q := range []string{
		`UPDATE gaps g SET currency = c.currency, amount_minor = c.amount_minor, interest_minor = c.interest_minor,
		        severity = c.severity, since = c.since, evidence = c.evidence::json, digest = c.digest, status = c.status,
		        cured = false, updated_at = $1
		 FROM gap_changes c WHERE c.id = g.id AND c.found`,
		`UPDATE gaps g SET status = c.status, cured = true, updated_at = $1
		 FROM gap_changes c WHERE c.id = g.id AND NOT c.found`,
		`INSERT INTO gap_history (gap_id, at, actor, action, from_status, to_status, amount_minor, severity, note)
		 SELECT id, $1, 'detection', action, from_status, CASE WHEN from_status <> '' THEN status ELSE '' END,
		        amount_minor, severity, note
		 FROM gap_changes WHERE action <> '' ORDER BY id`,
	} {
		if _, err := tx.Exec(ctx, q, now); err != nil {
			return fmt.Errorf("write gap changes: %w", err)
		}
	}
	stage("update")
	return nil
}

// Gap is a stored gap.
type Gap struct {
	ID int64
	gaps.Key
	Currency   gateway.Currency
	Amount     int64
	Interest   int64
	Severity   gaps.Severity
	Since      time.Time
	Evidence   gaps.Evidence
	Status     gaps.Status
	Cured      bool // detection last found its cause gone
	Assignee   string
	Reason     string // why it was waived or resolved by hand
	DetectedAt time.Time
	UpdatedAt  time.Time
}

// GapEvent is one entry of a gap's history.
type GapEvent struct {
	ID       int64
	At       time.Time
	Actor    string // "detection" or the key that made the change
	Action   string // detected, updated, cured, reopened, returned, status, assigned, note or notice
	From, To gaps.Status
	Amount   *int64
	Severity gaps.Severity
	Note     string
}

const gapColumns = `id, kind, platform_id, scheme_id, period, subject, trim(currency), amount_minor, interest_minor, severity, since,
	evidence, status, cured, assignee, reason, detected_at, updated_at`

func scanGap(row pgx.CollectableRow) (Gap, error) {
	var g Gap
	var ev []byte
	err := row.Scan(&g.ID, &g.Kind, &g.PlatformID, &g.SchemeID, &g.Period, &g.Subject, &g.Currency, &g.Amount, &g.Interest,
		&g.Severity, &g.Since, &ev, &g.Status, &g.Cured, &g.Assignee, &g.Reason, &g.DetectedAt, &g.UpdatedAt)
	if err != nil {
		return g, err
	}
	g.Since, g.DetectedAt, g.UpdatedAt = g.Since.UTC(), g.DetectedAt.UTC(), g.UpdatedAt.UTC()
	return g, json.Unmarshal(ev, &g.Evidence)
}

// GapFilter selects gaps; empty fields select all. Gaps come by id, after
// After, at most Limit (default 100).
type GapFilter struct {
	Kind       gaps.Kind
	Status     gaps.Status
	PlatformID string
	SchemeID   string
	Period     string
	Assignee   string
	Severity   gaps.Severity
	After      int64
	Limit      int
}

// Gaps returns the gaps the filter selects, by id.
func (db *DB) Gaps(ctx context.Context, f GapFilter) ([]Gap, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+gapColumns+` FROM gaps
		WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR platform_id = $3) AND ($4 = '' OR scheme_id = $4)
		  AND ($5 = '' OR period = $5) AND ($6 = '' OR assignee = $6) AND ($7 = '' OR severity = $7) AND id > $8
		ORDER BY id LIMIT $9`, string(f.Kind), string(f.Status), f.PlatformID, f.SchemeID, f.Period, f.Assignee, string(f.Severity),
		f.After, limitOr(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	return pgx.CollectRows(rows, scanGap)
}

func limitOr(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}

// Worklist returns the gaps still being worked (open, acknowledged,
// notice_sent), the most at stake (amount and interest) first, then the
// oldest; offset skips that many.
func (db *DB) Worklist(ctx context.Context, platformID string, offset, limit int) ([]Gap, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+gapColumns+` FROM gaps
		WHERE status IN ('open', 'acknowledged', 'notice_sent') AND ($1 = '' OR platform_id = $1)
		ORDER BY amount_minor + interest_minor DESC, since, id OFFSET $2 LIMIT $3`, platformID, max(offset, 0), limitOr(limit))
	if err != nil {
		return nil, fmt.Errorf("read the worklist: %w", err)
	}
	return pgx.CollectRows(rows, scanGap)
}

// Gap returns one gap with its history, oldest first; ENOTFOUND when
// there is none.
func (db *DB) Gap(ctx context.Context, id int64) (Gap, []GapEvent, error) {
	return gapWithHistory(ctx, db.Pool, id)
}

func gapWithHistory(ctx context.Context, q querier, id int64) (Gap, []GapEvent, error) {
	rows, err := q.Query(ctx, `SELECT `+gapColumns+` FROM gaps WHERE id = $1`, id)
	if err != nil {
		return Gap{}, nil, fmt.Errorf("read gap %d: %w", id, err)
	}
	g, err := pgx.CollectExactlyOneRow(rows, scanGap)
	if errors.Is(err, pgx.ErrNoRows) {
		return Gap{}, nil, gateway.Errorf(gateway.ENOTFOUND, "no gap %d", id)
	}
	if err != nil {
		return Gap{}, nil, fmt.Errorf("read gap %d: %w", id, err)
	}
	rows, err = q.Query(ctx, `SELECT id, at, actor, action, from_status, to_status, amount_minor, severity, note
		FROM gap_history WHERE gap_id = $1 ORDER BY id`, id)
	if err != nil {
		return Gap{}, nil, fmt.Errorf("read gap %d history: %w", id, err)
	}
	hist, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GapEvent, error) {
		var e GapEvent
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.From, &e.To, &e.Amount, &e.Severity, &e.Note)
		e.At = e.At.UTC()
		return e, err
	})
	return g, hist, err
}

// GapChange is a person's change of a gap.
type GapChange struct {
	Status   gaps.Status // SetGapStatus
	Reason   string      // why: needed to waive
	Assignee string      // AssignGap; "" unassigns
	Note     string      // AddGapNote
	By       string      // who, for the history
	At       time.Time
}

// SetGapStatus moves a gap to another status, as gaps.Transition allows,
// and records it in the history. The same status again changes nothing.
// Errors: ENOTFOUND, EINVALID naming status or reason.
func (db *DB) SetGapStatus(ctx context.Context, id int64, c GapChange) (Gap, []GapEvent, error) {
	return db.changeGap(ctx, id, func(tx pgx.Tx, g *Gap) error {
		if err := gaps.Transition(g.Status, c.Status, c.Reason); err != nil || g.Status == c.Status {
			return err
		}
		reason := strings.TrimSpace(c.Reason)
		if _, err := tx.Exec(ctx, `UPDATE gaps SET status = $2, reason = $3, updated_at = $4 WHERE id = $1`, id, c.Status, reason, c.At); err != nil {
			return err
		}
		return addHistory(ctx, tx, id, c, "status", g.Status, c.Status, reason)
	})
}

// AssignGap gives a gap to a person ("" to nobody). Errors: ENOTFOUND,
// EINVALID for an assignee over 200 characters.
func (db *DB) AssignGap(ctx context.Context, id int64, c GapChange) (Gap, []GapEvent, error) {
	c.Assignee = strings.TrimSpace(c.Assignee)
	if len(c.Assignee) > 200 {
		return Gap{}, nil, gateway.Invalid("assignee", "too_long", "an assignee is at most 200 characters")
	}
	return db.changeGap(ctx, id, func(tx pgx.Tx, g *Gap) error {
		if g.Assignee == c.Assignee {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE gaps SET assignee = $2, updated_at = $3 WHERE id = $1`, id, c.Assignee, c.At); err != nil {
			return err
		}
		return addHistory(ctx, tx, id, c, "assigned", "", "", c.Assignee)
	})
}

// AddGapNote adds a note to a gap's history. The same note by the same
// person right after the last is not added twice. Errors: ENOTFOUND,
// EINVALID for an empty note or one over 4,000 characters.
func (db *DB) AddGapNote(ctx context.Context, id int64, c GapChange) (Gap, []GapEvent, error) {
	c.Note = strings.TrimSpace(c.Note)
	switch {
	case c.Note == "":
		return Gap{}, nil, gateway.Invalid("note", "required", "a note needs text")
	case len(c.Note) > 4000:
		return Gap{}, nil, gateway.Invalid("note", "too_long", "a note is at most 4,000 characters")
	}
	return db.changeGap(ctx, id, func(tx pgx.Tx, g *Gap) error {
		var same bool
		err := tx.QueryRow(ctx, `SELECT coalesce((SELECT action = 'note' AND actor = $2 AND note = $3 FROM gap_history
			WHERE gap_id = $1 ORDER BY id DESC LIMIT 1), false)`, id, c.By, c.Note).Scan(&same)
		if err != nil || same {
			return err
		}
		return addHistory(ctx, tx, id, c, "note", "", "", c.Note)
	})
}

// changeGap runs fn on a gap under the gaps' lock and returns the gap as
// it is after.
func (db *DB) changeGap(ctx context.Context, id int64, fn func(pgx.Tx, *Gap) error) (Gap, []GapEvent, error) {
	var g Gap
	var hist []GapEvent
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, gapLock); err != nil {
			return fmt.Errorf("lock gaps: %w", err)
		}
		before, _, err := gapWithHistory(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(tx, &before); err != nil {
			return err
		}
		g, hist, err = gapWithHistory(ctx, tx, id)
		return err
	})
	return g, hist, err
}

func addHistory(ctx context.Context, tx pgx.Tx, id int64, c GapChange, action string, from, to gaps.Status, note string) error {
	_, err := tx.Exec(ctx, `INSERT INTO gap_history (gap_id, at, actor, action, from_status, to_status, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, c.At, c.By, action, string(from), string(to), note)
	if err != nil {
		return fmt.Errorf("record gap %d history: %w", id, err)
	}
	return nil
}

// ParseGapID reads a gap id from a path; EINVALID naming field otherwise.
func ParseGapID(field, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, gateway.Invalid(field, "malformed", field+" is a positive number")
	}
	return id, nil
}

// uncovered is share × open / total rounded down, for 0 < share, 0 < open
// and 0 < total (open counts at most total): exact, the product held in
// 128 bits.
func uncovered(share, open, total int64) int64 {
	open = min(open, total)
	hi, lo := bits.Mul64(uint64(share), uint64(open))
	q, _ := bits.Div64(hi, lo, uint64(total)) // hi < total since open <= total
	return int64(q)
}
