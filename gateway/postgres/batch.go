package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
)

// IncomingEvent is one decoded earnings event from a partition.
type IncomingEvent struct {
	Earning gateway.Earning
	Payload []byte   // canonical JSON
	Hash    [32]byte // of Payload
	Offset  int64
}

// Rejection is one message that could not be applied, with the reason.
type Rejection struct {
	PlatformID string
	EventID    string
	Code       string
	Message    string
	Field      string
	Payload    []byte
	Offset     int64
}

// EventKey names an event: event ids are unique per platform.
type EventKey struct{ PlatformID, EventID string }

// WorkerPeriodKey names one worker's running totals.
type WorkerPeriodKey struct {
	WorkerID, PlatformID, SchemeID, PlanID, Period string
}

// SchemePeriod names one period of a scheme.
type SchemePeriod struct{ SchemeID, Period string }

// LedgerEntry is one line of the ledger: what one event took under one
// scheme.
type LedgerEntry struct {
	PlatformID   string
	EventID      string
	WorkerID     string
	SchemeID     string
	PlanID       string
	PlanVersion  int
	Period       string // the event's own period
	BookedPeriod string // the period the entry counts in
	Kind         string // "deduction" or "reversal"
	Late         bool
	Reverses     string
	Currency     gateway.Currency
	Worker       int64
	Platform     int64
	Gross        int64
	Base         int64
	Insured      int64
	Orders       int64
	Units        int64
	Flags        gateway.Flags
	Registered   bool // false: the worker was not registered, the entry is in suspense
	Partition    int
	Offset       int64
}

// Ledger entry kinds.
const (
	EntryDeduction = "deduction"
	EntryReversal  = "reversal"
)

// BatchTx is one batch's transaction. Its reads see the ledger as of the
// batch; Write adds the batch's effects. Obtain one with InBatch.
type BatchTx struct {
	tx      pgx.Tx
	p       Partition
	version uint32
}

// ErrStale means a batch was computed from running totals that changed
// before it was written: a worker period was written by someone else since
// it was read or remembered. ErrRecorded means an event the batch took to
// be new was already recorded. Either way the transaction is rolled back;
// the batch is to be computed again from reads.
var (
	ErrStale    = errors.New("batch computed from stale running totals")
	ErrRecorded = errors.New("batch records an event already recorded")
)

// InBatch runs fn in one transaction that first advances p's offset to next,
// fencing: when p.Epoch is no longer the partition's owner, it returns
// ErrFenced and fn never runs. The transaction commits when fn returns nil.
func (db *DB) InBatch(ctx context.Context, p Partition, next int64, fn func(*BatchTx) error) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// Advancing the offset first takes the partition's row lock, so two
		// owners of one partition never interleave.
		version, err := advanceOffset(ctx, tx, p, next)
		if err != nil {
			return err
		}
		return fn(&BatchTx{tx: tx, p: p, version: version})
	})
	if err != nil && !errors.Is(err, ErrFenced) && !errors.Is(err, ErrStale) && !errors.Is(err, ErrRecorded) {
		return fmt.Errorf("batch %s/%d up to %d: %w", p.Topic, p.Partition, next, err)
	}
	return err
}

// Version is the row version of the worker periods this transaction
// writes: StoredState.Version of each of them once it commits.
func (b *BatchTx) Version() uint32 { return b.version }

// recordedSQL looks up events by platform and id.
const recordedSQL = `
	SELECT k.platform_id, k.event_id, e.payload_hash
	FROM unnest($1::text[], $2::text[]) AS k(platform_id, event_id),
	LATERAL (SELECT payload_hash FROM earning_events e
	         WHERE e.platform_id = k.platform_id AND e.event_id = k.event_id ` + probe + `) e`

// Recorded returns the payload hash of each of keys already recorded.
func (b *BatchTx) Recorded(ctx context.Context, keys []EventKey) (map[EventKey][32]byte, error) {
	if len(keys) == 0 {
		return map[EventKey][32]byte{}, nil
	}
	platforms, ids := splitKeys(keys)
	rows, err := b.tx.Query(ctx, recordedSQL, platforms, ids)
	if err != nil {
		return nil, fmt.Errorf("look up recorded events: %w", err)
	}
	known := make(map[EventKey][32]byte, len(keys))
	var k EventKey
	var h []byte
	_, err = pgx.ForEachRow(rows, []any{&k.PlatformID, &k.EventID, &h}, func() error {
		known[k] = [32]byte(h)
		return nil
	})
	return known, err
}

