package books

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// CloseReport says what closing a period did.
type CloseReport struct {
	SchemeID string
	Period   string
	// Closed is false when the period's close was already complete and
	// nothing changed.
	Closed bool
	// LatePeriods are the earlier periods whose late events were booked in
	// this one and were settled and stated again.
	LatePeriods []string
	Settled     int // worker periods settled
	Adjustments int // settlement adjustments and levies appended
	Notices     int
	Levies      int
	Statements  []string // ids of the statements issued
	// Unstated is true for a scheme without reconciliation configuration:
	// closed and settled, but no statement issued.
	Unstated bool
	// Settling and Stating are the time the settlement and levies, and
	// the statements, took.
	Settling, Stating time.Duration
}

// settlePageSize is how many worker periods a close settles at a time.
const settlePageSize = 20_000

// ClosePeriod closes a scheme's period by hand or on schedule: it marks the
// period closed, settles every worker's period and charges entity levies
// in one transaction that holds the period's lock, then issues statements
// in a second, and does the same for the earlier periods whose late events
// were booked in it (see the package comment). Closing a period whose close is complete changes nothing.
// When it issued statements it runs matching, so outcomes include them.
//
// Errors: EINVALID for a period key that is not one of the scheme's;
// ENOTFOUND for an unknown scheme.
func (k *Keeper) ClosePeriod(ctx context.Context, schemeID, period string) (CloseReport, error) {
	rep := CloseReport{SchemeID: schemeID, Period: period}
	gs, err := k.cfg.Catalog.Scheme(schemeID)
	if err != nil {
		return rep, err
	}
	if _, err := parsePeriod(gs, period); err != nil {
		return rep, err
	}
	sc := k.schemes[schemeID]
	at := k.now()
	var periods []string
	settle := func(tx *postgres.CloseTx) error {
		rep.LatePeriods = tx.LatePeriods()
		periods = append([]string{period}, rep.LatePeriods...)
		rep.Settled, rep.Adjustments, rep.Notices, rep.Levies = 0, 0, 0, 0
		start := time.Now()
		for _, p := range periods {
			if err := k.settle(ctx, tx, gs, p, p != period, &rep); err != nil {
				return err
			}
			if err := k.levy(ctx, tx, gs, p, &rep); err != nil {
				return err
			}
		}
		rep.Settling = time.Since(start)
		return nil
	}
	state := func(tx *postgres.CloseTx) error {
		rep.Statements = nil
		if sc == nil {
			rep.Unstated = true
			return nil
		}
		start := time.Now()
		for _, p := range periods {
			if err := k.state(ctx, tx, sc, p, p != period, at, &rep); err != nil {
				return err
			}
		}
		rep.Stating = time.Since(start)
		return nil
	}
	rep.Closed, err = k.store.InPeriodClose(ctx, schemeID, period, at, settle, state)
	if err != nil {
		return rep, err
	}
	if len(rep.Statements) > 0 {
		if _, err := k.Reconcile(ctx, TriggerClose); err != nil {
			return rep, fmt.Errorf("reconcile after closing %s/%s: %w", schemeID, period, err)
		}
	}
	return rep, nil
}

// parsePeriod returns the period named by key in the unit of the scheme's
// plans.
func parsePeriod(gs *gateway.Scheme, key string) (gateway.Period, error) {
	var first error
	for _, p := range gs.Plans {
		for _, v := range p.Versions {
			per, err := v.ParsePeriod(key)
			if err == nil {
				return per, nil
			}
			if first == nil {
				first = err
			}
		}
	}
	if first == nil {
		first = gateway.Errorf(gateway.EINVALID, "scheme %s has no plans", gs.ID)
	}
	return gateway.Period{}, first
}

// versionAtEnd returns the version of a plan that settles a period: the one
// in force on the period's last instant, else the one in force at its
// start.
func versionAtEnd(gs *gateway.Scheme, planID, period string) (*gateway.PlanVersion, error) {
	plan, err := gs.Plan(planID)
	if err != nil {
		return nil, err
	}
	per, err := parsePeriod(gs, period)
	if err != nil {
		return nil, err
	}
	v, err := plan.VersionAt(per.End.Add(-time.Nanosecond))
	if err != nil {
		v, err = plan.VersionAt(per.Start)
	}
	return v, err
}

