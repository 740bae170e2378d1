package httpapi

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/coverage"
)

// maxStatisticsMonths bounds the months one statistics request covers.
const maxStatisticsMonths = 60

// rateDigits is how many decimals a coverage rate is rendered with.
const rateDigits = 4

type statisticsView struct {
	From  string          `json:"from"`
	To    string          `json:"to"`
	Group []string        `json:"group"`
	Rows  []statisticsRow `json:"rows"`
}

type statisticsRow struct {
	Month          string               `json:"month"`
	SchemeID       string               `json:"scheme_id,omitempty"`
	PlatformID     string               `json:"platform_id,omitempty"`
	Sector         *string              `json:"sector,omitempty"` // "" when no registration names one
	WorkersActive  int64                `json:"workers_active"`
	WorkersCovered int64                `json:"workers_covered"`
	CoverageRate   *rateView            `json:"coverage_rate"` // null when no worker was active
	Contributions  []contributionTotals `json:"contributions,omitempty"`
}

type rateView struct {
	Ratio   string `json:"ratio"`   // "covered/active", exact
	Decimal string `json:"decimal"` // rounded half up to 4 decimals
}

type contributionTotals struct {
	Currency  gateway.Currency `json:"currency"`
	Due       gateway.Money    `json:"due"`
	Collected gateway.Money    `json:"collected"`
}

// getStatistics returns the coverage statistics for the insurer, per month
// and group: workers with earnings, workers covered under their scheme's
// rule, the exact coverage rate, and contributions due against collected
// per currency. Staff keys only. JSON, or CSV with format=csv.
func (s *Server) getStatistics(c echo.Context) error {
	if p, ok := principal(c); !ok || !isStaff(p) {
		return gateway.Errorf(gateway.EFORBIDDEN, "coverage statistics are for finance, compliance and admin keys")
	}
	from, err := coverage.ParseMonth("from", c.QueryParam("from"))
	if err != nil {
		return err
	}
	to, err := coverage.ParseMonth("to", c.QueryParam("to"))
	if err != nil {
		return err
	}
	months := (to.Year-from.Year)*12 + int(to.Month) - int(from.Month) + 1
	if months < 1 || months > maxStatisticsMonths {
		return gateway.Invalid("to", "out_of_range", "to must be from or a later month, at most "+strconv.Itoa(maxStatisticsMonths)+" months on")
	}
	q := postgres.StatisticsQuery{From: from, To: to}
	group := []string{}
	if g := c.QueryParam("group"); g != "" {
		for _, name := range strings.Split(g, ",") {
			switch strings.TrimSpace(name) {
			case "scheme":
				q.ByScheme = true
			case "platform":
				q.ByPlatform = true
			case "sector":
				q.BySector = true
			default:
				return gateway.Invalid("group", "unknown_group", "group is a comma-separated list of scheme, platform and sector, not "+strconv.Quote(name))
			}
			group = append(group, strings.TrimSpace(name))
		}
	}
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" {
		return gateway.Invalid("format", "unknown_format", "format is json or csv")
	}
	if s.cfg.Coverage == nil || s.cfg.Schemes == nil {
		return notServed("coverage statistics")
	}
	rows, err := s.cfg.Coverage.CoverageStatistics(c.Request().Context(), s.cfg.Schemes, q)
	if err != nil {
		return err
	}
	out := statisticsView{From: c.QueryParam("from"), To: c.QueryParam("to"), Group: group, Rows: make([]statisticsRow, 0, len(rows))}
	for _, r := range rows {
		v := statisticsRow{Month: r.Month, SchemeID: r.SchemeID, PlatformID: r.PlatformID, WorkersActive: r.Active, WorkersCovered: r.Covered}
		if q.BySector {
			sector := r.Sector
			v.Sector = &sector
		}
		if r.Active > 0 {
			ratio := coverage.Ratio{Num: r.Covered, Den: r.Active}
			v.CoverageRate = &rateView{Ratio: ratio.String(), Decimal: ratio.Decimal(rateDigits)}
		}
		for i := range r.Due {
			v.Contributions = append(v.Contributions, contributionTotals{Currency: r.Due[i].Currency, Due: r.Due[i], Collected: r.Collected[i]})
		}
		out.Rows = append(out.Rows, v)
	}
	if format != "csv" {
		return c.JSON(http.StatusOK, out)
	}
	return writeStatisticsCSV(c, out)
}

// writeStatisticsCSV writes one line per row and currency; a row without
// contributions has one line with the money columns empty. Amounts are
// decimal strings in the currency.
func writeStatisticsCSV(c echo.Context, v statisticsView) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="coverage-statistics-`+v.From+`-`+v.To+`.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"month", "scheme_id", "platform_id", "sector", "workers_active", "workers_covered", "coverage_ratio",
		"coverage_rate", "currency", "due", "collected"})
	for _, r := range v.Rows {
		ratio, rate, sector := "", "", ""
		if r.CoverageRate != nil {
			ratio, rate = r.CoverageRate.Ratio, r.CoverageRate.Decimal
		}
		if r.Sector != nil {
			sector = csvText(*r.Sector)
		}
		head := []string{r.Month, r.SchemeID, r.PlatformID, sector, strconv.FormatInt(r.WorkersActive, 10),
			strconv.FormatInt(r.WorkersCovered, 10), ratio, rate}
		if len(r.Contributions) == 0 {
			_ = cw.Write(append(head, "", "", ""))
			continue
		}
		for _, m := range r.Contributions {
			_ = cw.Write(append(head[:len(head):len(head)], string(m.Currency), m.Due.String(), m.Collected.String()))
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText keeps a spreadsheet from reading a text cell as a formula.
func csvText(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
