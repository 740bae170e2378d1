package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// Advice sources.
const (
	AdviceFromAPI = "api"
	AdviceFromCSV = "csv"
)

// NewAdvice is a remittance advice to store. Advice.Scheme is the scheme's
// id; Advice.ID is ignored.
type NewAdvice struct {
	// Ref is the platform's own id of the advice: sending the same one
	// again stores nothing.
	Ref    string
	Source string // AdviceFromAPI or AdviceFromCSV
	Advice statement.Advice
	// Hash is of the advice's canonical form: the same Ref with another
	// hash is a conflict.
	Hash [32]byte
}

// StoredAdvice is a stored remittance advice, without its lines. Its
// Advice.ID is the stored id in decimal; Advice.Scheme the scheme's id.
type StoredAdvice struct {
	statement.Advice
	Ref        string
	Source     string
	LineCount  int
	ReceivedAt time.Time
	// Created is false when the advice was stored before.
	Created bool

	hash [32]byte
}

// StoreAdvices stores advices in one transaction, each with its lines, and
// returns them stored: every header in one statement, every line in one
// COPY. An advice whose platform and Ref are stored with the same hash is
// returned as stored before; with another hash the whole call is an
// ECONFLICT error naming it.
func (db *DB) StoreAdvices(ctx context.Context, advs []NewAdvice, at time.Time) ([]StoredAdvice, error) {
	out := make([]StoredAdvice, len(advs))
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		n := len(advs)
		platforms, refs, payRefs, currencies := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		schemes, periods, sources := make([]string, n), make([]string, n), make([]string, n)
		amounts, lines := make([]int64, n), make([]int32, n)
		dates := make([]*time.Time, n)
		hashes := make([][]byte, n)
		for i := range advs {
			a := &advs[i].Advice
			platforms[i], refs[i], payRefs[i], currencies[i] = a.Platform, advs[i].Ref, a.PaymentReference, string(a.Amount.Currency)
			schemes[i], periods[i], sources[i] = a.Scheme, a.Period, advs[i].Source
			amounts[i], lines[i], dates[i], hashes[i] = a.Amount.Amount, int32(len(a.Lines)), dateOf(a.ValueDate), advs[i].Hash[:]
		}
		rows, err := tx.Query(ctx, `
			INSERT INTO remittance_advices (platform_id, advice_ref, payment_reference, currency, amount_minor, value_date,
			       scheme_id, period, source, lines, request_hash, received_at)
			SELECT p, r, pr, c, a, d, s, per, src, l, h, $12
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::date[], $7::text[], $8::text[],
			            $9::text[], $10::int[], $11::bytea[]) WITH ORDINALITY AS u(p, r, pr, c, a, d, s, per, src, l, h, n)
			ORDER BY n
			ON CONFLICT ON CONSTRAINT remittance_advices_ref_key DO NOTHING RETURNING id, platform_id, advice_ref`,
			platforms, refs, payRefs, currencies, amounts, dates, schemes, periods, sources, lines, hashes, at)
		if err != nil {
			return adviceError(err)
		}
		type key struct{ platform, ref string }
		ids := map[key]int64{}
		var id int64
		var k key
		if _, err := pgx.ForEachRow(rows, []any{&id, &k.platform, &k.ref}, func() error { ids[k] = id; return nil }); err != nil {
			return adviceError(err)
		}
		for i := range advs {
			a := &advs[i]
			k := key{a.Advice.Platform, a.Ref}
			id, fresh := ids[k]
			if !fresh {
				stored, hash, err := readAdvice(ctx, tx, `WHERE a.platform_id = $1 AND a.advice_ref = $2`, k.platform, k.ref)
				if err != nil {
					return err
				}
				if hash != a.Hash {
					return &gateway.Error{Code: gateway.ECONFLICT, Message: "an advice with this id and other content was already received",
						Details: []gateway.Detail{{Field: "advice_id", Code: "conflict", Message: fmt.Sprintf("advice %q is stored with other content", a.Ref)}}}
				}
				out[i] = stored
				continue
			}
			delete(ids, k) // the same advice twice in one call is stored once
			out[i] = StoredAdvice{Advice: a.Advice, Ref: a.Ref, Source: a.Source, LineCount: len(a.Advice.Lines), ReceivedAt: at, Created: true}
			out[i].ID, out[i].Lines = strconv.FormatInt(id, 10), nil
		}
		return copyAdviceLines(ctx, tx, advs, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func adviceError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.ConstraintName {
		case "remittance_advices_platform_fkey":
			return gateway.Errorf(gateway.ENOTFOUND, "no such platform")
		case "remittance_advices_ref_check":
			return gateway.Invalid("advice_id", "bad_length", "advice_id is 1 to 200 characters")
		case "remittance_advices_reference_check":
			return gateway.Invalid("payment_reference", "bad_length", "payment_reference is 1 to 140 characters")
		case "remittance_advices_amount_check":
			return gateway.Invalid("amount", "negative", "amount cannot be negative")
		}
	}
	return fmt.Errorf("store advices: %w", err)
}