// settle runs the plan engine's period close on the workers of period:
// all of them, or with late only those whose late events were booked in
// the period being closed. Adjustments are booked in the period being
// closed.
func (k *Keeper) settle(ctx context.Context, tx *postgres.CloseTx, gs *gateway.Scheme, period string, late bool, rep *CloseReport) error {
	versions := map[string]*gateway.PlanVersion{}
	version := func(w postgres.WorkerState) (*gateway.PlanVersion, error) {
		v, ok := versions[w.Key.PlanID]
		if !ok {
			var err error
			if v, err = versionAtEnd(gs, w.Key.PlanID, period); err != nil {
				return nil, fmt.Errorf("settle %s/%s of worker %s: %w", gs.ID, period, w.Key.WorkerID, err)
			}
			versions[w.Key.PlanID] = v
		}
		return v, nil
	}
	per, err := parsePeriod(gs, period)
	if err != nil {
		return err
	}
	lastDay := per.End.Add(-time.Nanosecond).In(gs.Location).Format(time.DateOnly)
	return tx.WorkerStates(ctx, period, late, settlePageSize, func(page []postgres.WorkerState) error {
		selected, err := selectedPlans(ctx, tx, page, version, lastDay)
		if err != nil {
			return err
		}
		var adjs []postgres.SettlementAdjustment
		var notices []postgres.SettlementNotice
		var settled []postgres.WorkerState
		for _, w := range page {
			if w.State.Currency == "" {
				continue // every event of the period was reversed
			}
			v, err := version(w)
			if err != nil {
				return err
			}
			in := gateway.CloseInput{PlatformID: w.Key.PlatformID}
			if scheme := v.TargetSelectedIn(); scheme != "" {
				in.SelectedPlan = selected[scheme][w.Key.WorkerID]
			}
			if v.Combined() {
				// The worker's totals on other platforms (the engine
				// computed from them too).
				in.Others, in.Lead = w.Others, w.Lead
			}
			st, err := v.Close(w.State, in)
			if err != nil {
				return fmt.Errorf("settle %s/%s of worker %s: %w", gs.ID, period, w.Key.WorkerID, err)
			}
			for _, a := range st.Adjustments {
				adjs = append(adjs, postgres.SettlementAdjustment{
					PlatformID: w.Key.PlatformID, SchemeID: gs.ID, PlanID: v.PlanID, PlanVersion: v.Version,
					WorkerID: w.Key.WorkerID, Period: period, BookedPeriod: tx.Period(), Kind: string(a.Kind),
					Currency: v.Currency, Worker: a.Worker.Amount, Platform: a.Platform.Amount,
					Detail: settlementDetail{Threshold: st.Threshold, Evaluated: st.Evaluated, ThresholdMet: st.ThresholdMet},
				})
			}
			for _, n := range st.Notices {
				notices = append(notices, postgres.SettlementNotice{
					PlatformID: w.Key.PlatformID, SchemeID: gs.ID, PlanID: v.PlanID, WorkerID: w.Key.WorkerID,
					Period: period, BookedPeriod: tx.Period(), Kind: string(n.Kind), Currency: v.Currency,
					Amount: n.Amount.Amount, Expected: n.Expected.Amount, Withheld: n.Withheld.Amount,
				})
			}
			if st.State.SettledWorker != w.State.SettledWorker || st.State.SettledPlatform != w.State.SettledPlatform {
				settled = append(settled, postgres.WorkerState{Key: w.Key, State: st.State})
			}
		}
		if err := tx.AppendAdjustments(ctx, adjs); err != nil {
			return err
		}
		if err := tx.AppendNotices(ctx, notices); err != nil {
			return err
		}
		rep.Settled += len(page)
		rep.Adjustments += len(adjs)
		rep.Notices += len(notices)
		return tx.SetSettled(ctx, settled)
	})
}

