package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// StatementStore reads issued statements; *postgres.DB is one.
type StatementStore interface {
	// Statements lists statements in the order they were issued.
	Statements(ctx context.Context, f postgres.StatementFilter) ([]postgres.IssuedStatement, error)
	// Statement returns one statement without its lines; ENOTFOUND for an
	// unknown id.
	Statement(ctx context.Context, id string) (postgres.IssuedStatement, error)
	// EachStatementLine calls fn with each line, by worker key.
	EachStatementLine(ctx context.Context, st *postgres.IssuedStatement, fn func(statement.Line) error) error
}

// AdviceBooks stores remittance advice; *books.Keeper is one.
type AdviceBooks interface {
	// SubmitAdvice stores one advice under the platform's id of it.
	// Errors: EINVALID naming the field; ECONFLICT for the same id with
	// other content.
	SubmitAdvice(ctx context.Context, ref string, a statement.Advice) (postgres.StoredAdvice, error)
	// ImportAdviceCSV stores every advice of a CSV file, or none.
	// Errors: EINVALID or ETOOLARGE naming the column and line.
	ImportAdviceCSV(ctx context.Context, platformID string, r io.Reader) ([]postgres.StoredAdvice, error)
}

// notServed is the answer of a route whose store this server was not
// given.
func notServed(what string) error {
	return gateway.Errorf(gateway.EINTERNAL, "this server is not configured to serve %s", what)
}

// statementRoutes registers the statements and remittance advice routes.
func (s *Server) statementRoutes(v1 *echo.Group) {
	read := s.allow(access.StatementsRead)
	v1.GET("/statements", s.listStatements, read)
	v1.GET("/statements/:id", s.getStatement, read)
	v1.POST("/remittances", s.postRemittance)
	v1.POST("/remittances.csv", s.postRemittanceCSV)
}

// statementView is a statement as the API shows it.
type statementView struct {
	ID             string        `json:"id"`
	Reference      string        `json:"reference"`       // electronic format, to pay with
	ReferencePrint string        `json:"reference_print"` // in groups of four, to print
	PlatformID     string        `json:"platform_id"`
	SchemeID       string        `json:"scheme_id"`
	Period         string        `json:"period"`
	Seq            uint32        `json:"seq"`
	Kind           string        `json:"kind"`
	Supplements    string        `json:"supplements,omitempty"`
	WorkerShare    gateway.Money `json:"worker_share"`
	PlatformShare  gateway.Money `json:"platform_share"`
	Total          gateway.Money `json:"total"`
	DueDate        string        `json:"due_date"`
	IssuedAt       time.Time     `json:"issued_at"`
	LateEntries    int           `json:"late_entries"`
	LineCount      int           `json:"line_count"`
}

type statementLineView struct {
	WorkerKey     string        `json:"worker_key"`
	WorkerShare   gateway.Money `json:"worker_share"`
	PlatformShare gateway.Money `json:"platform_share"`
	Total         gateway.Money `json:"total"`
	Late          bool          `json:"late,omitempty"`
}

func statementViewOf(st *postgres.IssuedStatement) statementView {
	return statementView{ID: st.ID, Reference: st.Reference, ReferencePrint: rfref.Format(st.Reference), PlatformID: st.Key.Platform,
		SchemeID: st.SchemeID, Period: st.Key.Period, Seq: st.Seq, Kind: string(st.Kind), Supplements: st.Supplements,
		WorkerShare: st.Worker, PlatformShare: st.Platform, Total: st.Total, DueDate: st.DueDate.String(),
		IssuedAt: st.IssuedAt, LateEntries: st.LateEntries, LineCount: st.LineCount}
}