// copyAdviceLines stores the lines of the advices created (stored[i].Created)
// in one COPY.
func copyAdviceLines(ctx context.Context, tx pgx.Tx, advs []NewAdvice, stored []StoredAdvice) error {
	i, j := 0, 0
	var id int64
	err := keyedChecks(ctx, tx, func() error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"remittance_advice_lines"}, []string{"advice_id", "worker_key", "amount_minor", "line"},
			pgx.CopyFromFunc(func() ([]any, error) {
				for i < len(advs) && (!stored[i].Created || j == len(advs[i].Advice.Lines)) {
					i, j = i+1, 0
				}
				if i == len(advs) {
					return nil, nil
				}
				if j == 0 {
					id, _ = strconv.ParseInt(stored[i].ID, 10, 64)
				}
				l := &advs[i].Advice.Lines[j]
				j++
				return []any{id, l.WorkerKey, l.Amount.Amount, l.Line}, nil
			}))
		return err
	})
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.ConstraintName == "remittance_advice_lines_pkey" {
			return gateway.Invalid("lines", "duplicate_worker", "a worker appears twice in an advice")
		}
		return fmt.Errorf("store advice lines: %w", err)
	}
	return nil
}

const adviceColumns = `a.id, a.platform_id, a.advice_ref, a.payment_reference, a.currency, a.amount_minor, a.value_date,
	a.scheme_id, a.period, a.source, a.lines, a.received_at, a.request_hash`

func scanAdvice(row pgx.CollectableRow) (StoredAdvice, error) {
	var s StoredAdvice
	var id int64
	var cur string
	var vd time.Time
	var hash []byte
	err := row.Scan(&id, &s.Platform, &s.Ref, &s.PaymentReference, &cur, &s.Amount.Amount, &vd, &s.Scheme, &s.Period,
		&s.Source, &s.LineCount, &s.ReceivedAt, &hash)
	s.ID = strconv.FormatInt(id, 10)
	s.Amount.Currency = gateway.Currency(strings.TrimSpace(cur))
	s.ValueDate = calendarDate(&vd)
	if len(hash) == 32 {
		s.hash = [32]byte(hash)
	}
	return s, err
}

func readAdvice(ctx context.Context, q querier, where string, args ...any) (StoredAdvice, [32]byte, error) {
	rows, err := q.Query(ctx, `SELECT `+adviceColumns+` FROM remittance_advices a `+where, args...)
	if err != nil {
		return StoredAdvice{}, [32]byte{}, fmt.Errorf("read advice: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanAdvice)
	if err != nil {
		return StoredAdvice{}, [32]byte{}, fmt.Errorf("read advice: %w", err)
	}
	if len(list) == 0 {
		return StoredAdvice{}, [32]byte{}, gateway.Errorf(gateway.ENOTFOUND, "no such advice")
	}
	return list[0], list[0].hash, nil
}

// Advice returns a platform's advice by its stored id, or ENOTFOUND.
func (db *DB) Advice(ctx context.Context, platformID, id string) (StoredAdvice, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return StoredAdvice{}, gateway.Errorf(gateway.ENOTFOUND, "no advice %s", id)
	}
	a, _, err := readAdvice(ctx, db.Pool, `WHERE a.id = $1 AND a.platform_id = $2`, n, platformID)
	return a, err
}
