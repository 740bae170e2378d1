package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
)

// AgentStore keeps registration agents and their commissions.
type AgentStore interface {
	// CreateAgent declares an agent of a platform; created is false when
	// it was declared before with the same name. Errors: ECONFLICT for
	// another name, EINVALID for a bad id, ENOTFOUND for an unknown
	// platform.
	CreateAgent(ctx context.Context, a postgres.Agent) (postgres.Agent, bool, error)
	// Agents lists a platform's agents.
	Agents(ctx context.Context, platformID string) ([]postgres.Agent, error)
	// AgentCommissions lists accrued commissions.
	AgentCommissions(ctx context.Context, f postgres.AgentCommissionFilter, limit, offset int) ([]postgres.AgentCommission, error)
}

// agentRoutes registers the agents of a platform (platform keys, and admin
// keys naming the platform) and finance's view of their commissions.
func (s *Server) agentRoutes(v1 *echo.Group) {
	// Who reaches a platform's agents is platformID's rule, as for its
	// workers.
	v1.POST("/agents", s.postAgent)
	v1.GET("/agents", s.listAgents)
	v1.GET("/finance/agent-commissions", s.listAgentCommissions, s.allow(access.ReconciliationRead))
}

// agents returns the agent store, or the error of a server without one.
func (s *Server) agents() (AgentStore, error) {
	if s.cfg.Agents == nil {
		return nil, notServed("agents")
	}
	return s.cfg.Agents, nil
}

type agentRequest struct {
	AgentID string `json:"agent_id"`
	Name    string `json:"name"`
}

type agentView struct {
	AgentID   string    `json:"agent_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// postAgent declares an agent of the platform; registrations may then name
// it (agent_id).
func (s *Server) postAgent(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	store, err := s.agents()
	if err != nil {
		return err
	}
	var req agentRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	var details []gateway.Detail
	if req.AgentID == "" {
		details = append(details, gateway.Detail{Field: "agent_id", Code: "required", Message: "agent_id is required"})
	}
	if req.Name == "" {
		details = append(details, gateway.Detail{Field: "name", Code: "required", Message: "name is required"})
	}
	if len(details) > 0 {
		return &gateway.Error{Code: gateway.EINVALID, Message: "invalid agent", Details: details}
	}
	a, created, err := store.CreateAgent(c.Request().Context(), postgres.Agent{PlatformID: platform, AgentID: req.AgentID, Name: req.Name})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return c.JSON(status, agentView{AgentID: a.AgentID, Name: a.Name, CreatedAt: a.CreatedAt.UTC()})
}

func (s *Server) listAgents(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	store, err := s.agents()
	if err != nil {
		return err
	}
	as, err := store.Agents(c.Request().Context(), platform)
	if err != nil {
		return err
	}
	out := struct {
		Agents []agentView `json:"agents"`
	}{Agents: make([]agentView, 0, len(as))}
	for _, a := range as {
		out.Agents = append(out.Agents, agentView{AgentID: a.AgentID, Name: a.Name, CreatedAt: a.CreatedAt.UTC()})
	}
	return c.JSON(http.StatusOK, out)
}

// commissionView is one accrual of an agent's commission.
type commissionView struct {
	AgentID      string        `json:"agent_id"`
	PlatformID   string        `json:"platform_id"`
	SchemeID     string        `json:"scheme_id"`
	Period       string        `json:"period"`
	BookedPeriod string        `json:"booked_period"`
	WorkerKey    string        `json:"worker_key"`
	Base         gateway.Money `json:"base"`
	Rate         string        `json:"rate"`
	Commission   gateway.Money `json:"commission"`
	AccruedAt    time.Time     `json:"accrued_at"`
}

// listAgentCommissions lists the commissions accrued at period close, for
// finance: filtered by period, scheme_id, platform_id and agent_id, paged
// by limit and offset.
func (s *Server) listAgentCommissions(c echo.Context) error {
	store, err := s.agents()
	if err != nil {
		return err
	}
	q := c.QueryParams()
	limit, offset := 0, 0
	var details []gateway.Detail
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &limit, 10_000}, {"offset", &offset, 1 << 30}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > p.max {
			details = append(details, gateway.Detail{Field: p.name, Code: "bad_number",
				Message: p.name + " must be a whole number from 0 to " + strconv.Itoa(p.max)})
			continue
		}
		*p.dst = n
	}
	if len(details) > 0 {
		return &gateway.Error{Code: gateway.EINVALID, Message: "invalid query", Details: details}
	}
	cs, err := store.AgentCommissions(c.Request().Context(), postgres.AgentCommissionFilter{Period: q.Get("period"),
		SchemeID: q.Get("scheme_id"), PlatformID: q.Get("platform_id"), AgentID: q.Get("agent_id")}, limit, offset)
	if err != nil {
		return err
	}
	out := struct {
		Commissions []commissionView `json:"commissions"`
	}{Commissions: make([]commissionView, 0, len(cs))}
	for _, x := range cs {
		cur := gateway.Currency(x.Currency)
		out.Commissions = append(out.Commissions, commissionView{AgentID: x.AgentID, PlatformID: x.PlatformID, SchemeID: x.SchemeID,
			Period: x.Period, BookedPeriod: x.BookedPeriod, WorkerKey: x.WorkerID, Base: gateway.NewMoney(x.Base, cur), Rate: x.Rate,
			Commission: gateway.NewMoney(x.Commission, cur), AccruedAt: x.AccruedAt.UTC()})
	}
	return c.JSON(http.StatusOK, out)
}
