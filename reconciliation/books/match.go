package books

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/matching"
)

// What started a matching run.
const (
	TriggerImport   = "import"
	TriggerManual   = "manual"
	TriggerDecision = "decision"
	TriggerClose    = "close"
	TriggerSchedule = "schedule"
)

// RunReport says what a matching run looked at and found.
type RunReport struct {
	RunID       int64
	Trigger     string
	AsOf        time.Time
	Statements  int
	Advices     int
	Receipts    int
	Allocations int
	Suspense    int
	Mismatches  int
	// Outcomes counts the periods by status.
	Outcomes map[matching.Status]int
	// Digest is the SHA-256 of the result, hex: two runs over the same
	// data as of the same time have the same.
	Digest string
	// Duration is the whole run; Load, Match and Save its parts: reading
	// the headers, matching (which streams the lines), storing the result.
	Duration, Load, Match, Save time.Duration
}

// Reconcile runs matching over every statement, advice, receipt and manual
// decision as of the Keeper's clock, and replaces the stored result with
// its own, in one transaction that holds the lock of matching runs. The
// same data as of the same time give the same result and digest.
func (k *Keeper) Reconcile(ctx context.Context, trigger string) (RunReport, error) {
	start := time.Now()
	now := k.now()
	rep := RunReport{Trigger: trigger, AsOf: now, Outcomes: map[matching.Status]int{}}
	err := k.store.InReconcile(ctx, func(tx *postgres.ReconcileTx) error {
		in := matching.Input{Now: now, Lines: tx}
		sts, err := tx.Statements(ctx)
		if err != nil {
			return err
		}
		for _, s := range sts {
			if _, ok := k.byCode[s.Key.Scheme]; !ok {
				k.log.Warn("reconcile: skipping a statement of a scheme without configuration", "statement", s.ID, "scheme", s.SchemeID)
				continue
			}
			in.Statements = append(in.Statements, s.Statement)
		}
		if in.Advices, err = tx.Advices(ctx); err != nil {
			return err
		}
		for i := range in.Advices {
			if code, ok := k.SchemeCode(in.Advices[i].Scheme); ok {
				in.Advices[i].Scheme = code
			}
		}
		if in.Receipts, err = tx.Receipts(ctx); err != nil {
			return err
		}
		if in.Platforms, err = tx.Platforms(ctx); err != nil {
			return err
		}
		if in.Decisions, err = tx.Decisions(ctx); err != nil {
			return err
		}
		tx.ReadAhead(readOrder(&in))
		rep.Load = time.Since(start)
		res, err := matching.Reconcile(k.cfg.Matching, in)
		if err != nil {
			return err
		}
		rep.Match = time.Since(start) - rep.Load
		digest, err := resultDigest(res)
		if err != nil {
			return err
		}
		run := postgres.Run{Trigger: trigger, AsOf: now, StartedAt: start.UTC(), FinishedAt: time.Now().UTC(),
			Statements: len(in.Statements), Advices: len(in.Advices), Receipts: len(in.Receipts), Digest: digest}
		saving := time.Now()
		if rep.RunID, err = tx.SaveResult(ctx, run, res, k.schemeID); err != nil {
			return err
		}
		rep.Save = time.Since(saving)
		rep.Statements, rep.Advices, rep.Receipts = run.Statements, run.Advices, run.Receipts
		rep.Allocations, rep.Suspense = len(res.Allocations), len(res.Suspense)
		for _, o := range res.Outcomes {
			rep.Outcomes[o.Status]++
			rep.Mismatches += len(o.Mismatches)
		}
		rep.Digest = hex.EncodeToString(digest[:])
		return nil
	})
	if err != nil {
		return RunReport{}, fmt.Errorf("reconcile: %w", err)
	}
	rep.Duration = time.Since(start)
	k.log.Info("reconciled", "trigger", trigger, "run", rep.RunID, "statements", rep.Statements, "receipts", rep.Receipts,
		"allocations", rep.Allocations, "suspense", rep.Suspense, "mismatches", rep.Mismatches, "took", rep.Duration)
	return rep, nil
}

// resultDigest is the SHA-256 of the result's JSON: every slice of a
// result is in a deterministic order.
func resultDigest(res *matching.Result) ([32]byte, error) {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(res); err != nil {
		return [32]byte{}, fmt.Errorf("digest the result: %w", err)
	}
	return [32]byte(h.Sum(nil)), nil
}

// schemeID returns the id of a scheme code, or the code itself when no
// configured scheme has it.
func (k *Keeper) schemeID(code string) string {
	if s, ok := k.byCode[code]; ok {
		return s.id
	}
	return code
}

// Decision is finance's manual match or unmatch.
type Decision struct {
	ReceiptID string
	// StatementID is the statement matched to; for an unmatch, empty
	// means every statement.
	StatementID string
	// Amount is how much of the receipt a match allocates; zero means all
	// that is left of it.
	Amount gateway.Money
	Reason string
	By     string
}

// DecisionReport is a recorded decision and how it took effect.
type DecisionReport struct {
	ID      string
	Applied bool
	Note    string
	Run     RunReport
}

// Match allocates a receipt, or part of it, to a statement by hand, and
// Unmatch takes a receipt's matches back and keeps the rules from making
// them again; both record the decision in the audit trail and run matching.
// A decision that cannot take effect (a reversed receipt, another currency)
// is recorded and reported not applied, with the reason.
//
// Errors: EINVALID without a reason or with a bad amount; ENOTFOUND for an
// unknown receipt or statement.
func (k *Keeper) Match(ctx context.Context, d Decision) (DecisionReport, error) {
	if d.StatementID == "" {
		return DecisionReport{}, gateway.Invalid("statement_id", "required", "a match names the statement")
	}
	return k.decide(ctx, matching.Match, d)
}

// Unmatch: see Match.
func (k *Keeper) Unmatch(ctx context.Context, d Decision) (DecisionReport, error) {
	if d.Amount.Amount != 0 {
		return DecisionReport{}, gateway.Invalid("amount", "not_allowed", "an unmatch takes back whole matches: no amount")
	}
	return k.decide(ctx, matching.Unmatch, d)
}

func (k *Keeper) decide(ctx context.Context, kind matching.DecisionKind, d Decision) (DecisionReport, error) {
	if strings.TrimSpace(d.Reason) == "" {
		return DecisionReport{}, gateway.Invalid("reason", "required", "a reason is required")
	}
	if d.Amount.Amount < 0 {
		return DecisionReport{}, gateway.Invalid("amount", "negative", "the amount must be positive")
	}
	id, err := k.store.AddDecision(ctx, postgres.NewDecision{Kind: kind, ReceiptID: d.ReceiptID, StatementID: d.StatementID,
		Amount: d.Amount, Reason: strings.TrimSpace(d.Reason), By: d.By, At: k.now()})
	if err != nil {
		return DecisionReport{}, err
	}
	run, err := k.Reconcile(ctx, TriggerDecision)
	if err != nil {
		return DecisionReport{}, err
	}
	rep := DecisionReport{ID: id, Run: run}
	ds, err := k.store.Decisions(ctx, d.ReceiptID)
	if err != nil {
		return DecisionReport{}, err
	}
	for _, x := range ds {
		if x.ID == id {
			rep.Applied, rep.Note = x.Applied, x.Note
		}
	}
	return rep, nil
}
