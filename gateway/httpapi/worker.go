package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// WorkerStore keeps workers and their registrations.
type WorkerStore interface {
	// Register records a registration step; created is false when the same
	// step was recorded before. A different step on the same key is a conflict.
	Register(ctx context.Context, w postgres.NewWorker, r postgres.Registration, hash [32]byte) (postgres.Registration, bool, error)
	// Registrations is a platform's history of one worker reference.
	Registrations(ctx context.Context, platformID, workerRef string) ([]postgres.Registration, error)
	// WorkerPeriods is a worker's totals with one platform.
	WorkerPeriods(ctx context.Context, workerID, platformID string) ([]postgres.WorkerPeriod, error)
}

// Identity keys and seals national IDs.
type Identity struct {
	Keyer  *identity.Keyer
	Sealer *identity.Sealer
}

type nationalID struct {
	Country string `json:"country"`
	Number  string `json:"number"`
}

type categoryDTO struct {
	Sector  string `json:"sector,omitempty"`
	Vehicle string `json:"vehicle,omitempty"`
}

// registerRequest registers a worker with the platform under one scheme.
type registerRequest struct {
	WorkerRef  string       `json:"worker_ref"`
	NationalID *nationalID  `json:"national_id"`
	SchemeID   string       `json:"scheme_id"`
	PlanID     string       `json:"plan_id,omitempty"`
	Category   *categoryDTO `json:"category,omitempty"`
	StartDate  string       `json:"start_date"`
	AgentID    string       `json:"agent_id,omitempty"`
}

// changeRequest changes a registration (plan or category) or ends it.
type changeRequest struct {
	SchemeID      string       `json:"scheme_id"`
	PlanID        string       `json:"plan_id,omitempty"`
	Category      *categoryDTO `json:"category,omitempty"`
	EffectiveDate string       `json:"effective_date"`
}

