package books

import (
	"context"
	"time"

	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// Store is what the books are kept in; *postgres.DB is one. Errors are
// store failures unless a method says otherwise.
type Store interface {
	// TryLeader takes a lock held across processes; ok is false when
	// another process holds it.
	TryLeader(ctx context.Context, name string) (release func(), ok bool, err error)
	// PeriodsToState lists the scheme periods with ledger entries whose
	// close is not complete.
	PeriodsToState(ctx context.Context) ([]postgres.SchemePeriod, error)
	// InPeriodClose closes a period and runs settle in the same
	// transaction, then state in a second; false when the close was
	// already complete (neither runs).
	InPeriodClose(ctx context.Context, schemeID, period string, at time.Time, settle, state func(*postgres.CloseTx) error) (bool, error)
	// ImportBank stores a parsed bank file in one transaction; the same
	// file again stores nothing (Duplicate).
	ImportBank(ctx context.Context, imp postgres.BankImport) (postgres.BankImportResult, error)
	// StoreAdvices stores remittance advices in one transaction; the same
	// ref and content again is returned as stored, other content is
	// ECONFLICT.
	StoreAdvices(ctx context.Context, advs []postgres.NewAdvice, at time.Time) ([]postgres.StoredAdvice, error)
	// InReconcile runs fn in one transaction holding the lock of matching
	// runs.
	InReconcile(ctx context.Context, fn func(*postgres.ReconcileTx) error) error
	// AddDecision records a manual decision. Errors: ENOTFOUND for an
	// unknown receipt or statement, EINVALID for a bad field.
	AddDecision(ctx context.Context, d postgres.NewDecision) (string, error)
	// Decisions returns a receipt's decisions with how each took effect.
	Decisions(ctx context.Context, receiptID string) ([]postgres.DecisionResult, error)
}