// entriesSQL reads the entries of events and those that reverse them.
var entriesSQL = `
	SELECT ` + movedEntryColumns + `
	FROM unnest($1::text[], $2::text[]) AS k(platform_id, event_id),
	LATERAL ((SELECT * FROM ledger_entries l WHERE l.platform_id = k.platform_id AND l.event_id = k.event_id ` + probe + `)
	         UNION ALL
	         (SELECT * FROM ledger_entries l
	          WHERE l.platform_id = k.platform_id AND l.reverses = k.event_id AND l.reverses <> '' AND l.event_id <> k.event_id ` + probe + `)) l
	LEFT JOIN LATERAL (SELECT * FROM suspense_transfers t WHERE t.entry_id = l.id ` + probe + `) t ON true`

// Entries returns the ledger entries of the given events, and the entries
// that reverse them: for each event, a probe of the event key and one of
// the reversal key.
func (b *BatchTx) Entries(ctx context.Context, keys []EventKey) ([]LedgerEntry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	platforms, ids := splitKeys(keys)
	// An entry moved out of suspense by a registration is read as the
	// worker's, so its reversal is booked for the worker whose totals now
	// hold it.
	rows, err := b.tx.Query(ctx, entriesSQL, platforms, ids)
	if err != nil {
		return nil, fmt.Errorf("read ledger entries: %w", err)
	}
	return pgx.CollectRows(rows, scanEntry)
}

