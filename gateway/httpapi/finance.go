package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/reconciliation/books"
)

// FinanceBooks imports bank files and runs matching; *books.Keeper is
// one.
type FinanceBooks interface {
	// ImportBankFile stores a bank file whole or not at all and runs
	// matching. Errors: EINVALID or ETOOLARGE naming the element or
	// column and the line.
	ImportBankFile(ctx context.Context, r io.Reader, opt books.ImportOptions) (books.ImportReport, error)
	// Reconcile runs matching and stores its result.
	Reconcile(ctx context.Context, trigger string) (books.RunReport, error)
	// Match and Unmatch record finance's decision and run matching.
	// Errors: EINVALID without a reason; ENOTFOUND for an unknown receipt
	// or statement.
	Match(ctx context.Context, d books.Decision) (books.DecisionReport, error)
	Unmatch(ctx context.Context, d books.Decision) (books.DecisionReport, error)
}

// FinanceStore reads the latest matching result; *postgres.DB is one.
type FinanceStore interface {
	Outcomes(ctx context.Context, f postgres.OutcomeFilter) ([]postgres.Outcome, error)
	Mismatches(ctx context.Context, platformID, schemeID, period string, limit int) ([]postgres.Mismatch, error)
	Suspense(ctx context.Context) ([]postgres.SuspenseItem, error)
	Decisions(ctx context.Context, receiptID string) ([]postgres.DecisionResult, error)
}

// maxBankFileBytes bounds a bank file upload, as the parsers do.
const maxBankFileBytes = 200 << 20

// mismatchesShown is how many advice mismatches an outcome lists.
const mismatchesShown = 100

// financeRoutes registers the finance API under /v1/finance: finance and
// admin keys; reading needs reconciliation:read, changing
// reconciliation:write.
func (s *Server) financeRoutes(v1 *echo.Group) {
	g := v1.Group("/finance", s.allow(access.ReconciliationRead), s.financeServed)
	write := s.allow(access.ReconciliationWrite)
	g.POST("/bank-statements", s.importBankStatement, write)
	g.POST("/reconciliation/run", s.runReconciliation, write)
	g.GET("/reconciliation", s.listOutcomes)
	g.GET("/suspense", s.listSuspense)
	g.POST("/matches", s.postMatch(true), write)
	g.POST("/unmatches", s.postMatch(false), write)
	g.GET("/decisions", s.listDecisions)
}

// financeServed answers the finance routes when this server was given no
// books to serve them from.
func (s *Server) financeServed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Finance == nil || s.cfg.FinanceStore == nil {
			return notServed("finance")
		}
		return next(c)
	}
}

// runView is a matching run.
type runView struct {
	RunID       int64          `json:"run_id"`
	Trigger     string         `json:"trigger"`
	AsOf        time.Time      `json:"as_of"`
	Statements  int            `json:"statements"`
	Advices     int            `json:"advices"`
	Receipts    int            `json:"receipts"`
	Allocations int            `json:"allocations"`
	Suspense    int            `json:"suspense"`
	Mismatches  int            `json:"mismatches"`
	Outcomes    map[string]int `json:"outcomes"` // periods by status
	Digest      string         `json:"digest"`
	DurationMS  int64          `json:"duration_ms"`
}

func runViewOf(r books.RunReport) *runView {
	v := &runView{RunID: r.RunID, Trigger: r.Trigger, AsOf: r.AsOf, Statements: r.Statements, Advices: r.Advices,
		Receipts: r.Receipts, Allocations: r.Allocations, Suspense: r.Suspense, Mismatches: r.Mismatches,
		Outcomes: map[string]int{}, Digest: r.Digest, DurationMS: r.Duration.Milliseconds()}
	for st, n := range r.Outcomes {
		v.Outcomes[string(st)] = n
	}
	return v
}

// importView is what a bank file import did.
type importView struct {
	ImportID   int64    `json:"import_id"`
	Format     string   `json:"format"`
	MessageID  string   `json:"message_id,omitempty"`
	Duplicate  bool     `json:"duplicate"`
	Statements int      `json:"statements"`
	Skipped    []string `json:"skipped"`
	Receipts   int      `json:"receipts"`
	Run        *runView `json:"run,omitempty"`
}

