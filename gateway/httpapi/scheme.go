package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// schemeList is the answer to GET /v1/schemes.
type schemeList struct {
	Schemes []schemeView `json:"schemes"`
}

// schemeView is one scheme as loaded from its pack.
type schemeView struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Country  string        `json:"country"`
	Currency string        `json:"currency"`
	TimeZone string        `json:"time_zone"`
	Source   string        `json:"source"`
	Digest   string        `json:"digest"` // SHA-256 of the pack file: which version of the pack is in force
	Plans    []planSummary `json:"plans"`
}

type planSummary struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// planList is the answer to GET /v1/schemes/{id}/plans.
type planList struct {
	SchemeID string     `json:"scheme_id"`
	Plans    []planView `json:"plans"`
}

type planView struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Versions []versionView `json:"versions"`
}

// versionView is a plan version with its rule as written in the pack.
// Instants are RFC 3339 in the scheme's time zone.
type versionView struct {
	Version   int              `json:"version"`
	ValidFrom string           `json:"valid_from"`
	ValidTo   string           `json:"valid_to,omitempty"` // absent: open-ended
	Period    string           `json:"period"`
	YearStart int              `json:"year_start,omitempty"` // first month of a fiscal year; absent: January
	Source    string           `json:"source,omitempty"`
	Rule      gateway.RuleSpec `json:"rule"`
}

// quoteRequest is the body of POST /v1/quote.
type quoteRequest struct {
	SchemeID string          `json:"scheme_id"`
	PlanID   string          `json:"plan_id,omitempty"` // may be left out when the scheme has one plan
	Event    json.RawMessage `json:"event"`             // the wire form of POST /v1/earnings
	State    *stateView      `json:"state,omitempty"`   // the worker's period totals before the event; absent: none yet
}

// stateView is a worker's period state on the wire: amounts are decimal
// strings in the scheme's currency, counts are integers.
type stateView struct {
	Period          string `json:"period,omitempty"` // period key, "2026-10"; absent: the event's period
	Events          int64  `json:"events,omitempty"`
	Gross           string `json:"gross,omitempty"`
	Base            string `json:"base,omitempty"`
	Insured         string `json:"insured,omitempty"`
	Orders          int64  `json:"orders,omitempty"`
	Units           string `json:"units,omitempty"` // per-order rules: fees before the multiplier
	Worker          string `json:"worker,omitempty"`
	Platform        string `json:"platform,omitempty"`
	SettledWorker   string `json:"settled_worker,omitempty"`
	SettledPlatform string `json:"settled_platform,omitempty"`
}

// quoteView is the answer to POST /v1/quote: the deduction the event would
// get and the period state after it. Nothing is recorded.
type quoteView struct {
	EventID  string        `json:"event_id"`
	SchemeID string        `json:"scheme_id"`
	PlanID   string        `json:"plan_id"`
	Version  int           `json:"version"`
	Period   string        `json:"period"`
	RuleKind string        `json:"rule_kind"`
	Base     gateway.Money `json:"base"`
	Worker   gateway.Money `json:"worker"`   // withheld from the worker's earnings
	Platform gateway.Money `json:"platform"` // paid by the platform on top
	Total    gateway.Money `json:"total"`
	Flags    []string      `json:"flags"`
	State    stateView     `json:"state"` // the period state after the event
}

