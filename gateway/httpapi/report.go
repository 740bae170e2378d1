package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/report"
)

// ReportStore streams the finance reports of the latest matching run;
// *postgres.DB is one. Each method calls start with the run, then add with
// each row, in one snapshot.
type ReportStore interface {
	ReconciliationReport(ctx context.Context, f postgres.ReportFilter, start func(postgres.ReportRun) error, add func(report.Line) error) error
	AgingReport(ctx context.Context, f postgres.ReportFilter, start func(postgres.ReportRun) error, add func(report.OpenItem) error) error
	SuspenseReport(ctx context.Context, start func(postgres.ReportRun) error, add func(report.SuspenseLine) error) error
}

// reportRoutes registers the finance reports under /v1/finance/reports,
// for keys that read the reconciliation (finance and admin). Each answers
// JSON, CSV or XLSX, chosen by ?format= or else the Accept header.
func (s *Server) reportRoutes(v1 *echo.Group) {
	g := v1.Group("/finance/reports", s.allow(access.ReconciliationRead), s.reportsServed)
	g.GET("/reconciliation", s.reconciliationReport)
	g.GET("/aging", s.agingReport)
	g.GET("/suspense", s.suspenseReport)
}

// reportsServed answers the report routes when this server was given no
// store to read them from.
func (s *Server) reportsServed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Reports == nil {
			return notServed("finance reports")
		}
		return next(c)
	}
}

// reportFormat is the format a request asks for: ?format=json|csv|xlsx,
// or else the first media type of the Accept header that is one of them;
// JSON when neither says.
func reportFormat(c echo.Context) (report.Format, error) {
	if f := c.QueryParam("format"); f != "" {
		return report.ParseFormat(f)
	}
	for _, part := range strings.Split(c.Request().Header.Get(echo.HeaderAccept), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if f, ok := report.FormatOf(mt); ok {
			return f, nil
		}
	}
	return report.JSON, nil
}

// runFields are the header fields naming the run a report shows.
func runFields(run postgres.ReportRun) []report.Field {
	asOf := ""
	if run.ID != 0 {
		asOf = run.AsOf.Format(time.RFC3339)
	}
	return []report.Field{{Key: "run_id", Value: report.Int(run.ID)}, {Key: "run_as_of", Value: report.Text(asOf)}}
}

// reconciliationReport answers the reconciliation of a period per
// platform and scheme (?period= required; ?scheme= and ?platform=
// narrow it), with totals per currency.
func (s *Server) reconciliationReport(c echo.Context) error {
	f := postgres.ReportFilter{Period: c.QueryParam("period"), SchemeID: c.QueryParam("scheme"), PlatformID: c.QueryParam("platform")}
	if err := report.ValidPeriod(f.Period); err != nil {
		return err
	}
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	name := "reconciliation-" + f.Period
	for _, part := range []string{f.SchemeID, f.PlatformID} {
		if part != "" {
			name += "-" + part
		}
	}
	return s.download(c, format, name, func(out io.Writer) (func() error, error) {
		var r *report.Reconciliation
		err := s.cfg.Reports.ReconciliationReport(c.Request().Context(), f, func(run postgres.ReportRun) error {
			meta := []report.Field{{Key: "report", Value: report.Text("reconciliation")}, {Key: "period", Value: report.Text(f.Period)},
				{Key: "scheme_id", Value: report.Text(f.SchemeID)}, {Key: "platform_id", Value: report.Text(f.PlatformID)}}
			r = report.NewReconciliation(report.NewWriter(format, out, append(meta, runFields(run)...)))
			return nil
		}, func(l report.Line) error { return r.Add(l) })
		if r == nil {
			return nil, err
		}
		return r.Close, err
	})
}

// agingReport answers what is still open, per platform and in total, per
// currency, by days past due as of ?as_of= (default today, UTC);
// ?period=, ?scheme= and ?platform= narrow it.
func (s *Server) agingReport(c echo.Context) error {
	f := postgres.ReportFilter{Period: c.QueryParam("period"), SchemeID: c.QueryParam("scheme"), PlatformID: c.QueryParam("platform")}
	if f.Period != "" {
		if err := report.ValidPeriod(f.Period); err != nil {
			return err
		}
	}
	now := time.Now
	if s.cfg.Now != nil {
		now = s.cfg.Now
	}
	asOf := calendar.DateOf(now().UTC())
	if q := c.QueryParam("as_of"); q != "" {
		d, err := calendar.ParseDate(q)
		if err != nil {
			return gateway.Invalid("as_of", "malformed", "as_of is a date, YYYY-MM-DD")
		}
		asOf = d
	}
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	return s.download(c, format, "aging-"+asOf.String(), func(out io.Writer) (func() error, error) {
		var a *report.Aging
		err := s.cfg.Reports.AgingReport(c.Request().Context(), f, func(run postgres.ReportRun) error {
			meta := []report.Field{{Key: "report", Value: report.Text("aging")}, {Key: "as_of", Value: report.Day(asOf)}}
			a = report.NewAging(report.NewWriter(format, out, append(meta, runFields(run)...)), asOf)
			return nil
		}, func(it report.OpenItem) error { return a.Add(it) })
		if a == nil {
			return nil, err
		}
		return a.Close, err
	})
}

// suspenseReport answers the money in suspense, oldest receipt first,
// with totals per currency.
func (s *Server) suspenseReport(c echo.Context) error {
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	return s.download(c, format, "suspense", func(out io.Writer) (func() error, error) {
		var w *report.Suspense
		err := s.cfg.Reports.SuspenseReport(c.Request().Context(), func(run postgres.ReportRun) error {
			w = report.NewSuspense(report.NewWriter(format, out, append([]report.Field{{Key: "report", Value: report.Text("suspense")}}, runFields(run)...)))
			return nil
		}, func(l report.SuspenseLine) error { return w.Add(l) })
		if w == nil {
			return nil, err
		}
		return w.Close, err
	})
}

// download streams a report. write writes it to out and returns the
// function that ends it. Writers buffer, so the status and headers go out
// with the first buffer full: an error before then is answered as an
// error; one after it (the client went away, the database failed) can no
// longer be, and the connection is cut so that a truncated file is never
// taken for a whole one.
func (s *Server) download(c echo.Context, f report.Format, name string, write func(out io.Writer) (func() error, error)) error {
	out := &lazyBody{c: c, format: f, name: name}
	end, err := write(out)
	if err == nil && end != nil {
		err = end()
	}
	switch {
	case err == nil && !out.started:
		out.start()
		return nil
	case err == nil:
		return nil
	case !out.started:
		return err
	}
	if !errors.Is(err, context.Canceled) {
		s.log.Error("report download cut short", "report", name, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// lazyBody sends the status and headers of a download with its first
// bytes.
type lazyBody struct {
	c       echo.Context
	format  report.Format
	name    string
	started bool
}

func (b *lazyBody) start() {
	b.started = true
	h := b.c.Response().Header()
	h.Set(echo.HeaderContentType, b.format.ContentType())
	if b.format != report.JSON {
		h.Set(echo.HeaderContentDisposition, b.format.Disposition(b.name))
	}
	h.Set("Cache-Control", "no-store")
	b.c.Response().WriteHeader(http.StatusOK)
}

func (b *lazyBody) Write(p []byte) (int, error) {
	if !b.started {
		b.start()
	}
	return b.c.Response().Write(p)
}
