package httpapi

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/reconciliation/gaps"
	"github.com/coverbridge/coverbridge/reconciliation/notice"
)

// GapStore keeps compliance gaps, their history and notices; *postgres.DB
// is one.
type GapStore interface {
	// Gaps and Worklist list gaps; Gap returns one with its history
	// (ENOTFOUND).
	Gaps(ctx context.Context, f postgres.GapFilter) ([]postgres.Gap, error)
	Worklist(ctx context.Context, platformID string, offset, limit int) ([]postgres.Gap, error)
	Gap(ctx context.Context, id int64) (postgres.Gap, []postgres.GapEvent, error)
	// SetGapStatus, AssignGap and AddGapNote change a gap. Errors:
	// ENOTFOUND; EINVALID naming status, reason, assignee or note.
	SetGapStatus(ctx context.Context, id int64, c postgres.GapChange) (postgres.Gap, []postgres.GapEvent, error)
	AssignGap(ctx context.Context, id int64, c postgres.GapChange) (postgres.Gap, []postgres.GapEvent, error)
	AddGapNote(ctx context.Context, id int64, c postgres.GapChange) (postgres.Gap, []postgres.GapEvent, error)
	// CreateGapNotice stores a notice letter, or finds the same one stored
	// before (created false). Errors: ENOTFOUND for an unknown platform,
	// EINVALID naming platform_id when it has no open gaps.
	CreateGapNotice(ctx context.Context, platformID, by string, at time.Time,
		render func(postgres.NoticeDraft) ([]byte, error)) (postgres.GapNotice, bool, error)
	// GapNoticeByID returns a stored notice (ENOTFOUND).
	GapNoticeByID(ctx context.Context, id int64) (postgres.GapNotice, error)
	// DetectGaps runs detection now. Errors: EINVALID for a bad rule
	// setting.
	DetectGaps(ctx context.Context, trigger string, cfg gaps.Config, now time.Time) (postgres.GapDetection, error)
}

// gapRoutes registers the compliance API under /v1/compliance: compliance
// and admin keys; reading needs gaps:read, changing gaps:write.
func (s *Server) gapRoutes(v1 *echo.Group) {
	g := v1.Group("/compliance", s.allow(access.GapsRead), s.gapsServed)
	write := s.allow(access.GapsWrite)
	g.GET("/gaps", s.listGaps)
	g.GET("/worklist", s.worklist)
	g.GET("/gaps/:id", s.getGap)
	g.POST("/gaps/:id/status", s.changeGap(gapStatus), write)
	g.POST("/gaps/:id/assignment", s.changeGap(gapAssignment), write)
	g.POST("/gaps/:id/notes", s.changeGap(gapNote), write)
	g.POST("/detections", s.postDetection, write)
	g.POST("/notices", s.postNotice, write)
	g.GET("/notices/:id", s.getNotice)
	g.GET("/notices/:id/letter.pdf", s.getNoticeLetter)
}

// gapsServed answers the compliance routes when this server was given no
// gap store.
func (s *Server) gapsServed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Gaps == nil {
			return notServed("compliance")
		}
		return next(c)
	}
}

func (s *Server) gapNow() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

// gapView is a gap as the API shows it.
type gapView struct {
	ID         int64          `json:"id"`
	Kind       gaps.Kind      `json:"kind"`
	PlatformID string         `json:"platform_id,omitempty"`
	SchemeID   string         `json:"scheme_id,omitempty"`
	Period     string         `json:"period,omitempty"`
	Subject    string         `json:"subject,omitempty"`
	Amount     gateway.Money  `json:"amount"`
	Interest   gateway.Money  `json:"interest"`
	AtStake    gateway.Money  `json:"at_stake"` // amount and interest
	Severity   gaps.Severity  `json:"severity"`
	Since      time.Time      `json:"since"`
	AgeDays    int            `json:"age_days"`
	Status     gaps.Status    `json:"status"`
	Cured      bool           `json:"cured"`
	Assignee   string         `json:"assignee,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Evidence   gaps.Evidence  `json:"evidence"`
	DetectedAt time.Time      `json:"detected_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	History    []gapEventView `json:"history,omitempty"`
}