// importBankStatement imports a camt.053, camt.054 or CSV bank file sent as
// the body: 201 when stored (then matching has run), 200 when the same file
// was imported before and nothing was stored, 400 naming the element or
// column and line of a file that does not parse (nothing stored).
func (s *Server) importBankStatement(c echo.Context) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "application/xml", "text/xml", "text/csv":
	default:
		return gateway.Errorf(gateway.EUNSUPPORTED, "content type %q is not supported here: send application/xml or text/csv", ct)
	}
	opt := books.ImportOptions{Name: c.QueryParam("file_name"), By: actor(c)}
	if m := c.QueryParam("csv_mapping"); m != "" {
		mapping, err := books.ParseCSVMapping(m)
		if err != nil {
			return err
		}
		opt.CSV = &mapping
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxBankFileBytes)
	rep, err := s.cfg.Finance.ImportBankFile(c.Request().Context(), body, opt)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return gateway.Errorf(gateway.ETOOLARGE, "a bank file is at most %d bytes", maxBankFileBytes)
	}
	if err != nil {
		return err
	}
	v := importView{ImportID: rep.ImportID, Format: string(rep.Format), MessageID: rep.MessageID, Duplicate: rep.Duplicate,
		Statements: rep.Statements, Skipped: rep.Skipped, Receipts: rep.Receipts}
	if v.Skipped == nil {
		v.Skipped = []string{}
	}
	if rep.Run != nil {
		v.Run = runViewOf(*rep.Run)
	}
	status := http.StatusCreated
	if rep.Duplicate {
		status = http.StatusOK
	}
	return c.JSON(status, v)
}

// actor names who makes a request, for the audit trail: the key's id.
func actor(c echo.Context) string {
	if p, ok := principal(c); ok {
		return string(p.Role) + ":" + p.KeyID
	}
	return "anonymous"
}

// runReconciliation runs matching now.
func (s *Server) runReconciliation(c echo.Context) error {
	rep, err := s.cfg.Finance.Reconcile(c.Request().Context(), books.TriggerManual)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, runViewOf(rep))
}

// outcomeView is the reconciliation of one platform, scheme and period.
type outcomeView struct {
	PlatformID string `json:"platform_id"`
	SchemeID   string `json:"scheme_id"`
	Period     string `json:"period"`
	// Status is the payment status: paid, overpaid, open (not due yet),
	// underpaid or missing.
	Status string `json:"status"`
	// Late is true when some part was paid after its due date; Interest
	// is the interest on those parts.
	Late           bool                   `json:"late"`
	AdviceMismatch bool                   `json:"advice_mismatch"`
	Due            gateway.Money          `json:"due"`
	DueDate        string                 `json:"due_date"`
	Paid           gateway.Money          `json:"paid"`
	Shortfall      gateway.Money          `json:"shortfall"`
	Overpaid       gateway.Money          `json:"overpaid"`    // credit no open statement of the platform and scheme needed
	CarriedIn      gateway.Money          `json:"carried_in"`  // part of paid: credit carried from receipts identified for other periods
	CarriedOut     gateway.Money          `json:"carried_out"` // what receipts identified for this period paid to other periods
	Interest       gateway.Money          `json:"interest"`
	Accrued        gateway.Money          `json:"accrued_interest"` // on what is still open past its due date
	Advised        gateway.Money          `json:"advised"`
	MismatchCount  int                    `json:"mismatch_count"`
	Mismatches     []mismatchView         `json:"mismatches,omitempty"`
	Statements     []outcomeStatementView `json:"statements"`
	AsOf           time.Time              `json:"as_of"`
	RunID          int64                  `json:"run_id"`
}

type outcomeStatementView struct {
	ID      string        `json:"id"`
	Seq     uint32        `json:"seq"`
	Total   gateway.Money `json:"total"`
	DueDate string        `json:"due_date"`
	Paid    gateway.Money `json:"paid"`
	Open    gateway.Money `json:"open"`
}