// selectedPlans reads, for the plans of page whose period target is
// selected by a registration under another scheme (SESS for the Gig
// Workers Act), the plan each worker had selected there on lastDay: by
// scheme, then worker. A worker kept in suspense has none.
func selectedPlans(ctx context.Context, tx *postgres.CloseTx, page []postgres.WorkerState,
	version func(postgres.WorkerState) (*gateway.PlanVersion, error), lastDay string) (map[string]map[string]string, error) {
	workers := map[string][]string{}
	for _, w := range page {
		v, err := version(w)
		if err != nil {
			return nil, err
		}
		if scheme := v.TargetSelectedIn(); scheme != "" && !postgres.IsSuspenseWorkerID(w.Key.WorkerID) {
			workers[scheme] = append(workers[scheme], w.Key.WorkerID)
		}
	}
	out := make(map[string]map[string]string, len(workers))
	for scheme, ids := range workers {
		plans, err := tx.SelectedPlans(ctx, scheme, ids, lastDay)
		if err != nil {
			return nil, err
		}
		out[scheme] = plans
	}
	return out, nil
}

// settlementDetail is what a settlement adjustment keeps of its settlement.
type settlementDetail struct {
	Threshold    gateway.Money `json:"threshold"`
	Evaluated    gateway.Money `json:"evaluated"`
	ThresholdMet bool          `json:"threshold_met"`
}

// levy charges the entity levy of every turnover-levy plan on its
// platforms' entries of period, or the difference from what earlier closes
// charged.
func (k *Keeper) levy(ctx context.Context, tx *postgres.CloseTx, gs *gateway.Scheme, period string, rep *CloseReport) error {
	levies := false
	for _, p := range gs.Plans {
		for _, v := range p.Versions {
			levies = levies || v.Kind() == gateway.RuleTurnoverLevy
		}
	}
	if !levies {
		return nil
	}
	bases, err := tx.LevyBases(ctx, period)
	if err != nil {
		return err
	}
	var adjs []postgres.SettlementAdjustment
	for _, b := range bases {
		v, err := versionAtEnd(gs, b.PlanID, period)
		if err != nil {
			return fmt.Errorf("levy %s/%s of %s: %w", gs.ID, period, b.PlatformID, err)
		}
		if v.Kind() != gateway.RuleTurnoverLevy {
			continue
		}
		m := func(a int64) gateway.Money { return gateway.Money{Amount: max(a, 0), Currency: v.Currency} }
		l, err := v.Levy(period, m(b.Gross), m(b.Base))
		if err != nil {
			return fmt.Errorf("levy %s/%s of %s: %w", gs.ID, period, b.PlatformID, err)
		}
		if d := l.Amount.Amount - b.Charged; d != 0 {
			adjs = append(adjs, postgres.SettlementAdjustment{
				PlatformID: b.PlatformID, SchemeID: gs.ID, PlanID: v.PlanID, PlanVersion: v.Version,
				WorkerID: postgres.LevyWorkerKey, Period: period, BookedPeriod: tx.Period(), Kind: postgres.AdjustLevy,
				Currency: v.Currency, Platform: d, Detail: levyDetail{Turnover: l.Turnover, Payouts: l.Payouts,
					ByTurnover: l.ByTurnover, Cap: l.Cap, Amount: l.Amount, Capped: l.Capped, Charged: m(b.Charged)},
			})
		}
	}
	rep.Levies += len(adjs)
	rep.Adjustments += len(adjs)
	return tx.AppendAdjustments(ctx, adjs)
}

// levyDetail is what a levy adjustment keeps of its computation.
type levyDetail struct {
	Turnover   gateway.Money `json:"turnover"`
	Payouts    gateway.Money `json:"payouts"`
	ByTurnover gateway.Money `json:"by_turnover"`
	Cap        gateway.Money `json:"cap"`
	Amount     gateway.Money `json:"amount"`
	Capped     bool          `json:"capped"`
	Charged    gateway.Money `json:"charged_before"`
}

// issueBatchLines is how many statement lines a close issues at a time.
const issueBatchLines = 50_000