// Closed returns which of the given scheme periods are closed. It takes a
// shared lock on each, so a period cannot be closed while this batch books
// into it.
func (b *BatchTx) Closed(ctx context.Context, periods []SchemePeriod) (map[SchemePeriod]bool, error) {
	if len(periods) == 0 {
		return map[SchemePeriod]bool{}, nil
	}
	locks := make([]int64, len(periods))
	schemes := make([]string, len(periods))
	keys := make([]string, len(periods))
	for i, p := range periods {
		locks[i] = periodLock(p)
		schemes[i], keys[i] = p.SchemeID, p.Period
	}
	slices.Sort(locks)
	if _, err := b.tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(k) FROM unnest($1::bigint[]) AS k`, slices.Compact(locks)); err != nil {
		return nil, fmt.Errorf("lock periods: %w", err)
	}
	rows, err := b.tx.Query(ctx, `
		SELECT p.scheme_id, p.period FROM scheme_periods p
		JOIN unnest($1::text[], $2::text[]) AS k(scheme_id, period) USING (scheme_id, period)
		WHERE p.status = 'closed'`, schemes, keys)
	if err != nil {
		return nil, fmt.Errorf("read period states: %w", err)
	}
	closed := map[SchemePeriod]bool{}
	var sp SchemePeriod
	_, err = pgx.ForEachRow(rows, []any{&sp.SchemeID, &sp.Period}, func() error { closed[sp] = true; return nil })
	return closed, err
}

// periodLock is the advisory lock key of a scheme period: batches hold it
// shared while they book into the period, closing takes it exclusively.
func periodLock(p SchemePeriod) int64 {
	h := fnv.New64a()
	h.Write([]byte("period\x00" + p.SchemeID + "\x00" + p.Period))
	return int64(h.Sum64())
}

// StoredState is a worker period's running totals as stored, with the
// version of its row: the id of the transaction that last wrote it (its
// xmin). Version 0 means there is no row.
type StoredState struct {
	State   gateway.PeriodState
	Version uint32
}

// States returns the running totals of each of keys, with their row
// versions; a key with no row yet is absent (its state is the zero state).
// A key with no PlatformID names a worker's totals on every platform (a
// group): each platform's row is returned under its own key.
func (b *BatchTx) States(ctx context.Context, keys []WorkerPeriodKey) (map[WorkerPeriodKey]StoredState, error) {
	out := make(map[WorkerPeriodKey]StoredState, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	cols := make([][]string, 5)
	for _, k := range keys {
		cols[0] = append(cols[0], k.WorkerID)
		cols[1] = append(cols[1], k.PlatformID)
		cols[2] = append(cols[2], k.SchemeID)
		cols[3] = append(cols[3], k.PlanID)
		cols[4] = append(cols[4], k.Period)
	}
	rows, err := b.tx.Query(ctx, statesSQL, cols[0], cols[1], cols[2], cols[3], cols[4])
	if err != nil {
		return nil, fmt.Errorf("read worker periods: %w", err)
	}
	var k WorkerPeriodKey
	var s gateway.PeriodState
	var cur string
	var version int64
	_, err = pgx.ForEachRow(rows, []any{&k.WorkerID, &k.PlatformID, &k.SchemeID, &k.PlanID, &k.Period, &cur,
		&s.Events, &s.Gross, &s.Base, &s.Insured, &s.Orders, &s.Units, &s.Worker, &s.Platform, &s.SettledWorker, &s.SettledPlatform, &version},
		func() error {
			s.Period, s.Currency = k.Period, gateway.Currency(strings.TrimSpace(cur))
			if s.Currency == "" {
				// A state written back to empty (its only event reversed)
				// is the state before the first event.
				s = gateway.PeriodState{}
			}
			out[k] = StoredState{State: s, Version: uint32(version)}
			return nil
		})
	return out, err
}

// statesSQL reads worker periods by key, a key with no platform naming
// the worker's rows on every platform.
const statesSQL = `
	SELECT w.worker_id, w.platform_id, w.scheme_id, w.plan_id, w.period, w.currency, w.events, w.gross, w.base,
	       w.insured, w.orders, w.units, w.worker_minor, w.platform_minor, w.settled_worker, w.settled_platform,
	       w.xmin::text::bigint
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS k(worker_id, platform_id, scheme_id, plan_id, period),
	LATERAL (SELECT w.*, w.xmin FROM worker_periods w
	         WHERE w.worker_id = k.worker_id AND (w.platform_id = k.platform_id OR k.platform_id = '')
	           AND w.scheme_id = k.scheme_id AND w.plan_id = k.plan_id AND w.period = k.period ` + probe + `) w`

// BatchWrites is everything one batch adds.
type BatchWrites struct {
	Events  []IncomingEvent // events to record
	Entries []LedgerEntry
	States  map[WorkerPeriodKey]gateway.PeriodState // the new running totals
	// Stored is what each of States replaces, as read or remembered: a
	// stored row (Version > 0) is updated only if its version is still the
	// same, and a key stored without a row is inserted; either failing
	// makes Write return ErrStale. A key of States not in Stored is
	// written whatever is stored.
	Stored     map[WorkerPeriodKey]StoredState
	Rejections []Rejection
}

// Write records the batch's events, ledger entries, running totals, the
// platforms' period balances and rejections. It returns how many rejections
// were new (a redelivered bad message is stored once).
func (b *BatchTx) Write(ctx context.Context, w BatchWrites) (int, error) {
	n, err := b.write(ctx, w)
	if err != nil && isDeadlock(err) && !errors.Is(err, ErrStale) {
		// Two batches wrote rows of one worker's totals that the other
		// had read: the one undone is computed again.
		err = fmt.Errorf("%w: %w", ErrStale, err)
	}
	return n, err
}

func (b *BatchTx) write(ctx context.Context, w BatchWrites) (int, error) {
	if err := b.copyEvents(ctx, w.Events); err != nil {
		if isUnique(err, "earning_events_pkey") {
			return 0, fmt.Errorf("%w: %w", ErrRecorded, err)
		}
		return 0, err
	}
	if err := b.copyEntries(ctx, w.Entries); err != nil {
		return 0, err
	}
	if err := b.writeStates(ctx, w.States, w.Stored); err != nil {
		return 0, err
	}
	if err := b.addBalances(ctx, w.Entries); err != nil {
		return 0, err
	}
	return b.insertRejections(ctx, w.Rejections)
}

// copyEventsSQL names the columns copyEvents writes, in order.
const copyEventsSQL = `COPY earning_events (platform_id, event_id, worker_ref, worker_key, kind, occurred_at,
	currency, gross_minor, payload, payload_hash, source_topic, source_partition, source_offset) FROM STDIN (FORMAT binary)`

func (b *BatchTx) copyEvents(ctx context.Context, evs []IncomingEvent) error {
	if len(evs) == 0 {
		return nil
	}
	c := newCopyRows()
	for _, ev := range evs {
		e := &ev.Earning
		c.row(13)
		c.text(e.PlatformID)
		c.text(e.EventID)
		c.text(e.WorkerRef)
		c.text(e.WorkerKey)
		c.text(string(e.Kind))
		c.timestamptz(e.OccurredAt)
		c.text(string(e.Gross.Currency))
		c.int8(e.Gross.Amount)
		c.json(ev.Payload)
		c.bytea(ev.Hash[:])
		c.text(b.p.Topic)
		c.int4(int32(b.p.Partition))
		c.int8(ev.Offset)
	}
	if err := c.send(ctx, b.tx, copyEventsSQL, len(evs)); err != nil {
		return fmt.Errorf("record %d events: %w", len(evs), err)
	}
	return nil
}

const entryColumns = `l.platform_id, l.event_id, l.worker_id, l.scheme_id, l.plan_id, l.plan_version, l.period,
	l.booked_period, l.entry_kind, l.late, l.reverses, l.currency, l.worker_minor, l.platform_minor, l.gross_minor,
	l.base_minor, l.insured_minor, l.orders, l.units, l.flags, l.registered, l.source_partition, l.source_offset`

// movedEntryColumns are entryColumns with the worker of a suspense
// transfer t, when there is one.
var movedEntryColumns = strings.NewReplacer("l.worker_id", "coalesce(t.to_worker_id, l.worker_id)",
	"l.registered", "(l.registered OR t.entry_id IS NOT NULL)").Replace(entryColumns)

// copyEntriesSQL names the columns copyEntries writes, in order.
const copyEntriesSQL = `COPY ledger_entries (platform_id, event_id, worker_id, scheme_id, plan_id, plan_version, period,
	booked_period, entry_kind, late, reverses, currency, worker_minor, platform_minor, gross_minor,
	base_minor, insured_minor, orders, units, flags, registered, source_partition, source_offset) FROM STDIN (FORMAT binary)`

func scanEntry(row pgx.CollectableRow) (LedgerEntry, error) { return scanEntryAnd(row) }

// scanEntryAnd scans entryColumns and then the row's further columns into
// more.
func scanEntryAnd(row pgx.Row, more ...any) (LedgerEntry, error) {
	var e LedgerEntry
	var cur string
	var flags int32
	err := row.Scan(append([]any{&e.PlatformID, &e.EventID, &e.WorkerID, &e.SchemeID, &e.PlanID, &e.PlanVersion, &e.Period,
		&e.BookedPeriod, &e.Kind, &e.Late, &e.Reverses, &cur, &e.Worker, &e.Platform, &e.Gross,
		&e.Base, &e.Insured, &e.Orders, &e.Units, &flags, &e.Registered, &e.Partition, &e.Offset}, more...)...)
	e.Currency, e.Flags = gateway.Currency(cur), gateway.Flags(flags)
	return e, err
}

func (b *BatchTx) copyEntries(ctx context.Context, es []LedgerEntry) error {
	if len(es) == 0 {
		return nil
	}
	c := newCopyRows()
	for i := range es {
		e := &es[i]
		c.row(23)
		c.text(e.PlatformID)
		c.text(e.EventID)
		c.text(e.WorkerID)
		c.text(e.SchemeID)
		c.text(e.PlanID)
		c.int4(int32(e.PlanVersion))
		c.text(e.Period)
		c.text(e.BookedPeriod)
		c.text(e.Kind)
		c.bool(e.Late)
		c.text(e.Reverses)
		c.text(string(e.Currency))
		c.int8(e.Worker)
		c.int8(e.Platform)
		c.int8(e.Gross)
		c.int8(e.Base)
		c.int8(e.Insured)
		c.int8(e.Orders)
		c.int8(e.Units)
		c.int4(int32(e.Flags))
		c.bool(e.Registered)
		c.int4(int32(e.Partition))
		c.int8(e.Offset)
	}
	if err := c.send(ctx, b.tx, copyEntriesSQL, len(es)); err != nil {
		return fmt.Errorf("append %d ledger entries: %w", len(es), err)
	}
	return nil
}

// writeStates writes the new running totals, in key order so that two
// transactions never wait for each other's rows in opposite orders. A row
// known to be stored is updated, provided its version is the one the state
// was computed from; a row known not to exist is appended with COPY; any
// other is upserted. Settled amounts belong to period close: an update
// leaves them as they are.
func (b *BatchTx) writeStates(ctx context.Context, states map[WorkerPeriodKey]gateway.PeriodState, stored map[WorkerPeriodKey]StoredState) error {
	if len(states) == 0 {
		return nil
	}
	keys := make([]WorkerPeriodKey, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b WorkerPeriodKey) int {
		if c := strings.Compare(a.WorkerID, b.WorkerID); c != 0 {
			return c // nearly always: the rest only breaks ties
		}
		return cmp.Or(cmp.Compare(a.PlatformID, b.PlatformID),
			cmp.Compare(a.SchemeID, b.SchemeID), cmp.Compare(a.PlanID, b.PlanID), cmp.Compare(a.Period, b.Period))
	})
	var update, insert, upsert []WorkerPeriodKey
	for _, k := range keys {
		st, ok := stored[k]
		switch {
		case !ok:
			upsert = append(upsert, k)
		case st.Version == 0:
			insert = append(insert, k)
		default:
			update = append(update, k)
		}
	}
	if err := b.updateStates(ctx, update, states, stored); err != nil {
		return err
	}
	if err := b.copyStates(ctx, insert, states); err != nil {
		return err
	}
	return b.upsertStates(ctx, upsert, states)
}

// stateColumns are a batch of running totals as query parameters: the
// five key columns and the currency, then the ten amounts.
type stateColumns struct {
	txt [6][]string
	num [10][]int64
}

func newStateColumns(keys []WorkerPeriodKey, states map[WorkerPeriodKey]gateway.PeriodState) *stateColumns {
	c := &stateColumns{}
	for i := range c.txt {
		c.txt[i] = make([]string, len(keys))
	}
	for i := range c.num {
		c.num[i] = make([]int64, len(keys))
	}
	for j, k := range keys {
		s := states[k]
		c.txt[0][j], c.txt[1][j], c.txt[2][j], c.txt[3][j], c.txt[4][j], c.txt[5][j] =
			k.WorkerID, k.PlatformID, k.SchemeID, k.PlanID, k.Period, string(s.Currency)
		c.num[0][j], c.num[1][j], c.num[2][j], c.num[3][j], c.num[4][j] = s.Events, s.Gross, s.Base, s.Insured, s.Orders
		c.num[5][j], c.num[6][j], c.num[7][j], c.num[8][j], c.num[9][j] = s.Units, s.Worker, s.Platform, s.SettledWorker, s.SettledPlatform
	}
	return c
}

// updateStates rewrites stored rows whose version is unchanged; ErrStale
// when any has changed.
func (b *BatchTx) updateStates(ctx context.Context, keys []WorkerPeriodKey, states map[WorkerPeriodKey]gateway.PeriodState,
	stored map[WorkerPeriodKey]StoredState) error {
	if len(keys) == 0 {
		return nil
	}
	c := newStateColumns(keys, states)
	versions := make([]int32, len(keys))
	for i, k := range keys {
		versions[i] = int32(stored[k].Version) // xid = int4 compares the bits
	}
	tag, err := b.tx.Exec(ctx, `
		UPDATE worker_periods w SET currency = u.currency, events = u.events, gross = u.gross, base = u.base,
		       insured = u.insured, orders = u.orders, units = u.units, worker_minor = u.worker_minor,
		       platform_minor = u.platform_minor, updated_at = now()
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
		       $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[],
		       $14::bigint[], $15::int4[])
		     AS u(worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base,
		       insured, orders, units, worker_minor, platform_minor, version)
		WHERE w.worker_id = u.worker_id AND w.platform_id = u.platform_id AND w.scheme_id = u.scheme_id
		  AND w.plan_id = u.plan_id AND w.period = u.period AND w.xmin = u.version`,
		c.txt[0], c.txt[1], c.txt[2], c.txt[3], c.txt[4], c.txt[5],
		c.num[0], c.num[1], c.num[2], c.num[3], c.num[4], c.num[5], c.num[6], c.num[7], versions)
	if err != nil {
		return fmt.Errorf("write %d worker periods: %w", len(keys), err)
	}
	if n := tag.RowsAffected(); n != int64(len(keys)) {
		return fmt.Errorf("%w: %d of %d worker periods changed since they were read", ErrStale, int64(len(keys))-n, len(keys))
	}
	return nil
}

// isDeadlock reports whether err is PostgreSQL's deadlock_detected: two
// batches each waiting for a row the other holds; one of them is undone.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

// RegistryVersion returns the version of the registrations (see
// migration 015): it changes with every registration step.
func (b *BatchTx) RegistryVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := b.tx.QueryRow(ctx, `SELECT version FROM registry_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the registry version: %w", err)
	}
	return v, nil
}