type mismatchView struct {
	Kind        string        `json:"kind"` // missing_worker, different_amount or unknown_worker
	StatementID string        `json:"statement_id,omitempty"`
	WorkerKey   string        `json:"worker_key"`
	Stated      gateway.Money `json:"stated"`
	Advised     gateway.Money `json:"advised"`
	AdviceIDs   []string      `json:"advice_ids"`
}

// listOutcomes returns the latest run's outcomes, filtered by period,
// platform_id and scheme_id, each with up to 100 advice mismatches.
func (s *Server) listOutcomes(c echo.Context) error {
	ctx := c.Request().Context()
	os, err := s.cfg.FinanceStore.Outcomes(ctx, postgres.OutcomeFilter{Period: c.QueryParam("period"),
		PlatformID: c.QueryParam("platform_id"), SchemeID: c.QueryParam("scheme_id")})
	if err != nil {
		return err
	}
	out := struct {
		Outcomes []outcomeView `json:"outcomes"`
	}{Outcomes: make([]outcomeView, 0, len(os))}
	for _, o := range os {
		m := func(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: o.Currency} }
		v := outcomeView{PlatformID: o.PlatformID, SchemeID: o.SchemeID, Period: o.Period, Status: o.Status, Late: o.Late,
			AdviceMismatch: o.Mismatches > 0, Due: m(o.Due), DueDate: o.DueDate.String(), Paid: m(o.Paid), Shortfall: m(o.Shortfall),
			Overpaid: m(o.Overpaid), CarriedIn: m(o.CarriedIn), CarriedOut: m(o.CarriedOut), Interest: m(o.Interest), Accrued: m(o.Accrued), Advised: m(o.Advised),
			MismatchCount: o.Mismatches, AsOf: o.AsOf, RunID: o.RunID, Statements: []outcomeStatementView{}}
		for _, st := range o.Statements {
			v.Statements = append(v.Statements, outcomeStatementView{ID: st.ID, Seq: st.Seq, Total: m(st.Total), DueDate: st.DueDate,
				Paid: m(st.Paid), Open: m(st.Open)})
		}
		if o.Mismatches > 0 {
			ms, err := s.cfg.FinanceStore.Mismatches(ctx, o.PlatformID, o.SchemeID, o.Period, mismatchesShown)
			if err != nil {
				return err
			}
			for _, x := range ms {
				v.Mismatches = append(v.Mismatches, mismatchView{Kind: x.Kind, StatementID: x.StatementID, WorkerKey: x.WorkerKey,
					Stated: m(x.Stated), Advised: m(x.Advised), AdviceIDs: x.AdviceIDs})
			}
		}
		out.Outcomes = append(out.Outcomes, v)
	}
	return c.JSON(http.StatusOK, out)
}

// suspenseView is money received that pays no statement.
type suspenseView struct {
	ReceiptID     string        `json:"receipt_id"`
	Amount        gateway.Money `json:"amount"`
	Reason        string        `json:"reason"` // unidentified, unmatched, manual_remainder or undated
	Received      gateway.Money `json:"received"`
	ValueDate     string        `json:"value_date,omitempty"`
	BookingDate   string        `json:"booking_date,omitempty"`
	EndToEndID    string        `json:"end_to_end_id,omitempty"`
	CreditorRef   string        `json:"creditor_ref,omitempty"`
	Remittance    string        `json:"remittance,omitempty"`
	DebtorName    string        `json:"debtor_name,omitempty"`
	DebtorAccount string        `json:"debtor_account,omitempty"`
	Account       string        `json:"account"`
	BankStatement string        `json:"bank_statement"`
	ImportID      int64         `json:"import_id"`
}