type gapEventView struct {
	At       time.Time      `json:"at"`
	Actor    string         `json:"actor"`
	Action   string         `json:"action"`
	From     gaps.Status    `json:"from,omitempty"`
	To       gaps.Status    `json:"to,omitempty"`
	Amount   *gateway.Money `json:"amount,omitempty"`
	Severity gaps.Severity  `json:"severity,omitempty"`
	Note     string         `json:"note,omitempty"`
}

func gapViewOf(g postgres.Gap, now time.Time) gapView {
	m := func(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: g.Currency} }
	return gapView{ID: g.ID, Kind: g.Kind, PlatformID: g.PlatformID, SchemeID: g.SchemeID, Period: g.Period, Subject: g.Subject,
		Amount: m(g.Amount), Interest: m(g.Interest), AtStake: m(g.Amount + g.Interest), Severity: g.Severity, Since: g.Since,
		AgeDays: max(int(now.Sub(g.Since)/(24*time.Hour)), 0), Status: g.Status, Cured: g.Cured, Assignee: g.Assignee,
		Reason: g.Reason, Evidence: g.Evidence, DetectedAt: g.DetectedAt, UpdatedAt: g.UpdatedAt}
}

func gapDetailOf(g postgres.Gap, hist []postgres.GapEvent, now time.Time) gapView {
	v := gapViewOf(g, now)
	v.History = make([]gapEventView, len(hist))
	for i, e := range hist {
		v.History[i] = gapEventView{At: e.At, Actor: e.Actor, Action: e.Action, From: e.From, To: e.To, Severity: e.Severity, Note: e.Note}
		if e.Amount != nil {
			v.History[i].Amount = &gateway.Money{Amount: *e.Amount, Currency: g.Currency}
		}
	}
	return v
}

// queryInt reads an optional non-negative integer query parameter.
func queryInt(c echo.Context, name string, def, most int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > most {
		return 0, gateway.Invalid(name, "out_of_range", name+" is a whole number from 0 to "+strconv.Itoa(most))
	}
	return n, nil
}

