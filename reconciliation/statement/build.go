package statement

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
)

// Entry is one ledger line as Build reads it: the shares one deduction (or
// its reversal, with negative amounts) adds to a worker's period.
type Entry struct {
	Platform string
	Scheme   string
	// Period is the contribution period the entry belongs to.
	Period    string
	WorkerKey string
	// WorkerMinor and PlatformMinor are the worker and platform shares in
	// minor units of Currency; negative for a reversal.
	WorkerMinor   int64
	PlatformMinor int64
	Currency      gateway.Currency
	// Late marks a late adjustment: an event that arrived after Period
	// closed and was booked in the open period BookedPeriod.
	Late bool
	// BookedPeriod is the period the ledger booked the entry in; empty
	// means Period. It is never before Period.
	BookedPeriod string
}

// Key returns the statement key the entry belongs to.
func (e Entry) Key() Key { return Key{Platform: e.Platform, Scheme: e.Scheme, Period: e.Period} }

// Scheme is what Build needs to know about a scheme.
type Scheme struct {
	// Code is the scheme's short code, 1 to 4 letters or digits starting
	// with a letter, as rfref.Key.Scheme. Keys name the scheme by it.
	Code     string
	Currency gateway.Currency
	// Location is the scheme's time zone, where its periods begin and end.
	Location *time.Location
	// Unit is the length of the scheme's periods.
	Unit gateway.PeriodUnit
	// YearStart is the first month of the scheme's year for quarters and
	// years (time.April for India's financial year); zero means January.
	YearStart time.Month
	// DueRule is the scheme's due-date rule, applied to the last day of
	// the period with Calendar.
	DueRule  calendar.Rule
	Calendar *calendar.Calendar
}

// PeriodEnd returns the last day of the period key in the scheme's zone.
func (s Scheme) PeriodEnd(period string) (calendar.Date, error) {
	p, err := s.period(period)
	if err != nil {
		return calendar.Date{}, err
	}
	return calendar.DateOf(p.End.AddDate(0, 0, -1)), nil
}

// DueDate returns the due date of the period key: DueRule applied to the
// period's last day, rolled with Calendar.
func (s Scheme) DueDate(period string) (calendar.Date, error) {
	end, err := s.PeriodEnd(period)
	if err != nil {
		return calendar.Date{}, err
	}
	if s.Calendar == nil {
		return calendar.Date{}, specError("scheme.calendar", "scheme %s has no holiday calendar", s.Code)
	}
	return calendar.DueDate(end, s.DueRule, s.Calendar)
}

func (s Scheme) period(key string) (gateway.Period, error) {
	if s.Location == nil {
		return gateway.Period{}, specError("scheme.location", "scheme %s has no time zone", s.Code)
	}
	return gateway.ParseFiscalPeriod(s.Unit, cmp.Or(s.YearStart, time.January), key, s.Location)
}

// Spec says which statement Build makes.
type Spec struct {
	Key Key
	// PlatformNumber is the platform's number in RF references
	// (rfref.Key.Platform), 1 to 36^6-1.
	PlatformNumber uint64
	Scheme         Scheme
	// IssuedAt is the issue time, from the caller's clock; kept in UTC.
	IssuedAt time.Time
	// ID is the statement's ID; empty means the RF reference.
	ID string
}

// ErrUnchanged is returned by Build when a supplementary statement would
// have no lines: the ledger still says what the earlier statements said.
var ErrUnchanged = errors.New("statement: the ledger matches the earlier statements; nothing to state")