type registrationView struct {
	SchemeID   string    `json:"scheme_id"`
	Change     string    `json:"change"`
	PlanID     string    `json:"plan_id,omitempty"`
	Sector     string    `json:"sector,omitempty"`
	Vehicle    string    `json:"vehicle,omitempty"`
	Effective  string    `json:"effective_date"`
	AgentID    string    `json:"agent_id,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
}

type workerView struct {
	WorkerRef     string             `json:"worker_ref"`
	WorkerKey     string             `json:"worker_key"`
	Registrations []registrationView `json:"registrations"`
	Contributions []contributionView `json:"contributions,omitempty"`
	// SuspenseMoved is how many ledger entries kept in suspense under the
	// worker_ref the registration moved to the worker (POST only).
	SuspenseMoved int `json:"suspense_entries_moved,omitempty"`
}

type contributionView struct {
	SchemeID      string        `json:"scheme_id"`
	PlanID        string        `json:"plan_id"`
	Period        string        `json:"period"`
	Events        int64         `json:"events"`
	Gross         gateway.Money `json:"gross"`
	WorkerShare   gateway.Money `json:"worker_share"`
	PlatformShare gateway.Money `json:"platform_share"`
}

func viewOf(r postgres.Registration) registrationView {
	return registrationView{SchemeID: r.SchemeID, Change: r.Change, PlanID: r.PlanID, Sector: r.Sector, Vehicle: r.Vehicle,
		Effective: r.Effective.Format(time.DateOnly), AgentID: r.AgentID, RecordedAt: r.RecordedAt.UTC()}
}

// postWorker registers a worker: the national ID is validated, keyed and
// sealed; only the worker key and the sealed number are stored.
func (s *Server) postWorker(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	var req registerRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	var details []gateway.Detail
	bad := func(field, code, msg string) {
		details = append(details, gateway.Detail{Field: field, Code: code, Message: msg})
	}
	if req.WorkerRef == "" {
		bad("worker_ref", "required", "worker_ref is required")
	}
	var country, normalised string
	if req.NationalID == nil {
		bad("national_id", "required", "national_id {country, number} is required")
	} else {
		country = req.NationalID.Country
		n, err := identity.Normalize(country, req.NationalID.Number)
		if err != nil {
			for _, d := range detailsOf(err) {
				d.Field = "national_id.number"
				if d.Code == identity.CodeUnsupportedCountry {
					d.Field = "national_id.country"
				}
				details = append(details, d)
			}
		}
		normalised = n
	}
	start, ok := parseDate(req.StartDate)
	if !ok {
		bad("start_date", "bad_date", "start_date must be a date such as 2026-10-01")
	}
	details = append(details, s.checkPlan(req.SchemeID, req.PlanID)...)
	if len(details) > 0 {
		return &gateway.Error{Code: gateway.EINVALID, Message: "invalid registration", Details: details}
	}
	if s.cfg.Identity.Keyer == nil || s.cfg.Identity.Sealer == nil {
		return fmt.Errorf("worker registration needs the worker-key secret and the sealing key")
	}
	key := s.cfg.Identity.Keyer.Key(country, normalised)
	sealed, err := s.cfg.Identity.Sealer.Seal(key, normalised)
	if err != nil {
		return fmt.Errorf("seal national id: %w", err)
	}
	r := postgres.Registration{PlatformID: platform, WorkerRef: req.WorkerRef, WorkerKey: key, SchemeID: req.SchemeID,
		Change: postgres.RegistrationStart, PlanID: req.PlanID, Effective: start, AgentID: req.AgentID}
	if req.Category != nil {
		r.Sector, r.Vehicle = req.Category.Sector, req.Category.Vehicle
	}
	nw := postgres.NewWorker{WorkerKey: key, Country: country, Sealed: sealed}
	var stored postgres.Registration
	var created bool
	var moved postgres.Transfer
	if m, ok := s.cfg.Workers.(SuspenseMover); ok {
		stored, created, moved, err = m.RegisterMoving(c.Request().Context(), nw, r, registrationHash(r))
	} else {
		stored, created, err = s.cfg.Workers.Register(c.Request().Context(), nw, r, registrationHash(r))
	}
	if err != nil {
		return err
	}
	// This process keys the worker's events by the worker key from now on.
	s.learnWorkerKey(platform, req.WorkerRef, key)
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return c.JSON(status, workerView{WorkerRef: req.WorkerRef, WorkerKey: key, Registrations: []registrationView{viewOf(stored)},
		SuspenseMoved: moved.Entries})
}

// SuspenseMover is a WorkerStore that also says what a registration moved
// out of suspense (*postgres.DB is one).
type SuspenseMover interface {
	RegisterMoving(ctx context.Context, w postgres.NewWorker, r postgres.Registration, hash [32]byte) (postgres.Registration, bool, postgres.Transfer, error)
}

// postWorkerChange records a change of plan or category, or the end of a
// registration (end is true).
func (s *Server) postWorkerChange(end bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		platform, err := s.platformID(c)
		if err != nil {
			return err
		}
		var req changeRequest
		if err := s.bindJSON(c, &req); err != nil {
			return err
		}
		var details []gateway.Detail
		at, ok := parseDate(req.EffectiveDate)
		if !ok {
			details = append(details, gateway.Detail{Field: "effective_date", Code: "bad_date", Message: "effective_date must be a date such as 2026-11-01"})
		}
		details = append(details, s.checkPlan(req.SchemeID, req.PlanID)...)
		if !end && req.PlanID == "" && req.Category == nil {
			details = append(details, gateway.Detail{Field: "plan_id", Code: "required", Message: "a change names a new plan_id or category"})
		}
		if len(details) > 0 {
			return &gateway.Error{Code: gateway.EINVALID, Message: "invalid registration change", Details: details}
		}
		ref := c.Param("ref")
		history, err := s.cfg.Workers.Registrations(c.Request().Context(), platform, ref)
		if err != nil {
			return err
		}
		key := ""
		for _, h := range history {
			if h.SchemeID == req.SchemeID && h.Change == postgres.RegistrationStart {
				key = h.WorkerKey
			}
		}
		if key == "" {
			return gateway.Errorf(gateway.ENOTFOUND, "worker %q is not registered with this platform under %s", ref, req.SchemeID)
		}
		r := postgres.Registration{PlatformID: platform, WorkerRef: ref, WorkerKey: key, SchemeID: req.SchemeID,
			Change: postgres.RegistrationChange, PlanID: req.PlanID, Effective: at}
		if end {
			r.Change, r.PlanID = postgres.RegistrationEnd, ""
		}
		if req.Category != nil {
			r.Sector, r.Vehicle = req.Category.Sector, req.Category.Vehicle
		}
		stored, created, err := s.cfg.Workers.Register(c.Request().Context(), postgres.NewWorker{}, r, registrationHash(r))
		if err != nil {
			return err
		}
		status := http.StatusCreated
		if !created {
			status = http.StatusOK
		}
		return c.JSON(status, viewOf(stored))
	}
}

// getWorker returns a worker's registration history with this platform and
// contributions by period, never the national ID.
func (s *Server) getWorker(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	ref := c.Param("ref")
	ctx := c.Request().Context()
	history, err := s.cfg.Workers.Registrations(ctx, platform, ref)
	if err != nil {
		return err
	}
	if len(history) == 0 {
		return gateway.Errorf(gateway.ENOTFOUND, "worker %q is not registered with this platform", ref)
	}
	v := workerView{WorkerRef: ref, WorkerKey: history[0].WorkerKey, Registrations: []registrationView{}}
	for _, h := range history {
		v.Registrations = append(v.Registrations, viewOf(h))
	}
	periods, err := s.cfg.Workers.WorkerPeriods(ctx, v.WorkerKey, platform)
	if err != nil {
		return err
	}
	for _, p := range periods {
		cur := gateway.Currency(p.Currency)
		v.Contributions = append(v.Contributions, contributionView{SchemeID: p.SchemeID, PlanID: p.PlanID, Period: p.Period,
			Events: p.Events, Gross: gateway.NewMoney(p.Gross, cur), WorkerShare: gateway.NewMoney(p.Worker, cur),
			PlatformShare: gateway.NewMoney(p.Platform, cur)})
	}
	return c.JSON(http.StatusOK, v)
}

// checkPlan checks that the scheme exists and, when a plan is named, that
// the scheme has it.
func (s *Server) checkPlan(schemeID, planID string) []gateway.Detail {
	if schemeID == "" {
		return []gateway.Detail{{Field: "scheme_id", Code: "required", Message: "scheme_id is required"}}
	}
	if s.cfg.Schemes == nil {
		return nil
	}
	sc, err := s.cfg.Schemes.Scheme(schemeID)
	if err != nil {
		return []gateway.Detail{{Field: "scheme_id", Code: "unknown_scheme", Message: fmt.Sprintf("no scheme %q", schemeID)}}
	}
	if planID != "" {
		if _, err := sc.Plan(planID); err != nil {
			return []gateway.Detail{{Field: "plan_id", Code: "unknown_plan", Message: fmt.Sprintf("scheme %s has no plan %q", schemeID, planID)}}
		}
	}
	return nil
}

// bindJSON reads a JSON body strictly: unknown fields and wrong types are
// errors naming the field.
func (s *Server) bindJSON(c echo.Context, v any) error {
	body, err := s.readBody(c, "application/json")
	if err != nil {
		return err
	}
	if err := strictJSON(body, v); err != nil {
		return err
	}
	return nil
}

// registrationHash identifies a registration step's content, keyed by the
// worker key rather than the national ID.
func registrationHash(r postgres.Registration) [32]byte {
	b, _ := json.Marshal([]string{r.PlatformID, r.WorkerRef, r.WorkerKey, r.SchemeID, r.Change, r.PlanID, r.Sector,
		r.Vehicle, r.Effective.Format(time.DateOnly), r.AgentID})
	return sha256.Sum256(b)
}

func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// detailsOf returns the details of a domain error, or one detail with its
// message.
func detailsOf(err error) []gateway.Detail {
	var ge *gateway.Error
	if errors.As(err, &ge) && len(ge.Details) > 0 {
		return append([]gateway.Detail(nil), ge.Details...)
	}
	return []gateway.Detail{{Code: gateway.ErrorCode(err), Message: gateway.ErrorMessage(err)}}
}

// strictJSON decodes one JSON value into v, refusing unknown fields and
// trailing data; errors name the field.
func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return feed.JSONError(err, "")
	}
	if dec.More() {
		return gateway.Invalid("", "malformed_json", "unexpected data after the JSON value")
	}
	return nil
}