// listGaps returns gaps by id, filtered by kind, status, platform_id,
// scheme_id, period, assignee and severity; after and limit page.
func (s *Server) listGaps(c echo.Context) error {
	f := postgres.GapFilter{Kind: gaps.Kind(c.QueryParam("kind")), Status: gaps.Status(c.QueryParam("status")),
		PlatformID: c.QueryParam("platform_id"), SchemeID: c.QueryParam("scheme_id"), Period: c.QueryParam("period"),
		Assignee: c.QueryParam("assignee"), Severity: gaps.Severity(c.QueryParam("severity"))}
	switch {
	case f.Kind != "" && !f.Kind.Valid():
		return gateway.Invalid("kind", "unknown_kind", "kind "+strconv.Quote(string(f.Kind))+" is not a gap kind")
	case f.Status != "" && !f.Status.Valid():
		return gateway.Invalid("status", "unknown_status", "status "+strconv.Quote(string(f.Status))+" is not a gap status")
	case f.Severity != "" && !f.Severity.Valid():
		return gateway.Invalid("severity", "unknown_severity", "severity "+strconv.Quote(string(f.Severity))+" is not low, medium, high or critical")
	}
	limit, err := queryInt(c, "limit", 100, 1000)
	if err != nil {
		return err
	}
	if limit == 0 {
		return gateway.Invalid("limit", "out_of_range", "limit is a whole number from 1 to 1000")
	}
	f.Limit = limit
	if a := c.QueryParam("after"); a != "" {
		if f.After, err = strconv.ParseInt(a, 10, 64); err != nil || f.After < 0 {
			return gateway.Invalid("after", "malformed", "after is a gap id")
		}
	}
	gs, err := s.cfg.Gaps.Gaps(c.Request().Context(), f)
	if err != nil {
		return err
	}
	now := s.gapNow()
	out := struct {
		Gaps      []gapView `json:"gaps"`
		NextAfter *int64    `json:"next_after"` // the after of the next page; null on the last
	}{Gaps: make([]gapView, len(gs))}
	for i, g := range gs {
		out.Gaps[i] = gapViewOf(g, now)
	}
	if len(gs) == limit {
		out.NextAfter = &gs[len(gs)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

// worklist returns the gaps still being worked, the most at stake first,
// then the oldest; platform_id narrows, offset and limit page.
func (s *Server) worklist(c echo.Context) error {
	offset, err := queryInt(c, "offset", 0, 1_000_000)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 100, 1000)
	if err != nil {
		return err
	}
	if limit == 0 {
		return gateway.Invalid("limit", "out_of_range", "limit is a whole number from 1 to 1000")
	}
	gs, err := s.cfg.Gaps.Worklist(c.Request().Context(), c.QueryParam("platform_id"), offset, limit)
	if err != nil {
		return err
	}
	now := s.gapNow()
	out := struct {
		Gaps []gapView `json:"gaps"`
	}{Gaps: make([]gapView, len(gs))}
	for i, g := range gs {
		out.Gaps[i] = gapViewOf(g, now)
	}
	return c.JSON(http.StatusOK, out)
}

// getGap returns a gap with its evidence and history.
func (s *Server) getGap(c echo.Context) error {
	id, err := postgres.ParseGapID("id", c.Param("id"))
	if err != nil {
		return err
	}
	g, hist, err := s.cfg.Gaps.Gap(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, gapDetailOf(g, hist, s.gapNow()))
}

// gapChangeRequest is a person's change of a gap: the fields of one
// endpoint.
type gapChangeRequest struct {
	Status   string  `json:"status"`
	Reason   string  `json:"reason"`
	Assignee *string `json:"assignee"`
	Note     string  `json:"note"`
}

type gapChangeKind int

const (
	gapStatus gapChangeKind = iota
	gapAssignment
	gapNote
)

// changeGap records a status change, an assignment or a note, with the key
// that made it, and returns the gap with its history. Sending the same
// change again changes nothing.
func (s *Server) changeGap(kind gapChangeKind) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := postgres.ParseGapID("id", c.Param("id"))
		if err != nil {
			return err
		}
		var req gapChangeRequest
		if err := s.bindJSON(c, &req); err != nil {
			return err
		}
		ch := postgres.GapChange{By: actor(c), At: s.gapNow(), Reason: req.Reason, Note: req.Note}
		ctx := c.Request().Context()
		var g postgres.Gap
		var hist []postgres.GapEvent
		switch kind {
		case gapStatus:
			if req.Status == "" {
				return gateway.Invalid("status", "required", "status is required")
			}
			ch.Status = gaps.Status(req.Status)
			g, hist, err = s.cfg.Gaps.SetGapStatus(ctx, id, ch)
		case gapAssignment:
			if req.Assignee == nil {
				return gateway.Invalid("assignee", "required", `assignee is required ("" to unassign)`)
			}
			ch.Assignee = *req.Assignee
			g, hist, err = s.cfg.Gaps.AssignGap(ctx, id, ch)
		default:
			g, hist, err = s.cfg.Gaps.AddGapNote(ctx, id, ch)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, gapDetailOf(g, hist, ch.At))
	}
}

// detectionView is what a detection did.
type detectionView struct {
	ID         int64          `json:"id"`
	Trigger    string         `json:"trigger"`
	RunID      int64          `json:"run_id"`
	AsOf       time.Time      `json:"as_of"`
	Found      int            `json:"found"`
	Opened     int            `json:"opened"`
	Updated    int            `json:"updated"`
	Cured      int            `json:"cured"`
	Reopened   int            `json:"reopened"`
	Kinds      map[string]int `json:"kinds"`
	DurationMS int64          `json:"duration_ms"`
}