// state issues the statements of period: for the period being closed, one
// per platform with entries; for an earlier period (late), a supplementary
// statement per platform whose late entries or adjustments booked in the
// period being closed changed what it owes. Entries are read platform by
// platform in one query, statements stored a batch at a time.
func (k *Keeper) state(ctx context.Context, tx *postgres.CloseTx, sc *scheme, period string, late bool, at time.Time, rep *CloseReport) error {
	bookedIn := ""
	stated := false
	if late {
		bookedIn = tx.Period()
		var err error
		if stated, err = tx.PeriodStated(ctx, period); err != nil {
			return err
		}
	}
	platforms, err := tx.StatementPlatforms(ctx, period, bookedIn)
	if err != nil || len(platforms) == 0 {
		return err
	}
	numbers, err := tx.PlatformNumbers(ctx, platforms)
	if err != nil {
		return err
	}
	var batch []*statement.Statement
	lines := 0
	flush := func() error {
		if err := tx.IssueStatements(ctx, batch); err != nil {
			return err
		}
		for _, st := range batch {
			rep.Statements = append(rep.Statements, st.ID)
		}
		batch, lines = nil, 0
		return nil
	}
	err = tx.PlatformEntries(ctx, sc.cfg.Code, period, bookedIn, func(pl string, entries []statement.Entry, lateRows int) error {
		var earlier []statement.Statement
		if late {
			var err error
			if earlier, err = tx.Statements(ctx, pl, period); err != nil {
				return err
			}
			// A period closed before it could be stated is stated by its
			// own close, with everything booked by then.
			if len(earlier) == 0 && !stated {
				return nil
			}
		}
		num, ok := numbers[pl]
		if !ok {
			return fmt.Errorf("platform %s has no number", pl)
		}
		st, err := statement.Build(statement.Spec{
			Key:            statement.Key{Platform: pl, Scheme: sc.cfg.Code, Period: period},
			PlatformNumber: num, Scheme: sc.build, IssuedAt: at,
		}, slices.Values(entries), earlier)
		switch {
		case errors.Is(err, statement.ErrUnchanged):
			return nil
		case err != nil:
			return fmt.Errorf("state %s/%s/%s: %w", pl, sc.id, period, err)
		}
		st.LateEntries = lateRows
		batch = append(batch, &st)
		if lines += len(st.Lines); lines >= issueBatchLines {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// CloseDue closes every period with ledger entries whose end plus grace has
// passed and whose close is not complete, oldest first, once across
// processes: a process that does not get the lock does nothing. Running it
// again changes nothing. It is the scheduler's period-close job.
func (k *Keeper) CloseDue(ctx context.Context) error {
	release, ok, err := k.store.TryLeader(ctx, "close-periods")
	if err != nil || !ok {
		return err
	}
	defer release()
	periods, err := k.store.PeriodsToState(ctx)
	if err != nil {
		return err
	}
	now := k.now()
	var errs []error
	for _, sp := range periods {
		gs, err := k.cfg.Catalog.Scheme(sp.SchemeID)
		if err != nil {
			k.log.Warn("close periods: skipping a period of an unknown scheme", "scheme", sp.SchemeID, "period", sp.Period)
			continue
		}
		per, err := parsePeriod(gs, sp.Period)
		if err != nil {
			k.log.Warn("close periods: skipping a period", "scheme", sp.SchemeID, "period", sp.Period, "err", err)
			continue
		}
		grace := k.cfg.Grace
		if g, ok := k.cfg.GraceByScheme[sp.SchemeID]; ok {
			grace = g
		}
		if now.Before(per.End.Add(grace)) {
			continue
		}
		rep, err := k.ClosePeriod(ctx, sp.SchemeID, sp.Period)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		k.log.Info("period closed", "scheme", sp.SchemeID, "period", sp.Period, "settled", rep.Settled,
			"adjustments", rep.Adjustments, "statements", len(rep.Statements), "late_periods", rep.LatePeriods,
			"settling", rep.Settling, "stating", rep.Stating)
	}
	return errors.Join(errs...)
}