// Build makes the statement for spec.Key from the period's ledger entries.
//
// With no earlier statements it makes the original (Seq 0): one line per
// worker with the sums of the worker's entries, due on the scheme's due
// date for the period. With earlier statements of the same key (Seq 0 to
// n-1, in any order) it makes supplementary statement n: one line per
// worker whose current sums differ from the sums of the earlier lines,
// holding the difference, due on the due date of the latest period the
// entries were booked in (late adjustments are payable with the open
// period they landed in). If no worker's sums changed it returns
// ErrUnchanged.
//
// entries must all belong to spec.Key, in the scheme's currency; their
// order does not matter. Lines are sorted by worker key; totals are exact
// and checked for overflow. Errors are EINVALID *gateway.Error values
// naming the entry (by its position in entries) or the earlier statement.
func Build(spec Spec, entries iter.Seq[Entry], earlier []Statement) (Statement, error) {
	sc := spec.Scheme
	if spec.Key.Scheme != sc.Code {
		return Statement{}, specError("key.scheme", "key names scheme %q but the scheme is %q", spec.Key.Scheme, sc.Code)
	}
	if spec.Key.Platform == "" {
		return Statement{}, specError("key.platform", "the key names no platform")
	}
	if !sc.Currency.Valid() {
		return Statement{}, specError("scheme.currency", "scheme %s has no valid currency", sc.Code)
	}
	if spec.IssuedAt.IsZero() {
		return Statement{}, specError("issued_at", "the issue time is required")
	}
	period, err := sc.period(spec.Key.Period)
	if err != nil {
		return Statement{}, fmt.Errorf("statement %s: %w", spec.Key, err)
	}
	prior, err := checkEarlier(spec, earlier)
	if err != nil {
		return Statement{}, err
	}

	type sums struct {
		worker, platform int64
		late             bool
	}
	workers := map[string]*sums{}
	lateEntries := 0
	dueEnd := period.End // end of the latest booked period
	bookedEnds := map[string]time.Time{spec.Key.Period: period.End}
	i := -1
	for e := range entries {
		i++
		if e.Key() != spec.Key {
			return Statement{}, entryError(i, "period", "entry belongs to %s, not %s", e.Key(), spec.Key)
		}
		if e.WorkerKey == "" {
			return Statement{}, entryError(i, "worker_key", "entry has no worker key")
		}
		if e.Currency != sc.Currency {
			return Statement{}, entryError(i, "currency", "entry is in %q; scheme %s is in %s", e.Currency, sc.Code, sc.Currency)
		}
		booked := cmp.Or(e.BookedPeriod, e.Period)
		end, ok := bookedEnds[booked]
		if !ok {
			p, err := sc.period(booked)
			if err != nil {
				return Statement{}, entryError(i, "booked_period", "booked period %q: %s", booked, gateway.ErrorMessage(err))
			}
			if p.End.Before(period.End) {
				return Statement{}, entryError(i, "booked_period", "booked period %s is before the entry's period %s", booked, e.Period)
			}
			end = p.End
			bookedEnds[booked] = end
		}
		if end.After(dueEnd) {
			dueEnd = end
		}
		s := workers[e.WorkerKey]
		if s == nil {
			s = &sums{}
			workers[e.WorkerKey] = s
		}
		var ok1, ok2 bool
		s.worker, ok1 = add(s.worker, e.WorkerMinor)
		s.platform, ok2 = add(s.platform, e.PlatformMinor)
		if !ok1 || !ok2 {
			return Statement{}, entryError(i, "worker_key", "worker %s's sums overflow", e.WorkerKey)
		}
		if e.Late {
			s.late = true
			lateEntries++
		}
	}

	seq := uint32(len(prior))
	ref, err := rfref.Generate(rfref.Key{Platform: spec.PlatformNumber, Scheme: sc.Code, Period: rfPeriod(spec.Key.Period), Seq: seq})
	if err != nil {
		return Statement{}, fmt.Errorf("statement %s: %w", spec.Key, err)
	}
	st := Statement{
		ID:          cmp.Or(spec.ID, ref),
		Key:         spec.Key,
		Seq:         seq,
		Kind:        Original,
		Reference:   ref,
		Currency:    sc.Currency,
		IssuedAt:    spec.IssuedAt.UTC(),
		LateEntries: lateEntries,
	}
	duePeriodEnd := calendar.DateOf(period.End.AddDate(0, 0, -1))
	if len(prior) > 0 {
		st.Kind, st.Supplements = Supplementary, prior[0].ID
		duePeriodEnd = calendar.DateOf(dueEnd.AddDate(0, 0, -1))
		// Subtract what the earlier statements stated.
		for _, p := range prior {
			for _, l := range p.Lines {
				s := workers[l.WorkerKey]
				if s == nil {
					s = &sums{}
					workers[l.WorkerKey] = s
				}
				var ok1, ok2 bool
				s.worker, ok1 = sub(s.worker, l.Worker.Amount)
				s.platform, ok2 = sub(s.platform, l.Platform.Amount)
				if !ok1 || !ok2 {
					return Statement{}, specError("earlier", "worker %s's difference overflows", l.WorkerKey)
				}
			}
		}
	}
	if sc.Calendar == nil {
		return Statement{}, specError("scheme.calendar", "scheme %s has no holiday calendar", sc.Code)
	}
	if st.DueDate, err = calendar.DueDate(duePeriodEnd, sc.DueRule, sc.Calendar); err != nil {
		return Statement{}, fmt.Errorf("statement %s due date: %w", spec.Key, err)
	}

	keys := make([]string, 0, len(workers))
	for k, s := range workers {
		if len(prior) > 0 && s.worker == 0 && s.platform == 0 {
			continue
		}
		keys = append(keys, k)
	}
	if len(prior) > 0 && len(keys) == 0 {
		return Statement{}, ErrUnchanged
	}
	slices.Sort(keys)
	st.Lines = make([]Line, len(keys))
	var tw, tp int64
	for j, k := range keys {
		s := workers[k]
		if _, ok := add(s.worker, s.platform); !ok {
			return Statement{}, specError("entries", "worker %s's total overflows", k)
		}
		var ok1, ok2 bool
		tw, ok1 = add(tw, s.worker)
		tp, ok2 = add(tp, s.platform)
		if !ok1 || !ok2 {
			return Statement{}, specError("entries", "the statement's totals overflow")
		}
		st.Lines[j] = Line{
			WorkerKey: k,
			Worker:    gateway.Money{Amount: s.worker, Currency: sc.Currency},
			Platform:  gateway.Money{Amount: s.platform, Currency: sc.Currency},
			Late:      s.late,
		}
	}
	total, ok := add(tw, tp)
	if !ok {
		return Statement{}, specError("entries", "the statement's total overflows")
	}
	st.Worker = gateway.Money{Amount: tw, Currency: sc.Currency}
	st.Platform = gateway.Money{Amount: tp, Currency: sc.Currency}
	st.Total = gateway.Money{Amount: total, Currency: sc.Currency}
	return st, nil
}