// postDetection runs gap detection now.
func (s *Server) postDetection(c echo.Context) error {
	rep, err := s.cfg.Gaps.DetectGaps(c.Request().Context(), postgres.GapTriggerManual, s.cfg.GapRules, s.gapNow())
	if err != nil {
		return err
	}
	v := detectionView{ID: rep.ID, Trigger: rep.Trigger, RunID: rep.RunID, AsOf: rep.AsOf, Found: rep.Found, Opened: rep.Opened,
		Updated: rep.Updated, Cured: rep.Cured, Reopened: rep.Reopened, Kinds: map[string]int{}, DurationMS: rep.Duration.Milliseconds()}
	for k, n := range rep.Kinds {
		v.Kinds[string(k)] = n
	}
	return c.JSON(http.StatusOK, v)
}

// noticeView is a notice sent to a platform.
type noticeView struct {
	ID         int64     `json:"id"`
	PlatformID string    `json:"platform_id"`
	GapIDs     []int64   `json:"gap_ids"`
	Digest     string    `json:"digest"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	Letter     string    `json:"letter"` // the PDF's path
	Bytes      int       `json:"bytes"`
}

func noticeViewOf(n postgres.GapNotice) noticeView {
	return noticeView{ID: n.ID, PlatformID: n.PlatformID, GapIDs: n.GapIDs, Digest: hex.EncodeToString(n.Digest[:]),
		CreatedBy: n.CreatedBy, CreatedAt: n.CreatedAt, Letter: "/v1/compliance/notices/" + strconv.FormatInt(n.ID, 10) + "/letter.pdf",
		Bytes: len(n.PDF)}
}

// postNotice renders a letter to a platform listing its open gaps and
// moves them to notice_sent: 201 with the notice, or 200 with the one
// stored before when nothing changed since (the letter is not sent twice).
func (s *Server) postNotice(c echo.Context) error {
	var req struct {
		PlatformID string `json:"platform_id"`
	}
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	if req.PlatformID == "" {
		return gateway.Invalid("platform_id", "required", "platform_id is required")
	}
	n, created, err := s.cfg.Gaps.CreateGapNotice(c.Request().Context(), req.PlatformID, actor(c), s.gapNow(), renderNotice)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, noticeViewOf(n))
}

// renderNotice makes the PDF letter of a notice.
func renderNotice(d postgres.NoticeDraft) ([]byte, error) {
	l := notice.Letter{Number: d.ID, Date: d.At, PlatformID: d.PlatformID, PlatformName: d.PlatformName}
	for _, g := range d.Gaps {
		m := func(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: g.Currency} }
		l.Items = append(l.Items, notice.Item{GapID: g.ID, Kind: string(g.Kind), SchemeID: g.SchemeID, Period: g.Period,
			Subject: gaps.WorkerRef(g.PlatformID, g.Subject), Amount: m(g.Amount), Interest: m(g.Interest),
			References: g.Evidence.Statements, Detail: g.Evidence.Detail})
	}
	var buf bytes.Buffer
	err := notice.Render(&buf, &l, notice.Options{})
	return buf.Bytes(), err
}

func (s *Server) notice(c echo.Context) (postgres.GapNotice, error) {
	id, err := postgres.ParseGapID("id", c.Param("id"))
	if err != nil {
		return postgres.GapNotice{}, err
	}
	return s.cfg.Gaps.GapNoticeByID(c.Request().Context(), id)
}

// getNotice returns a notice's record.
func (s *Server) getNotice(c echo.Context) error {
	n, err := s.notice(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, noticeViewOf(n))
}

// getNoticeLetter returns a notice's letter as sent, a PDF.
func (s *Server) getNoticeLetter(c echo.Context) error {
	n, err := s.notice(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `inline; filename="notice-`+strconv.FormatInt(n.ID, 10)+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", n.PDF)
}