// RegisteredSince returns the references whose registrations changed
// after version since, and the worker ids whose running totals may have
// changed with them: the worker keys, and the suspense ids of the
// references, whose totals a start moves (suspense.go).
func (b *BatchTx) RegisteredSince(ctx context.Context, since int64) ([]RefKey, []string, error) {
	rows, err := b.tx.Query(ctx, `SELECT DISTINCT platform_id, worker_ref, worker_key FROM registrations WHERE registry_version > $1`, since)
	if err != nil {
		return nil, nil, fmt.Errorf("read registrations since version %d: %w", since, err)
	}
	var refs []RefKey
	var ids []string
	var r RefKey
	var key string
	_, err = pgx.ForEachRow(rows, []any{&r.PlatformID, &r.WorkerRef, &key}, func() error {
		refs = append(refs, r)
		ids = append(ids, key, SuspenseWorkerID(r.PlatformID, r.WorkerRef))
		return nil
	})
	return refs, ids, err
}

// copyStatesSQL names the columns copyStates writes, in order.
const copyStatesSQL = `COPY worker_periods (worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base,
	insured, orders, units, worker_minor, platform_minor, settled_worker, settled_platform) FROM STDIN (FORMAT binary)`

// copyStates appends rows that did not exist; ErrStale when one does now.
func (b *BatchTx) copyStates(ctx context.Context, keys []WorkerPeriodKey, states map[WorkerPeriodKey]gateway.PeriodState) error {
	if len(keys) == 0 {
		return nil
	}
	c := newCopyRows()
	for _, k := range keys {
		s := states[k]
		c.row(16)
		c.text(k.WorkerID)
		c.text(k.PlatformID)
		c.text(k.SchemeID)
		c.text(k.PlanID)
		c.text(k.Period)
		c.text(string(s.Currency))
		for _, v := range [...]int64{s.Events, s.Gross, s.Base, s.Insured, s.Orders, s.Units, s.Worker, s.Platform, s.SettledWorker, s.SettledPlatform} {
			c.int8(v)
		}
	}
	if err := c.send(ctx, b.tx, copyStatesSQL, len(keys)); err != nil {
		if isUnique(err, "worker_periods_pkey") {
			return fmt.Errorf("%w: a new worker period was written meanwhile: %w", ErrStale, err)
		}
		return fmt.Errorf("append %d worker periods: %w", len(keys), err)
	}
	return nil
}