// checkEarlier returns the earlier statements sorted by Seq, after checking
// that they are statements 0 to n-1 of spec.Key.
func checkEarlier(spec Spec, earlier []Statement) ([]*Statement, error) {
	prior := make([]*Statement, len(earlier))
	for i := range earlier {
		prior[i] = &earlier[i]
	}
	slices.SortFunc(prior, func(a, b *Statement) int { return cmp.Compare(a.Seq, b.Seq) })
	for i, p := range prior {
		switch {
		case p.Key != spec.Key:
			return nil, specError("earlier", "statement %s is for %s, not %s", p.ID, p.Key, spec.Key)
		case p.Seq != uint32(i):
			return nil, specError("earlier", "earlier statements must be numbers 0 to %d, each once; statement %s is number %d", len(prior)-1, p.ID, p.Seq)
		case p.Currency != spec.Scheme.Currency:
			return nil, specError("earlier", "statement %s is in %s, not %s", p.ID, p.Currency, spec.Scheme.Currency)
		}
	}
	return prior, nil
}

// rfPeriod maps a period key to the form rfref encodes: a fiscal key
// "FY2026" or "FY2026-Q1" loses its prefix. A scheme keys all its periods
// one way, and the scheme code is part of the reference, so the mapping
// stays one to one.
func rfPeriod(key string) string { return strings.TrimPrefix(key, "FY") }

func add(a, b int64) (int64, bool) {
	s := a + b
	return s, (a^s)&(b^s) >= 0
}

func sub(a, b int64) (int64, bool) {
	s := a - b
	return s, (a^b)&(a^s) >= 0
}

func specError(field, format string, args ...any) *gateway.Error {
	return &gateway.Error{
		Code:    gateway.EINVALID,
		Message: "cannot build the statement",
		Details: []gateway.Detail{{Field: field, Message: fmt.Sprintf(format, args...)}},
	}
}

func entryError(i int, field, format string, args ...any) *gateway.Error {
	return &gateway.Error{
		Code:    gateway.EINVALID,
		Message: "cannot build the statement: a ledger entry is invalid",
		Details: []gateway.Detail{{Field: fmt.Sprintf("entries[%d].%s", i, field), Message: fmt.Sprintf(format, args...)}},
	}
}
