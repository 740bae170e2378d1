package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/coverage"
)

// CoverageStore reads what worker coverage and the coverage statistics are
// computed from; *postgres.DB is one.
type CoverageStore interface {
	// CoverageWorkerKey returns the worker key a platform's worker
	// reference was registered with; ENOTFOUND when there is none.
	CoverageWorkerKey(ctx context.Context, platformID, workerRef string) (string, error)
	// CoverageFacts gathers the facts per scheme; platformID "" reads every
	// platform. ENOTFOUND for a worker unknown within the scope.
	CoverageFacts(ctx context.Context, catalog *gateway.Catalog, workerKey, platformID string, date calendar.Date) ([]coverage.Input, error)
	// CoverageStatistics counts workers and sums contributions by month
	// and group.
	CoverageStatistics(ctx context.Context, catalog *gateway.Catalog, q postgres.StatisticsQuery) ([]postgres.StatisticsRow, error)
}

// coverageRoutes registers worker coverage and the coverage statistics.
func (s *Server) coverageRoutes(v1 *echo.Group) {
	v1.GET("/workers/:ref/coverage", s.getCoverage)
	v1.GET("/statistics/coverage", s.getStatistics)
}

// isStaff reports whether the role reads every platform's workers:
// compliance, finance and admin keys.
func isStaff(p access.Principal) bool {
	return p.Role == access.RoleCompliance || p.Role == access.RoleFinance || p.Role == access.RoleAdmin
}

type coverageView struct {
	WorkerKey  string               `json:"worker_key"`
	WorkerRef  string               `json:"worker_ref,omitempty"`
	PlatformID string               `json:"platform_id,omitempty"` // the platform the answer is limited to
	Date       string               `json:"date"`
	Covered    bool                 `json:"covered"` // under at least one scheme
	Schemes    []schemeCoverageView `json:"schemes"`
}

type schemeCoverageView struct {
	SchemeID       string                 `json:"scheme_id"`
	SchemeName     string                 `json:"scheme_name"`
	Basis          string                 `json:"basis"` // withholding, payment or none
	Rule           string                 `json:"rule"`
	Covered        bool                   `json:"covered"`
	Reason         string                 `json:"reason"`
	Why            string                 `json:"why"`
	Period         *periodView            `json:"period,omitempty"`
	DecidingPeriod string                 `json:"deciding_period,omitempty"`
	CoveredFrom    string                 `json:"covered_from,omitempty"`
	CoveredUntil   string                 `json:"covered_until,omitempty"`
	Registered     bool                   `json:"registered"` // a registration under the scheme is active on the date
	Registrations  []coverageRegistration `json:"registrations"`
	Contributions  []coverageContribution `json:"contributions"`
}

type periodView struct {
	Key      string `json:"key"`
	FirstDay string `json:"first_day"`
	LastDay  string `json:"last_day"`
}

type coverageRegistration struct {
	PlatformID string `json:"platform_id"`
	WorkerRef  string `json:"worker_ref"`
	Active     bool   `json:"active"`
	PlanID     string `json:"plan_id,omitempty"`
	Since      string `json:"since,omitempty"`
	Ended      string `json:"ended,omitempty"`
}

type coverageContribution struct {
	PlatformID    string              `json:"platform_id"`
	PlanID        string              `json:"plan_id,omitempty"`
	Period        string              `json:"period"`
	WorkerShare   gateway.Money       `json:"worker_share"`
	PlatformShare gateway.Money       `json:"platform_share"`
	Total         gateway.Money       `json:"total"`
	Shortfall     *gateway.Money      `json:"shortfall,omitempty"`
	Statements    []coverageStatement `json:"statements"`
}

type coverageStatement struct {
	ID           string        `json:"id"`
	Seq          uint32        `json:"seq"`
	Line         gateway.Money `json:"line"`
	Outcome      string        `json:"outcome,omitempty"` // the period's latest matching outcome
	Paid         bool          `json:"paid"`
	RecognisedOn string        `json:"recognised_on,omitempty"`
}