// upsertStates writes running totals whatever is stored. Every column is
// replaced, the currency too: a state emptied by a reversal is stored
// without one, which States reads as the state before any event.
func (b *BatchTx) upsertStates(ctx context.Context, keys []WorkerPeriodKey, states map[WorkerPeriodKey]gateway.PeriodState) error {
	if len(keys) == 0 {
		return nil
	}
	c := newStateColumns(keys, states)
	_, err := b.tx.Exec(ctx, `
		INSERT INTO worker_periods (worker_id, platform_id, scheme_id, plan_id, period, currency, events, gross, base,
		       insured, orders, units, worker_minor, platform_minor, settled_worker, settled_platform)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
		       $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[],
		       $14::bigint[], $15::bigint[], $16::bigint[])
		ON CONFLICT ON CONSTRAINT worker_periods_pkey DO UPDATE SET
		       currency = EXCLUDED.currency, events = EXCLUDED.events, gross = EXCLUDED.gross, base = EXCLUDED.base, insured = EXCLUDED.insured,
		       orders = EXCLUDED.orders, units = EXCLUDED.units, worker_minor = EXCLUDED.worker_minor,
		       platform_minor = EXCLUDED.platform_minor, settled_worker = EXCLUDED.settled_worker,
		       settled_platform = EXCLUDED.settled_platform, updated_at = now()`,
		c.txt[0], c.txt[1], c.txt[2], c.txt[3], c.txt[4], c.txt[5],
		c.num[0], c.num[1], c.num[2], c.num[3], c.num[4], c.num[5], c.num[6], c.num[7], c.num[8], c.num[9])
	if err != nil {
		return fmt.Errorf("write %d worker periods: %w", len(keys), err)
	}
	return nil
}