// listSchemes lists the loaded schemes and their plans.
func (s *Server) listSchemes(c echo.Context) error {
	out := schemeList{Schemes: []schemeView{}}
	if s.cfg.Schemes != nil {
		for _, sc := range s.cfg.Schemes.Schemes() {
			v := schemeView{ID: sc.ID, Name: sc.Name, Country: sc.Country, Currency: string(sc.Currency),
				TimeZone: sc.TimeZone, Source: sc.Source, Digest: sc.Digest, Plans: []planSummary{}}
			for _, p := range sc.Plans {
				v.Plans = append(v.Plans, planSummary{ID: p.ID, Name: p.Name})
			}
			out.Schemes = append(out.Schemes, v)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// listPlans lists a scheme's plans with every version.
func (s *Server) listPlans(c echo.Context) error {
	sc, err := s.scheme(c.Param("id"))
	if err != nil {
		return err
	}
	out := planList{SchemeID: sc.ID, Plans: []planView{}}
	for _, p := range sc.Plans {
		pv := planView{ID: p.ID, Name: p.Name, Versions: []versionView{}}
		for _, v := range p.Versions {
			vv := versionView{Version: v.Version, ValidFrom: instant(v.ValidFrom, sc.Location),
				Period: string(v.Period), Source: v.Source, Rule: v.Rule}
			if !v.ValidTo.IsZero() {
				vv.ValidTo = instant(v.ValidTo, sc.Location)
			}
			if v.YearStart != time.January {
				vv.YearStart = int(v.YearStart)
			}
			pv.Versions = append(pv.Versions, vv)
		}
		out.Plans = append(out.Plans, pv)
	}
	return c.JSON(http.StatusOK, out)
}

// quote computes the deduction for one event without recording anything.
func (s *Server) quote(c echo.Context) error {
	body, err := s.readBody(c, "application/json")
	if err != nil {
		return err
	}
	var req quoteRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return feed.JSONError(err, "")
	}
	if _, err := dec.Token(); err != io.EOF {
		return gateway.Invalid("", "malformed_json", "unexpected data after the request object")
	}
	if req.SchemeID == "" {
		return gateway.Invalid("scheme_id", "required", "scheme_id is required")
	}
	if len(bytes.TrimSpace(req.Event)) == 0 || bytes.Equal(bytes.TrimSpace(req.Event), []byte("null")) {
		return gateway.Invalid("event", "required", "event is required: an earnings event as sent to POST /v1/earnings")
	}
	e, err := feed.Decode(req.Event)
	if err != nil {
		return prefixFields(err, "event")
	}
	if e.Kind == gateway.KindReversal {
		return gateway.Invalid("event.kind", "not_supported", "a reversal is the exact negative of its original's deduction; quote the original instead")
	}

	sc, err := s.scheme(req.SchemeID)
	if err != nil {
		return withField(err, "scheme_id", "unknown_scheme")
	}
	plan, err := pickPlan(sc, req.PlanID)
	if err != nil {
		return err
	}
	v, err := plan.VersionAt(e.OccurredAt)
	if err != nil {
		return withField(err, "event.occurred_at", "no_version")
	}
	before, err := parseState(req.State, sc.Currency)
	if err != nil {
		return err
	}
	if key := v.PeriodOf(e.OccurredAt).Key; before.Period != "" && before.Period != key {
		return gateway.Invalid("state.period", "period_mismatch", "the state is for period "+before.Period+", the event falls in "+key)
	}
	d, after, err := v.Deduct(&e, before)
	if err != nil {
		return prefixFields(err, "event")
	}
	flags := d.Flags.Names()
	if flags == nil {
		flags = []string{}
	}
	return c.JSON(http.StatusOK, quoteView{
		EventID: d.EventID, SchemeID: d.SchemeID, PlanID: d.PlanID, Version: d.Version, Period: d.Period,
		RuleKind: string(d.Kind), Base: d.Base, Worker: d.Worker, Platform: d.Platform, Total: d.Total,
		Flags: flags, State: formatState(after),
	})
}

// scheme returns the loaded scheme with the given id.
func (s *Server) scheme(id string) (*gateway.Scheme, error) {
	if s.cfg.Schemes == nil {
		return nil, gateway.Errorf(gateway.ENOTFOUND, "no scheme %q: no scheme packs are loaded", id)
	}
	return s.cfg.Schemes.Scheme(id)
}

// pickPlan returns the named plan, or the scheme's only plan when none is
// named.
func pickPlan(sc *gateway.Scheme, id string) (*gateway.Plan, error) {
	if id == "" {
		if len(sc.Plans) == 1 {
			return sc.Plans[0], nil
		}
		ids := make([]string, len(sc.Plans))
		for i, p := range sc.Plans {
			ids[i] = p.ID
		}
		return nil, gateway.Invalid("plan_id", "required", "scheme "+sc.ID+" has several plans; name one of "+strings.Join(ids, ", "))
	}
	p, err := sc.Plan(id)
	if err != nil {
		return nil, withField(err, "plan_id", "unknown_plan")
	}
	return p, nil
}

// parseState reads the wire state in currency c.
func parseState(in *stateView, c gateway.Currency) (gateway.PeriodState, error) {
	if in == nil {
		return gateway.PeriodState{}, nil
	}
	st := gateway.PeriodState{Period: in.Period, Events: in.Events, Orders: in.Orders}
	var details []gateway.Detail
	for _, f := range []struct {
		field string
		in    string
		dst   *int64
	}{
		{"state.gross", in.Gross, &st.Gross},
		{"state.base", in.Base, &st.Base},
		{"state.insured", in.Insured, &st.Insured},
		{"state.units", in.Units, &st.Units},
		{"state.worker", in.Worker, &st.Worker},
		{"state.platform", in.Platform, &st.Platform},
		{"state.settled_worker", in.SettledWorker, &st.SettledWorker},
		{"state.settled_platform", in.SettledPlatform, &st.SettledPlatform},
	} {
		if f.in == "" {
			continue
		}
		m, err := gateway.ParseMoney(string(c), f.in)
		if err != nil {
			code, msg := "malformed", gateway.ErrorMessage(err)
			var ge *gateway.Error
			if errors.As(err, &ge) && len(ge.Details) > 0 {
				code, msg = ge.Details[0].Code, ge.Details[0].Message
			}
			details = append(details, gateway.Detail{Field: f.field, Code: code, Message: f.field + ": " + msg})
			continue
		}
		*f.dst = m.Amount
	}
	for _, f := range []struct {
		field string
		n     int64
	}{{"state.events", in.Events}, {"state.orders", in.Orders}} {
		if f.n < 0 {
			details = append(details, gateway.Detail{Field: f.field, Code: "negative", Message: f.field + " cannot be negative"})
		}
	}
	if len(details) > 0 {
		return gateway.PeriodState{}, &gateway.Error{Code: gateway.EINVALID, Message: "invalid input", Details: details}
	}
	st.Currency = c
	return st, nil
}

// formatState writes a period state for the wire.
func formatState(st gateway.PeriodState) stateView {
	m := func(n int64) string { return gateway.NewMoney(n, st.Currency).String() }
	return stateView{
		Period: st.Period, Events: st.Events, Gross: m(st.Gross), Base: m(st.Base), Insured: m(st.Insured),
		Orders: st.Orders, Units: m(st.Units), Worker: m(st.Worker), Platform: m(st.Platform),
		SettledWorker: m(st.SettledWorker), SettledPlatform: m(st.SettledPlatform),
	}
}

// instant formats t in the scheme's zone.
func instant(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format(time.RFC3339)
}

// prefixFields returns err with the fields of its details put under prefix
// ("gross.value" → "event.gross.value").
func prefixFields(err error, prefix string) error {
	var ge *gateway.Error
	if !errors.As(err, &ge) {
		return err
	}
	out := &gateway.Error{Code: ge.Code, Message: ge.Message, Details: make([]gateway.Detail, len(ge.Details))}
	for i, d := range ge.Details {
		if d.Field == "" {
			d.Field = prefix
		} else {
			d.Field = prefix + "." + d.Field
		}
		out.Details[i] = d
	}
	return out
}

// withField names the request field a domain error without details is about.
func withField(err error, field, code string) error {
	var ge *gateway.Error
	if !errors.As(err, &ge) || len(ge.Details) > 0 {
		return err
	}
	return &gateway.Error{Code: ge.Code, Message: ge.Message, Details: []gateway.Detail{{Field: field, Code: code, Message: ge.Message}}}
}
