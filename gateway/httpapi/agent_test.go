package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/platforms/identity"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// TestAgentsAndSuspenseThroughTheAPI goes the whole way on PostgreSQL, every
// request and answer checked against openapi.yaml: grab declares an agent;
// a worker earns in October before grab registers them (suspense); the
// registration, filed by the agent, moves the earnings to the worker;
// October's close accrues the agent's 5%, which finance reads.
func TestAgentsAndSuspenseThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"grab", "foodpanda"} {
		if err := db.CreatePlatform(ctx, postgres.Platform{ID: id, Name: id, Country: "MY", Currency: "MYR",
			ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			Schemes:    []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}}); err != nil {
			t.Fatal(err)
		}
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	keyer := testKeyer(t)
	sealer, err := identity.NewSealer(identity.SealerConfig{Keys: map[byte][]byte{1: []byte(strings.Repeat("s", 32))}, KeyID: 1})
	if err != nil {
		t.Fatal(err)
	}
	keys := newMemAccess()
	tokens := map[string]string{}
	for _, id := range []string{"grab", "foodpanda"} {
		keys.policies[id] = postgres.AccessPolicy{}
		tokens[id] = keys.issue(t, access.RolePlatform, id)
	}
	tokens["finance"] = keys.issue(t, access.RoleFinance, "")
	h := httpapi.New(httpapi.Config{Schemes: catalog, Keys: keys, Workers: db, Agents: db,
		Identity: httpapi.Identity{Keyer: keyer, Sealer: sealer}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	do := func(who, method, target, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+tokens[who])
		requestBodies.keep(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkContract(t, req, rec)
		if strings.Contains(rec.Body.String(), "5678") {
			t.Errorf("%s %s: the answer carries the national ID: %s", method, target, rec.Body)
		}
		return rec
	}

	// Agents: declared once, idempotent, private to the platform.
	if rec := do("grab", http.MethodPost, "/v1/agents", `{"agent_id":"ag-1","name":"Agen Satu"}`); rec.Code != http.StatusCreated {
		t.Fatalf("declare = %d %s", rec.Code, rec.Body)
	}
	if rec := do("grab", http.MethodPost, "/v1/agents", `{"agent_id":"ag-1","name":"Agen Satu"}`); rec.Code != http.StatusOK {
		t.Errorf("declare again = %d %s, want 200", rec.Code, rec.Body)
	}
	if rec := do("grab", http.MethodPost, "/v1/agents", `{"agent_id":"ag-1","name":"Another"}`); rec.Code != http.StatusConflict {
		t.Errorf("another name = %d %s, want 409", rec.Code, rec.Body)
	}
	if rec := do("grab", http.MethodPost, "/v1/agents", `{"agent_id":"no spaces","name":"X"}`); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), "bad_agent_id") {
		t.Errorf("bad id = %d %s, want 400 bad_agent_id", rec.Code, rec.Body)
	}
	if rec := do("grab", http.MethodGet, "/v1/agents", ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ag-1"`) {
		t.Errorf("list = %d %s", rec.Code, rec.Body)
	}
	if rec := do("foodpanda", http.MethodGet, "/v1/agents", ""); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "ag-1") {
		t.Errorf("another platform's list = %d %s, want none of grab's", rec.Code, rec.Body)
	}
	if rec := do("foodpanda", http.MethodGet, "/v1/agents?platform_id=grab", ""); rec.Code != http.StatusNotFound {
		t.Errorf("another platform naming grab = %d %s, want 404", rec.Code, rec.Body)
	}

	// October earnings of drv-1 before registration: suspense.
	now := time.Date(2026, 11, 5, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	eng := engine.New(engine.Config{Store: db, Catalog: catalog, Now: clock})
	claim := kafkabus.Claim{Group: "g", Topic: "earnings", Partition: 0, Generation: 1}
	if claim.Epoch, _, err = eng.ClaimPartition(ctx, claim); err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for i, day := range []string{"03", "04"} {
		msgs = append(msgs, kafka.Message{Topic: "earnings", Offset: int64(i), Value: fmt.Appendf(nil,
			`{"event_id":"e%d","platform_id":"grab","worker_ref":"drv-1","occurred_at":"2026-10-%sT10:00:00+08:00","gross":{"currency":"MYR","value":"100.00"}}`, i, day)})
	}
	if err := eng.HandleBatch(ctx, claim, msgs); err != nil {
		t.Fatal(err)
	}

	// Registration by an agent: unknown agents are refused; a known one
	// moves the suspense.
	reg := func(agent string) string {
		return `{"worker_ref":"drv-1","national_id":{"country":"MY","number":"` + mykad + `"},"scheme_id":"my-gig","start_date":"2026-10-01","agent_id":"` + agent + `"}`
	}
	if rec := do("grab", http.MethodPost, "/v1/workers", reg("ag-x")); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), `"unknown_agent"`) {
		t.Errorf("unknown agent = %d %s, want 400 unknown_agent", rec.Code, rec.Body)
	}
	if rec := do("foodpanda", http.MethodPost, "/v1/workers", strings.Replace(reg("ag-1"), "drv-1", "fp-1", 1)); rec.Code != http.StatusBadRequest {
		t.Errorf("another platform's agent = %d %s, want 400", rec.Code, rec.Body)
	}
	rec := do("grab", http.MethodPost, "/v1/workers", reg("ag-1"))
	var w struct {
		WorkerKey string `json:"worker_key"`
		Moved     int    `json:"suspense_entries_moved"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &w); err != nil || rec.Code != http.StatusCreated || w.Moved != 2 {
		t.Fatalf("register = %d %s, want 201 with 2 entries moved", rec.Code, rec.Body)
	}
	if rec := do("grab", http.MethodPost, "/v1/workers", reg("ag-1")); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "suspense_entries_moved") {
		t.Errorf("register again = %d %s, want 200 moving nothing", rec.Code, rec.Body)
	}
	if rec := do("grab", http.MethodGet, "/v1/workers/drv-1", ""); !strings.Contains(rec.Body.String(), `"worker_share":{"currency":"MYR","value":"2.50"}`) {
		t.Errorf("worker = %s, want October's 2.50 withheld", rec.Body)
	}

	// October's close accrues 5% of 2.50 (0.125, half up 0.13) for ag-1.
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keeper.ClosePeriod(ctx, "my-gig", "2026-10"); err != nil {
		t.Fatal(err)
	}
	rec = do("finance", http.MethodGet, "/v1/finance/agent-commissions?period=2026-10", "")
	var got struct {
		Commissions []struct {
			AgentID    string        `json:"agent_id"`
			WorkerKey  string        `json:"worker_key"`
			Base       gateway.Money `json:"base"`
			Rate       string        `json:"rate"`
			Commission gateway.Money `json:"commission"`
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK || len(got.Commissions) != 1 {
		t.Fatalf("commissions = %d %s", rec.Code, rec.Body)
	}
	c := got.Commissions[0]
	if c.AgentID != "ag-1" || c.WorkerKey != w.WorkerKey || c.Base.Amount != 250 || c.Commission.Amount != 13 || c.Rate != "5%" {
		t.Errorf("commission = %+v, want ag-1's 0.13 on 2.50", c)
	}
	if rec := do("grab", http.MethodGet, "/v1/finance/agent-commissions?period=2026-10", ""); rec.Code != http.StatusForbidden {
		t.Errorf("a platform key on finance = %d, want 403", rec.Code)
	}
	if rec := do("finance", http.MethodGet, "/v1/finance/agent-commissions?limit=x", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("bad limit = %d, want 400", rec.Code)
	}
}