// isUnique reports whether err is a unique violation of the named
// constraint.
func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}

// addBalances adds the entries to the platforms' period balances of this
// batch's partition.
func (b *BatchTx) addBalances(ctx context.Context, es []LedgerEntry) error {
	type key struct{ platform, scheme, period, currency string }
	type sums struct{ entries, late, worker, platform int64 }
	agg := map[key]*sums{}
	var order []key
	for _, e := range es {
		k := key{e.PlatformID, e.SchemeID, e.BookedPeriod, string(e.Currency)}
		s := agg[k]
		if s == nil {
			s = &sums{}
			agg[k] = s
			order = append(order, k)
		}
		s.entries++
		if e.Late {
			s.late++
		}
		s.worker += e.Worker
		s.platform += e.Platform
	}
	if len(order) == 0 {
		return nil
	}
	slices.SortFunc(order, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.platform, b.platform), cmp.Compare(a.scheme, b.scheme), cmp.Compare(a.period, b.period))
	})
	var platforms, schemes, periods, currencies []string
	var entries, late, worker, platform []int64
	for _, k := range order {
		s := agg[k]
		platforms, schemes, periods, currencies = append(platforms, k.platform), append(schemes, k.scheme), append(periods, k.period), append(currencies, k.currency)
		entries, late, worker, platform = append(entries, s.entries), append(late, s.late), append(worker, s.worker), append(platform, s.platform)
	}
	_, err := b.tx.Exec(ctx, `
		INSERT INTO platform_period_balances (platform_id, scheme_id, period, source_partition, currency,
		       entries, late_entries, worker_minor, platform_minor)
		SELECT p, s, per, $5, c, n, l, w, pl
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
		     AS u(p, s, per, c, n, l, w, pl)
		ON CONFLICT ON CONSTRAINT platform_period_balances_pkey DO UPDATE SET
		       entries = platform_period_balances.entries + EXCLUDED.entries,
		       late_entries = platform_period_balances.late_entries + EXCLUDED.late_entries,
		       worker_minor = platform_period_balances.worker_minor + EXCLUDED.worker_minor,
		       platform_minor = platform_period_balances.platform_minor + EXCLUDED.platform_minor`,
		platforms, schemes, periods, currencies, b.p.Partition, entries, late, worker, platform)
	if err != nil {
		return fmt.Errorf("add platform balances: %w", err)
	}
	return nil
}