// listSuspense returns the money in suspense, oldest receipt first.
func (s *Server) listSuspense(c echo.Context) error {
	items, err := s.cfg.FinanceStore.Suspense(c.Request().Context())
	if err != nil {
		return err
	}
	out := struct {
		Suspense []suspenseView  `json:"suspense"`
		Total    []gateway.Money `json:"total"` // per currency
	}{Suspense: make([]suspenseView, len(items)), Total: []gateway.Money{}}
	totals := map[gateway.Currency]int{}
	for i, it := range items {
		r := it.Receipt.Receipt
		out.Suspense[i] = suspenseView{ReceiptID: it.ID, Amount: it.Amount, Reason: it.Reason, Received: r.Amount,
			ValueDate: r.ValueDate.String(), BookingDate: r.BookingDate.String(), EndToEndID: r.EndToEndID, CreditorRef: r.CreditorRef,
			Remittance: r.Remittance, DebtorName: r.DebtorName, DebtorAccount: r.DebtorAccount.String(), Account: it.Account,
			BankStatement: it.StatementRef, ImportID: it.ImportID}
		j, ok := totals[it.Amount.Currency]
		if !ok {
			j = len(out.Total)
			totals[it.Amount.Currency] = j
			out.Total = append(out.Total, gateway.Money{Currency: it.Amount.Currency})
		}
		out.Total[j].Amount += it.Amount.Amount
	}
	return c.JSON(http.StatusOK, out)
}

// matchRequest is finance's manual match or unmatch.
type matchRequest struct {
	ReceiptID   string         `json:"receipt_id"`
	StatementID string         `json:"statement_id,omitempty"`
	Amount      *gateway.Money `json:"amount,omitempty"`
	Reason      string         `json:"reason"`
}

type decisionView struct {
	ID      string   `json:"id"`
	Applied bool     `json:"applied"`
	Note    string   `json:"note,omitempty"`
	Run     *runView `json:"run"`
}

// postMatch records a manual match (match true) or unmatch with its
// reason and the key that made it, runs matching and answers how the
// decision took effect: 201, applied or not with the reason.
func (s *Server) postMatch(match bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req matchRequest
		if err := s.bindJSON(c, &req); err != nil {
			return err
		}
		if req.ReceiptID == "" {
			return gateway.Invalid("receipt_id", "required", "receipt_id is required")
		}
		d := books.Decision{ReceiptID: req.ReceiptID, StatementID: req.StatementID, Reason: req.Reason, By: actor(c)}
		if req.Amount != nil {
			d.Amount = *req.Amount
		}
		decide := s.cfg.Finance.Unmatch
		if match {
			decide = s.cfg.Finance.Match
		}
		rep, err := decide(c.Request().Context(), d)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, decisionView{ID: rep.ID, Applied: rep.Applied, Note: rep.Note, Run: runViewOf(rep.Run)})
	}
}

type decisionTrailView struct {
	ID          string         `json:"id"`
	Kind        string         `json:"kind"`
	ReceiptID   string         `json:"receipt_id"`
	StatementID string         `json:"statement_id,omitempty"`
	Amount      *gateway.Money `json:"amount,omitempty"`
	Reason      string         `json:"reason"`
	DecidedBy   string         `json:"decided_by"`
	DecidedAt   time.Time      `json:"decided_at"`
	Applied     *bool          `json:"applied,omitempty"` // absent until a run considered it
	Note        string         `json:"note,omitempty"`
}

// listDecisions returns the audit trail of manual decisions, of one
// receipt with ?receipt_id=.
func (s *Server) listDecisions(c echo.Context) error {
	receipt := c.QueryParam("receipt_id")
	if receipt != "" {
		if _, err := strconv.ParseInt(receipt, 10, 64); err != nil {
			return gateway.Invalid("receipt_id", "malformed", "receipt_id is a number")
		}
	}
	ds, err := s.cfg.FinanceStore.Decisions(c.Request().Context(), receipt)
	if err != nil {
		return err
	}
	out := struct {
		Decisions []decisionTrailView `json:"decisions"`
	}{Decisions: make([]decisionTrailView, len(ds))}
	for i, d := range ds {
		v := decisionTrailView{ID: d.ID, Kind: string(d.Kind), ReceiptID: d.ReceiptID, StatementID: d.StatementID,
			Reason: d.Reason, DecidedBy: d.User, DecidedAt: d.At, Note: d.Note}
		if d.Amount.Amount != 0 {
			a := d.Amount
			v.Amount = &a
		}
		if d.Ran {
			applied := d.Applied
			v.Applied = &applied
		}
		out.Decisions[i] = v
	}
	return c.JSON(http.StatusOK, out)
}