// statementScope returns the platform a statements request is limited to:
// a platform key's own, or for staff the platform_id filter ("" for all).
func (s *Server) statementScope(c echo.Context) (string, error) {
	named := c.QueryParam("platform_id")
	p, ok := principal(c)
	if !ok {
		return named, nil
	}
	own, all := p.Scope()
	switch {
	case all:
		return named, nil
	case own == "":
		return "", gateway.Errorf(gateway.EFORBIDDEN, "this key belongs to no platform")
	case named != "" && named != own:
		return "", gateway.Errorf(gateway.ENOTFOUND, "not found")
	default:
		return own, nil
	}
}

// listStatements lists statements: a platform key sees its own, finance
// every platform's, filtered by platform_id, scheme_id and period.
func (s *Server) listStatements(c echo.Context) error {
	platform, err := s.statementScope(c)
	if err != nil {
		return err
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return gateway.Invalid("limit", "out_of_range", "limit is 1 to 1000")
		}
		limit = n
	}
	if s.cfg.Statements == nil {
		return notServed("statements")
	}
	sts, err := s.cfg.Statements.Statements(c.Request().Context(), postgres.StatementFilter{PlatformID: platform,
		SchemeID: c.QueryParam("scheme_id"), Period: c.QueryParam("period"), After: c.QueryParam("after"), Limit: limit})
	if err != nil {
		return err
	}
	out := struct {
		Statements []statementView `json:"statements"`
		Next       string          `json:"next,omitempty"` // pass as ?after= for the next page
	}{Statements: make([]statementView, len(sts))}
	for i := range sts {
		out.Statements[i] = statementViewOf(&sts[i])
	}
	if len(sts) == limit {
		out.Next = sts[len(sts)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

// getStatement returns one statement with its lines, streamed: a statement
// of a million workers is written line by line.
func (s *Server) getStatement(c echo.Context) error {
	platform, err := s.statementScope(c)
	if err != nil {
		return err
	}
	if s.cfg.Statements == nil {
		return notServed("statements")
	}
	ctx := c.Request().Context()
	st, err := s.cfg.Statements.Statement(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if platform != "" && st.Key.Platform != platform {
		return gateway.Errorf(gateway.ENOTFOUND, "no statement %s", c.Param("id"))
	}
	head, err := json.Marshal(statementViewOf(&st))
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.WriteHeader(http.StatusOK)
	buf := bytes.NewBuffer(make([]byte, 0, 64<<10))
	buf.Write(head[:len(head)-1])
	buf.WriteString(`,"lines":[`)
	n := 0
	err = s.cfg.Statements.EachStatementLine(ctx, &st, func(l statement.Line) error {
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		b, _ := json.Marshal(statementLineView{WorkerKey: l.WorkerKey, WorkerShare: l.Worker, PlatformShare: l.Platform,
			Total: l.Total(), Late: l.Late})
		buf.Write(b)
		if buf.Len() > 60<<10 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return err
			}
			buf.Reset()
		}
		return nil
	})
	if err != nil {
		// The status is sent: the client sees a truncated body.
		s.log.Error("stream statement lines", "statement", st.ID, "err", err)
		return nil
	}
	buf.WriteString("]}\n")
	_, err = w.Write(buf.Bytes())
	return err
}

// remittanceRequest is a platform's remittance advice.
type remittanceRequest struct {
	AdviceID         string                  `json:"advice_id"`
	PaymentReference string                  `json:"payment_reference"`
	Amount           *gateway.Money          `json:"amount"`
	ValueDate        string                  `json:"value_date"`
	SchemeID         string                  `json:"scheme_id,omitempty"`
	Period           string                  `json:"period,omitempty"`
	Lines            []remittanceLineRequest `json:"lines,omitempty"`
}

type remittanceLineRequest struct {
	WorkerKey string         `json:"worker_key"`
	Amount    *gateway.Money `json:"amount"`
}

// adviceView is a stored remittance advice.
type adviceView struct {
	ID               string        `json:"id"`
	AdviceID         string        `json:"advice_id"`
	Status           string        `json:"status"` // recorded, or duplicate when stored before
	PlatformID       string        `json:"platform_id"`
	PaymentReference string        `json:"payment_reference"`
	Amount           gateway.Money `json:"amount"`
	ValueDate        string        `json:"value_date"`
	SchemeID         string        `json:"scheme_id,omitempty"`
	Period           string        `json:"period,omitempty"`
	Lines            int           `json:"lines"`
	Source           string        `json:"source"`
	ReceivedAt       time.Time     `json:"received_at"`
}

func adviceViewOf(a postgres.StoredAdvice) adviceView {
	status := "recorded"
	if !a.Created {
		status = "duplicate"
	}
	return adviceView{ID: a.ID, AdviceID: a.Ref, Status: status, PlatformID: a.Platform, PaymentReference: a.PaymentReference,
		Amount: a.Amount, ValueDate: a.ValueDate.String(), SchemeID: a.Scheme, Period: a.Period, Lines: a.LineCount,
		Source: a.Source, ReceivedAt: a.ReceivedAt.UTC()}
}

// postRemittance stores a platform's remittance advice: 201 when recorded,
// 200 when the same advice was recorded before, 409 for the same
// advice_id with other content.
func (s *Server) postRemittance(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	if s.cfg.Advice == nil {
		return notServed("remittance advice")
	}
	var req remittanceRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	a := statement.Advice{Platform: platform, PaymentReference: req.PaymentReference, Scheme: req.SchemeID, Period: req.Period}
	var details []gateway.Detail
	bad := func(field, code, msg string) {
		details = append(details, gateway.Detail{Field: field, Code: code, Message: msg})
	}
	if req.Amount == nil {
		bad("amount", "required", "amount is required")
	} else {
		a.Amount = *req.Amount
	}
	if d, err := calendar.ParseDate(req.ValueDate); err != nil {
		bad("value_date", "bad_date", "value_date must be a date such as 2026-11-09")
	} else {
		a.ValueDate = d
	}
	for i, l := range req.Lines {
		if l.Amount == nil {
			bad("lines["+strconv.Itoa(i)+"].amount", "required", "amount is required")
			continue
		}
		a.Lines = append(a.Lines, statement.AdviceLine{WorkerKey: l.WorkerKey, Amount: *l.Amount})
	}
	if len(details) > 0 {
		return &gateway.Error{Code: gateway.EINVALID, Message: "invalid remittance advice", Details: details}
	}
	stored, err := s.cfg.Advice.SubmitAdvice(c.Request().Context(), req.AdviceID, a)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !stored.Created {
		status = http.StatusOK
	}
	return c.JSON(status, adviceViewOf(stored))
}

// maxAdviceFileBytes bounds an advice file upload, as the parser does.
const maxAdviceFileBytes = 64 << 20

// postRemittanceCSV stores every advice of a CSV file, or none: 201 with
// the advices, each recorded or a duplicate of the same file sent before.
func (s *Server) postRemittanceCSV(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	if s.cfg.Advice == nil {
		return notServed("remittance advice")
	}
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, _ := mime.ParseMediaType(ct); mt != "text/csv" {
		return gateway.Errorf(gateway.EUNSUPPORTED, "content type %q is not supported here: send text/csv", ct)
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxAdviceFileBytes)
	stored, err := s.cfg.Advice.ImportAdviceCSV(c.Request().Context(), platform, body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return gateway.Errorf(gateway.ETOOLARGE, "an advice file is at most %d bytes", maxAdviceFileBytes)
	}
	if err != nil {
		return err
	}
	out := struct {
		Recorded   int          `json:"recorded"`
		Duplicates int          `json:"duplicates"`
		Advices    []adviceView `json:"advices"`
	}{Advices: make([]adviceView, len(stored))}
	for i, a := range stored {
		out.Advices[i] = adviceViewOf(a)
		if a.Created {
			out.Recorded++
		} else {
			out.Duplicates++
		}
	}
	status := http.StatusCreated
	if out.Recorded == 0 {
		status = http.StatusOK
	}
	return c.JSON(status, out)
}