// getCoverage answers whether a worker is covered on a date under each
// scheme the worker has a registration or contributions under, and why. A
// platform key names its own worker reference and sees only its own
// registrations and contributions; a staff key (compliance, finance,
// admin) names the worker key and sees every platform's, or names a
// platform with platform_id and then a worker reference of that platform.
func (s *Server) getCoverage(c echo.Context) error {
	ref := c.Param("ref")
	platform, byKey := "", false
	p, authed := principal(c)
	switch {
	case authed && isStaff(p) && c.QueryParam("platform_id") == "":
		byKey = true
	case authed && !isStaff(p) && p.Role != access.RolePlatform:
		return gateway.Errorf(gateway.EFORBIDDEN, "this key's role reaches no worker")
	default:
		var err error
		if platform, err = s.platformID(c); err != nil {
			return err
		}
	}
	date, err := calendar.ParseDate(c.QueryParam("date"))
	if err != nil {
		return gateway.Invalid("date", "bad_date", "date must be a date such as 2026-11-09")
	}
	if s.cfg.Coverage == nil || s.cfg.Schemes == nil {
		return notServed("coverage")
	}
	ctx := c.Request().Context()
	key, workerRef := ref, ""
	if !byKey {
		if key, err = s.cfg.Coverage.CoverageWorkerKey(ctx, platform, ref); err != nil {
			return err
		}
		workerRef = ref
	}
	ins, err := s.cfg.Coverage.CoverageFacts(ctx, s.cfg.Schemes, key, platform, date)
	if err != nil {
		return err
	}
	out := coverageView{WorkerKey: key, WorkerRef: workerRef, PlatformID: platform, Date: date.String(), Schemes: []schemeCoverageView{}}
	for _, in := range ins {
		a := coverage.Decide(in)
		v := schemeCoverageView{SchemeID: a.SchemeID, SchemeName: in.Scheme.Name, Basis: string(a.Basis), Rule: a.Rule, Covered: a.Covered,
			Reason: a.Reason, Why: a.Why, DecidingPeriod: a.Deciding, CoveredFrom: a.CoveredFrom.String(), CoveredUntil: a.CoveredUntil.String(),
			Registrations: []coverageRegistration{}, Contributions: []coverageContribution{}}
		if a.Period.Key != "" {
			v.Period = &periodView{Key: a.Period.Key, FirstDay: calendar.DateOf(a.Period.Start).String(),
				LastDay: calendar.DateOf(a.Period.End.AddDate(0, 0, -1)).String()}
		}
		for _, r := range a.Registrations {
			v.Registered = v.Registered || r.Active
			v.Registrations = append(v.Registrations, coverageRegistration{PlatformID: r.PlatformID, WorkerRef: r.WorkerRef, Active: r.Active,
				PlanID: r.PlanID, Since: r.Since.String(), Ended: r.Ended.String()})
		}
		for _, ct := range a.Contributions {
			cv := coverageContribution{PlatformID: ct.PlatformID, PlanID: ct.PlanID, Period: ct.Period, WorkerShare: ct.WorkerShare,
				PlatformShare: ct.PlatformShare, Total: ct.Total(), Statements: []coverageStatement{}}
			if ct.Shortfall.Amount > 0 {
				sf := ct.Shortfall
				cv.Shortfall = &sf
			}
			for _, st := range ct.Statements {
				cv.Statements = append(cv.Statements, coverageStatement{ID: st.ID, Seq: st.Seq, Line: st.Line, Outcome: st.Outcome,
					Paid: st.Paid, RecognisedOn: st.RecognisedOn.String()})
			}
			v.Contributions = append(v.Contributions, cv)
		}
		out.Covered = out.Covered || a.Covered
		out.Schemes = append(out.Schemes, v)
	}
	return c.JSON(http.StatusOK, out)
}