func (b *BatchTx) insertRejections(ctx context.Context, rs []Rejection) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	var platforms, events, codes, messages, fields []string
	var payloads [][]byte
	var offsets []int64
	for _, r := range rs {
		platforms, events, codes, messages, fields = append(platforms, r.PlatformID), append(events, r.EventID),
			append(codes, r.Code), append(messages, r.Message), append(fields, r.Field)
		payloads, offsets = append(payloads, r.Payload), append(offsets, r.Offset)
	}
	tag, err := b.tx.Exec(ctx, `
		INSERT INTO rejected_events (platform_id, event_id, code, message, field, payload, source_topic, source_partition, source_offset)
		SELECT p, e, c, m, f, pl, $8, $9, o
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bigint[]) AS u(p, e, c, m, f, pl, o)
		ON CONFLICT ON CONSTRAINT rejected_events_source_key DO NOTHING`,
		platforms, events, codes, messages, fields, payloads, offsets, b.p.Topic, b.p.Partition)
	if err != nil {
		return 0, fmt.Errorf("store %d rejections: %w", len(rs), err)
	}
	return int(tag.RowsAffected()), nil
}

// probe ends a LATERAL subquery that looks rows up by key for each element
// of an array: LIMIT ALL keeps the planner from folding it into a join,
// which it would run by hashing the keys and scanning the whole table.
const probe = `OFFSET 0`

func splitKeys(keys []EventKey) (platforms, ids []string) {
	platforms, ids = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		platforms[i], ids[i] = k.PlatformID, k.EventID
	}
	return platforms, ids
}
