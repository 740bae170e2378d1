package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// memAccess is a KeyStore in memory.
type memAccess struct {
	mu       sync.Mutex
	keys     map[string]access.Key
	policies map[string]postgres.AccessPolicy
	used     map[string][]time.Time
}

func newMemAccess() *memAccess {
	return &memAccess{keys: map[string]access.Key{}, policies: map[string]postgres.AccessPolicy{}, used: map[string][]time.Time{}}
}

func (m *memAccess) Key(_ context.Context, id string) (access.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return access.Key{}, gateway.Errorf(gateway.ENOTFOUND, "no key %s", id)
	}
	return k, nil
}

func (m *memAccess) KeyUsed(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.used[id] = append(m.used[id], at)
	return nil
}

func (m *memAccess) AccessPolicy(_ context.Context, platformID string, _ time.Time) (postgres.AccessPolicy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.policies[platformID]
	if !ok {
		return postgres.AccessPolicy{}, gateway.Errorf(gateway.ENOTFOUND, "no platform %q", platformID)
	}
	return p, nil
}

// issue adds a key and returns its token.
func (m *memAccess) issue(t *testing.T, role access.Role, platformID string) string {
	t.Helper()
	token, k, err := access.NewKey("cbk_test")
	if err != nil {
		t.Fatal(err)
	}
	k.Role, k.PlatformID = role, platformID
	m.mu.Lock()
	m.keys[k.ID] = k
	m.mu.Unlock()
	return token
}

func (m *memAccess) revoke(token string, at time.Time) {
	t, _ := access.ParseKey(token)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.keys[t.ID]
	k.RevokedAt = at
	m.keys[t.ID] = k
}

// The victim's data, which no other platform may see.
const (
	victim       = "victim-co"
	victimWorker = "drv-secret-7f"
	victimMarker = "payout-marker-5521"
)

// accEarnings holds one recorded event and one rejection of the victim.
type accEarnings struct{}

func (accEarnings) Earning(_ context.Context, platformID, eventID string) (postgres.RecordedEarning, error) {
	if platformID != victim || eventID != "ord-1" {
		return postgres.RecordedEarning{}, gateway.Errorf(gateway.ENOTFOUND, "no event %s", eventID)
	}
	return postgres.RecordedEarning{Status: "recorded", RecordedAt: accNow,
		Payload: json.RawMessage(`{"event_id":"ord-1","platform_id":"` + victim + `","worker_ref":"` + victimWorker + `","note":"` + victimMarker + `"}`)}, nil
}

func (accEarnings) Rejections(_ context.Context, platformID string, _ int64, _ int) ([]postgres.StoredRejection, error) {
	if platformID != victim {
		return nil, nil
	}
	return []postgres.StoredRejection{{ID: 1, EventID: "ord-0", Code: "invalid", Message: victimMarker, RejectedAt: accNow}}, nil
}

func (a accEarnings) ListEarnings(ctx context.Context, platformID string, _ postgres.EarningFilter) ([]postgres.ListedEarning, error) {
	r, err := a.Earning(ctx, platformID, "ord-1")
	if err != nil {
		return nil, nil
	}
	return []postgres.ListedEarning{{EventID: "ord-1", RecordedEarning: r, Cursor: postgres.EarningCursor{At: r.RecordedAt, EventID: "ord-1"}}}, nil
}

// accWorkers holds one registration of the victim.
type accWorkers struct{}

func (accWorkers) Register(context.Context, postgres.NewWorker, postgres.Registration, [32]byte) (postgres.Registration, bool, error) {
	return postgres.Registration{}, false, gateway.Errorf(gateway.EINTERNAL, "not in this test")
}

func (accWorkers) Registrations(_ context.Context, platformID, ref string) ([]postgres.Registration, error) {
	if platformID != victim || ref != victimWorker {
		return nil, nil
	}
	return []postgres.Registration{{PlatformID: victim, WorkerRef: victimWorker, WorkerKey: victimMarker, SchemeID: "my-gig",
		Change: "start", PlanID: "s83", Effective: accNow, RecordedAt: accNow}}, nil
}

func (accWorkers) WorkerPeriods(context.Context, string, string) ([]postgres.WorkerPeriod, error) {
	return nil, nil
}

type accPlatforms map[string]postgres.Platform

func (f accPlatforms) Platform(_ context.Context, id string) (postgres.Platform, error) {
	p, ok := f[id]
	if !ok {
		return postgres.Platform{}, gateway.Errorf(gateway.ENOTFOUND, "no platform %q", id)
	}
	return p, nil
}

type accPublisher struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

func (p *accPublisher) Publish(_ context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil
}

var accNow = time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC)

// accRig is a server with keys of every kind.
type accRig struct {
	e       *echo.Echo
	keys    *memAccess
	pub     *accPublisher
	clock   *accClock
	tokens  map[string]string // victim, other, admin, finance, compliance, revoked, signed
	signing []byte            // the signing secret of platform "signed"
}

type accClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *accClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *accClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newAccRig(t *testing.T, tune ...func(*httpapi.Config)) *accRig {
	t.Helper()
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	keyer, err := identity.NewKeyer(identity.KeyerConfig{Secret: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	r := &accRig{keys: newMemAccess(), pub: &accPublisher{}, clock: &accClock{t: accNow}, tokens: map[string]string{},
		signing: []byte("cbs_signing-secret-of-the-signed-platform")}
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	platforms := accPlatforms{}
	for _, id := range []string{victim, "other", "signed"} {
		platforms[id] = postgres.Platform{ID: id, Currency: "MYR", ActiveFrom: since, Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}}
		r.keys.policies[id] = postgres.AccessPolicy{}
	}
	r.keys.policies["signed"] = postgres.AccessPolicy{RequireSignature: true, SigningSecrets: [][]byte{r.signing}}
	r.tokens["victim"] = r.keys.issue(t, access.RolePlatform, victim)
	r.tokens["other"] = r.keys.issue(t, access.RolePlatform, "other")
	r.tokens["signed"] = r.keys.issue(t, access.RolePlatform, "signed")
	r.tokens["admin"] = r.keys.issue(t, access.RoleAdmin, "")
	r.tokens["finance"] = r.keys.issue(t, access.RoleFinance, "")
	r.tokens["compliance"] = r.keys.issue(t, access.RoleCompliance, "")
	r.tokens["revoked"] = r.keys.issue(t, access.RolePlatform, victim)
	r.keys.revoke(r.tokens["revoked"], accNow.Add(-time.Minute))
	cfg := httpapi.Config{
		Publisher: r.pub,
		Earnings:  accEarnings{},
		Schemes:   catalog,
		Workers:   accWorkers{},
		Identity:  httpapi.Identity{Keyer: keyer},
		Platforms: platforms,
		Keys:      r.keys,
		Now:       r.clock.Now,
		UploadDir: t.TempDir(),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range tune {
		f(&cfg)
	}
	r.e = httpapi.New(cfg).Handler().(*echo.Echo)
	return r
}

// do sends a request with the token (none when "") and extra headers.
func (r *accRig) do(method, target, token, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	r.e.ServeHTTP(rec, req)
	return rec
}

func victimEvent(id string) string {
	return `{"event_id":"` + id + `","platform_id":"` + victim + `","worker_ref":"` + victimWorker +
		`","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}`
}

// Routes every key may call: reference data, no platform's data.
var sharedRoutes = map[string]bool{
	"GET /v1/schemes":           true,
	"GET /v1/schemes/:id/plans": true,
	"POST /v1/quote":            true,
}

// Routes that answer without a key.
var openRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/openapi.yaml": true}

// fillPath gives each path parameter a value that names the victim's data.
func fillPath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		switch {
		case p == ":event_id":
			parts[i] = "ord-1"
		case p == ":ref":
			parts[i] = victimWorker
		case p == ":id" && strings.HasPrefix(path, "/v1/schemes"):
			parts[i] = "my-gig"
		case p == ":id":
			parts[i] = victim
		case strings.HasPrefix(p, ":") || p == "*":
			parts[i] = "x1"
		}
	}
	return strings.Join(parts, "/")
}

func withQuery(target, k, v string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + k + "=" + url.QueryEscape(v)
}

func bodyFor(method string) string {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return victimEvent("ord-9")
	}
	return ""
}

// TestEveryRouteNeedsAKey walks every registered route: without a key, with
// an unknown key, a wrong secret or a revoked key the answer is 401, the
// same for unknown and wrong; a platform key naming another platform gets
// 404 and none of that platform's data; platform and finance keys get 403
// on the admin API.
func TestEveryRouteNeedsAKey(t *testing.T) {
	r := newAccRig(t)
	victimTok, _ := access.ParseKey(r.tokens["victim"])
	otherTok := r.tokens["other"]
	wrongSecret := "cbk_test_" + victimTok.ID + "_" + otherTok[len(otherTok)-access.SecretLen:]
	unknownID := "cbk_test_aaaaaaaa_" + otherTok[len(otherTok)-access.SecretLen:]

	routes := r.e.Routes()
	seen := 0
	for _, rt := range routes {
		if rt.Method == echo.RouteNotFound {
			continue
		}
		seen++
		name := rt.Method + " " + rt.Path
		target, body := fillPath(rt.Path), bodyFor(rt.Method)
		t.Run(name, func(t *testing.T) {
			if openRoutes[rt.Path] {
				if rec := r.do(rt.Method, target, "", ""); rec.Code == http.StatusUnauthorized {
					t.Errorf("%s needs a key; it is public", name)
				}
				return
			}
			var unknownBody string
			for _, c := range []struct{ what, token, detail string }{
				{"no key", "", access.CodeMissing},
				{"not a key", "hunter2", access.CodeMalformed},
				{"unknown id", unknownID, access.CodeInvalid},
				{"wrong secret", wrongSecret, access.CodeInvalid},
				{"revoked key", r.tokens["revoked"], access.CodeRevoked},
			} {
				rec := r.do(rt.Method, target, c.token, body)
				var ans errorAnswer
				json.Unmarshal(rec.Body.Bytes(), &ans)
				if rec.Code != http.StatusUnauthorized || ans.Code != gateway.EUNAUTHORIZED || len(ans.Details) != 1 || ans.Details[0].Code != c.detail {
					t.Errorf("%s: %d %s, want 401 unauthorized with detail %s", c.what, rec.Code, rec.Body, c.detail)
				}
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", c.what)
				}
				switch c.what {
				case "unknown id":
					unknownBody = rec.Body.String()
				case "wrong secret":
					if rec.Body.String() != unknownBody {
						t.Errorf("a wrong secret is answered %s, an unknown key %s: they must not differ", rec.Body, unknownBody)
					}
				}
			}
			if len(r.pub.msgs) > 0 {
				t.Fatalf("an unauthenticated request produced %d messages", len(r.pub.msgs))
			}

			switch {
			case strings.HasPrefix(rt.Path, "/v1/admin"):
				for _, who := range []string{"victim", "other", "finance", "compliance"} {
					rec := r.do(rt.Method, target, r.tokens[who], body)
					if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"forbidden"`) {
						t.Errorf("%s key: %d %s, want 403 forbidden", who, rec.Code, rec.Body)
					}
				}
			case strings.HasPrefix(rt.Path, "/v1/finance"):
				// Finance: every platform's payments, for finance and admin
				// keys only.
				for _, who := range []string{"victim", "other", "compliance"} {
					if rec := r.do(rt.Method, target, r.tokens[who], body); rec.Code != http.StatusForbidden {
						t.Errorf("%s key: %d %s, want 403", who, rec.Code, rec.Body)
					}
				}
				for _, who := range []string{"finance", "admin"} {
					if rec := r.do(rt.Method, target, r.tokens[who], body); rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
						t.Errorf("%s key: %d %s, want it allowed", who, rec.Code, rec.Body)
					}
				}
			case strings.HasPrefix(rt.Path, "/v1/compliance"):
				// Compliance: every platform's gaps, for compliance and
				// admin keys only.
				for _, who := range []string{"victim", "other", "finance"} {
					if rec := r.do(rt.Method, target, r.tokens[who], body); rec.Code != http.StatusForbidden {
						t.Errorf("%s key: %d %s, want 403", who, rec.Code, rec.Body)
					}
				}
				for _, who := range []string{"compliance", "admin"} {
					if rec := r.do(rt.Method, target, r.tokens[who], body); rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
						t.Errorf("%s key: %d %s, want it allowed", who, rec.Code, rec.Body)
					}
				}
			case strings.HasPrefix(rt.Path, "/v1/statements"):
				// Statements: a platform key reads its own, finance and
				// admin every platform's, compliance none.
				rec := r.do(rt.Method, withQuery(target, "platform_id", victim), r.tokens["other"], body)
				if rec.Code != http.StatusNotFound {
					t.Errorf("other platform's key naming %s: %d %s, want 404", victim, rec.Code, rec.Body)
				}
				if rec := r.do(rt.Method, target, r.tokens["compliance"], body); rec.Code != http.StatusForbidden {
					t.Errorf("compliance key: %d %s, want 403", rec.Code, rec.Body)
				}
				for _, who := range []string{"finance", "admin"} {
					if rec := r.do(rt.Method, target, r.tokens[who], body); rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
						t.Errorf("%s key: %d %s, want it allowed", who, rec.Code, rec.Body)
					}
				}
			case coverageStaffRoutes[name]:
				checkCoverageRouteAccess(t, r, rt.Method, target)
			case sharedRoutes[name]:
				rec := r.do(rt.Method, target, r.tokens["other"], body)
				if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
					t.Errorf("a platform key on shared reference data: %d %s", rec.Code, rec.Body)
				}
			default:
				// A platform-scoped route: another platform's key naming
				// the victim learns nothing.
				rec := r.do(rt.Method, withQuery(target, "platform_id", victim), r.tokens["other"], body)
				if rec.Code != http.StatusNotFound {
					t.Errorf("other platform's key naming %s: %d %s, want 404", victim, rec.Code, rec.Body)
				}
				for _, leak := range []string{victim, victimWorker, victimMarker} {
					if strings.Contains(rec.Body.String(), leak) {
						t.Errorf("the 404 body %s contains %q", rec.Body, leak)
					}
				}
				// Staff keys must name a platform, and finance and
				// compliance only read.
				for _, who := range []string{"finance", "compliance"} {
					rec := r.do(rt.Method, withQuery(target, "platform_id", victim), r.tokens[who], body)
					read := rt.Method == http.MethodGet || rt.Method == http.MethodHead
					if !read && rec.Code != http.StatusForbidden {
						t.Errorf("%s key writing: %d %s, want 403", who, rec.Code, rec.Body)
					}
					if read && (rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized) {
						t.Errorf("%s key reading: %d %s, want it allowed", who, rec.Code, rec.Body)
					}
				}
				if rec := r.do(rt.Method, target, r.tokens["admin"], body); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"platform_id"`) {
					t.Errorf("admin key without platform_id: %d %s, want 400 naming platform_id", rec.Code, rec.Body)
				}
			}
		})
	}
	if seen < 10 {
		t.Fatalf("walked %d routes; the server registers more", seen)
	}
	if len(r.pub.msgs) > 0 {
		t.Errorf("refused requests produced %d messages", len(r.pub.msgs))
	}
}

// TestIsolation reads and writes the victim's resources with another
// platform's key, without naming the victim in the query: the answers are
// 404 or empty and carry none of the victim's data.
func TestIsolation(t *testing.T) {
	r := newAccRig(t)
	// The victim sees its own data.
	if rec := r.do(http.MethodGet, "/v1/earnings/ord-1", r.tokens["victim"], ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), victimWorker) {
		t.Fatalf("victim reads its event: %d %s", rec.Code, rec.Body)
	}
	if rec := r.do(http.MethodGet, "/v1/earnings/ord-1?platform_id="+victim, r.tokens["victim"], ""); rec.Code != http.StatusOK {
		t.Errorf("victim naming itself: %d %s", rec.Code, rec.Body)
	}
	// An admin names the platform it acts for.
	if rec := r.do(http.MethodGet, "/v1/earnings/ord-1?platform_id="+victim, r.tokens["admin"], ""); rec.Code != http.StatusOK {
		t.Errorf("admin reads the victim's event: %d %s", rec.Code, rec.Body)
	}
	tests := []struct {
		name, method, target, body string
		status                     int
	}{
		{"read an event", http.MethodGet, "/v1/earnings/ord-1", "", http.StatusNotFound},
		{"read an event, waiting", http.MethodGet, "/v1/earnings/ord-1?wait=10ms", "", http.StatusNotFound},
		{"read a worker", http.MethodGet, "/v1/workers/" + victimWorker, "", http.StatusNotFound},
		{"read rejections", http.MethodGet, "/v1/rejections", "", http.StatusOK},
		{"write an event naming the victim", http.MethodPost, "/v1/earnings", victimEvent("ord-2"), http.StatusNotFound},
		{"write an event naming the victim in the query", http.MethodPost, "/v1/earnings?platform_id=" + victim, victimEvent("ord-2"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := r.do(tt.method, tt.target, r.tokens["other"], tt.body)
			if rec.Code != tt.status {
				t.Errorf("%d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			for _, leak := range []string{victim, victimWorker, victimMarker} {
				// What the caller sent may come back; nothing else may.
				if strings.Contains(rec.Body.String(), leak) && !strings.Contains(tt.target+tt.body, leak) {
					t.Errorf("answer %s contains %q", rec.Body, leak)
				}
			}
		})
	}
	if len(r.pub.msgs) > 0 {
		t.Errorf("another platform's key produced %d messages for the victim", len(r.pub.msgs))
	}
	// The same event from the victim's own key is accepted.
	if rec := r.do(http.MethodPost, "/v1/earnings", r.tokens["victim"], victimEvent("ord-2")); rec.Code != http.StatusAccepted {
		t.Errorf("victim posts its event: %d %s", rec.Code, rec.Body)
	}
}

func TestSignature(t *testing.T) {
	r := newAccRig(t)
	n := 0
	next := func() string { // a new event of platform signed
		n++
		return strings.Replace(victimEvent(fmt.Sprintf("ord-s%d", n)), victim, "signed", 1)
	}
	body, body2 := next(), next()
	sign := func(at time.Time, b string) string { return access.Sign(r.signing, at, []byte(b)) }
	tests := []struct {
		name, token, sig, body string
		status                 int
		detail                 string
	}{
		{"good", r.tokens["signed"], sign(accNow, body), body, http.StatusAccepted, ""},
		{"good, clock 4m behind", r.tokens["signed"], sign(accNow.Add(-4*time.Minute), body2), body2, http.StatusAccepted, ""},
		{"missing", r.tokens["signed"], "", body, http.StatusUnauthorized, access.CodeMissing},
		{"tampered body", r.tokens["signed"], sign(accNow, body), strings.Replace(body, "23.50", "2.35", 1), http.StatusUnauthorized, access.CodeMismatch},
		{"stale", r.tokens["signed"], sign(accNow.Add(-6*time.Minute), body), body, http.StatusUnauthorized, access.CodeStale},
		{"from the future", r.tokens["signed"], sign(accNow.Add(6*time.Minute), body), body, http.StatusUnauthorized, access.CodeStale},
		{"malformed", r.tokens["signed"], "v1=abc", body, http.StatusUnauthorized, access.CodeMalformed},
		{"wrong secret", r.tokens["signed"], access.Sign([]byte("guess"), accNow, []byte(body)), body, http.StatusUnauthorized, access.CodeMismatch},
		// A platform that does not require signatures has them checked
		// when it sends one; it has no secret, so none matches.
		{"unsigned platform sends one", r.tokens["victim"], sign(accNow, victimEvent("ord-6")), victimEvent("ord-6"), http.StatusUnauthorized, access.CodeMismatch},
		{"unsigned platform sends none", r.tokens["victim"], "", victimEvent("ord-7"), http.StatusAccepted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.sig != "" {
				header = []string{access.SignatureHeader, tt.sig}
			}
			before := len(r.pub.msgs)
			rec := r.do(http.MethodPost, "/v1/earnings", tt.token, tt.body, header...)
			if rec.Code != tt.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			if tt.detail == "" {
				if len(r.pub.msgs) != before+1 {
					t.Errorf("accepted, but %d messages produced", len(r.pub.msgs)-before)
				}
				return
			}
			var ans errorAnswer
			json.Unmarshal(rec.Body.Bytes(), &ans)
			if len(ans.Details) != 1 || ans.Details[0].Field != access.SignatureHeader || ans.Details[0].Code != tt.detail {
				t.Errorf("answer %s, want detail %s on %s", rec.Body, tt.detail, access.SignatureHeader)
			}
			if len(r.pub.msgs) != before {
				t.Errorf("refused, but a message was produced")
			}
		})
	}
	// A signed GET signs the empty body.
	if rec := r.do(http.MethodGet, "/v1/rejections", r.tokens["signed"], "", access.SignatureHeader, sign(accNow, "")); rec.Code != http.StatusOK {
		t.Errorf("signed GET: %d %s", rec.Code, rec.Body)
	}
	// A signed body over the limit is refused before any handler.
	small := newAccRig(t, func(c *httpapi.Config) { c.MaxBodyBytes = 64 })
	big := strings.Replace(victimEvent("ord-8"), victim, "signed", 1)
	if rec := small.do(http.MethodPost, "/v1/earnings", small.tokens["signed"], big, access.SignatureHeader, access.Sign(small.signing, accNow, []byte(big))); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("signed body over the limit: %d %s, want 413", rec.Code, rec.Body)
	}
}

func TestRateLimit(t *testing.T) {
	r := newAccRig(t, func(c *httpapi.Config) {
		c.RateLimit = access.LimiterConfig{Rate: 3, Per: 2 * time.Second, Burst: 3}
	})
	get := func(who string) *httptest.ResponseRecorder {
		return r.do(http.MethodGet, "/v1/rejections", r.tokens[who], "")
	}
	for i := range 3 {
		if rec := get("victim"); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := get("victim")
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), `"rate_limited"`) {
		t.Fatalf("fourth request: %d %s, want 429 rate_limited", rec.Code, rec.Body)
	}
	// One token comes back every 2/3 s: Retry-After rounds up to 1.
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	// Another platform has its own bucket; so do staff keys.
	if rec := get("other"); rec.Code != http.StatusOK {
		t.Errorf("another platform: %d", rec.Code)
	}
	if rec := r.do(http.MethodGet, "/v1/schemes", r.tokens["admin"], ""); rec.Code != http.StatusOK {
		t.Errorf("admin: %d", rec.Code)
	}
	r.clock.Advance(700 * time.Millisecond)
	if rec := get("victim"); rec.Code != http.StatusOK {
		t.Errorf("after the wait: %d %s", rec.Code, rec.Body)
	}

	// A platform's own limit wins over the default.
	r.keys.mu.Lock()
	r.keys.policies["other"] = postgres.AccessPolicy{RateLimit: 1, RateBurst: 1}
	r.keys.mu.Unlock()
	r.clock.Advance(time.Minute)
	if rec := get("other"); rec.Code != http.StatusOK {
		t.Fatalf("other's first request: %d", rec.Code)
	}
	rec = get("other")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("other's second request: %d Retry-After %q, want 429 after 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	// Slow buckets give long waits, in whole seconds.
	slow := newAccRig(t, func(c *httpapi.Config) {
		c.RateLimit = access.LimiterConfig{Rate: 1, Per: time.Minute, Burst: 1}
	})
	slow.do(http.MethodGet, "/v1/rejections", slow.tokens["victim"], "")
	slow.clock.Advance(1500 * time.Millisecond)
	rec = slow.do(http.MethodGet, "/v1/rejections", slow.tokens["victim"], "")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "59" {
		t.Errorf("slow bucket: %d Retry-After %q, want 429 after 59", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// TestKeyUse checks that a key's use is recorded, at most once a minute.
func TestKeyUse(t *testing.T) {
	r := newAccRig(t)
	for range 5 {
		r.do(http.MethodGet, "/v1/rejections", r.tokens["victim"], "")
	}
	r.clock.Advance(time.Minute)
	r.do(http.MethodGet, "/v1/rejections", r.tokens["victim"], "")
	tok, _ := access.ParseKey(r.tokens["victim"])
	r.keys.mu.Lock()
	used := r.keys.used[tok.ID]
	r.keys.mu.Unlock()
	if len(used) != 2 || !used[0].Equal(accNow) || !used[1].Equal(accNow.Add(time.Minute)) {
		t.Errorf("recorded uses %v, want %s and a minute later", used, accNow)
	}
}

// TestBearer checks the forms of the Authorization header.
func TestBearer(t *testing.T) {
	r := newAccRig(t)
	for _, c := range []struct {
		header string
		status int
	}{
		{"Bearer " + r.tokens["victim"], http.StatusOK},
		{"bearer " + r.tokens["victim"], http.StatusOK},
		{"Bearer  " + r.tokens["victim"] + " ", http.StatusOK},
		{r.tokens["victim"], http.StatusUnauthorized},
		{"Basic " + r.tokens["victim"], http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(http.MethodGet, "/v1/rejections", nil)
		req.Header.Set("Authorization", c.header)
		rec := httptest.NewRecorder()
		r.e.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("Authorization %.20q…: %d, want %d", c.header, rec.Code, c.status)
		}
	}
	// A key whose platform is gone is no key.
	r.keys.mu.Lock()
	delete(r.keys.policies, victim)
	r.keys.mu.Unlock()
	if rec := r.do(http.MethodGet, "/v1/rejections", r.tokens["victim"], ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("key of a removed platform: %d, want 401", rec.Code)
	}
}

// TestNoKeyStore checks a server built without a KeyStore, as handler tests
// of other concerns build it: platform endpoints take the platform from the
// query, and role-gated endpoints refuse everyone.
func TestNoKeyStore(t *testing.T) {
	r := newAccRig(t, func(c *httpapi.Config) { c.Keys = nil })
	if rec := r.do(http.MethodGet, "/v1/earnings/ord-1?platform_id="+victim, "", ""); rec.Code != http.StatusOK {
		t.Errorf("platform endpoint: %d %s", rec.Code, rec.Body)
	}
	if rec := r.do(http.MethodGet, "/v1/earnings/ord-1", "", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("platform endpoint without platform_id: %d %s, want 400", rec.Code, rec.Body)
	}
	if rec := r.do(http.MethodGet, "/v1/admin/platforms", r.tokens["admin"], ""); rec.Code != http.StatusForbidden {
		t.Errorf("admin endpoint: %d %s, want 403", rec.Code, rec.Body)
	}
}

// countingAccess counts the reads of a KeyStore.
type countingAccess struct {
	*memAccess
	keyReads, policyReads int
}

func (c *countingAccess) Key(ctx context.Context, id string) (access.Key, error) {
	c.keyReads++
	return c.memAccess.Key(ctx, id)
}

func (c *countingAccess) AccessPolicy(ctx context.Context, platformID string, at time.Time) (postgres.AccessPolicy, error) {
	c.policyReads++
	return c.memAccess.AccessPolicy(ctx, platformID, at)
}

// TestKeyCache remembers keys and policies for KeyCacheTTL: requests within
// it read the store once, an unknown key stays unknown, and a key revoked
// in the store (by another process) stops working once the TTL has passed.
func TestKeyCache(t *testing.T) {
	var store *countingAccess
	r := newAccRig(t, func(c *httpapi.Config) {
		store = &countingAccess{memAccess: c.Keys.(*memAccess)}
		c.Keys, c.KeyCacheTTL = store, 5*time.Second
	})
	unknown, _, err := access.NewKey("cbk_test") // never stored
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if rec := r.do(http.MethodGet, "/v1/rejections", r.tokens["victim"], ""); rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec := r.do(http.MethodGet, "/v1/rejections", unknown, ""); rec.Code != http.StatusUnauthorized {
			t.Fatalf("unknown key: status %d", rec.Code)
		}
	}
	if store.keyReads != 2 || store.policyReads != 1 {
		t.Errorf("%d key reads and %d policy reads for three requests of two keys, want 2 and 1", store.keyReads, store.policyReads)
	}
	r.keys.revoke(r.tokens["victim"], accNow)
	r.clock.Advance(4 * time.Second)
	if rec := r.do(http.MethodGet, "/v1/rejections", r.tokens["victim"], ""); rec.Code != http.StatusOK {
		t.Errorf("within the cache's 5 s: status %d, want 200 (the revocation not yet seen)", rec.Code)
	}
	r.clock.Advance(time.Second)
	if rec := r.do(http.MethodGet, "/v1/rejections", r.tokens["victim"], ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("after 5 s: status %d, want 401 for the revoked key", rec.Code)
	}
}

// revokingAdmin is an AdminStore that only revokes keys of a memAccess.
type revokingAdmin struct {
	httpapi.AdminStore
	keys *memAccess
}

func (a revokingAdmin) RevokeKey(_ context.Context, id string, at time.Time) (postgres.APIKey, error) {
	a.keys.mu.Lock()
	defer a.keys.mu.Unlock()
	k := a.keys.keys[id]
	k.RevokedAt = at
	a.keys.keys[id] = k
	return postgres.APIKey{Key: k}, nil
}

// TestKeyCacheForgetsRevoked revokes a remembered key through this
// process's admin API: it stops working at once.
func TestKeyCacheForgetsRevoked(t *testing.T) {
	r := newAccRig(t, func(c *httpapi.Config) {
		c.KeyCacheTTL = time.Hour
		c.Admin = revokingAdmin{keys: c.Keys.(*memAccess)}
	})
	if rec := r.do(http.MethodGet, "/v1/rejections", r.tokens["victim"], ""); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	tok, _ := access.ParseKey(r.tokens["victim"])
	if rec := r.do(http.MethodDelete, "/v1/admin/keys/"+tok.ID, r.tokens["admin"], ""); rec.Code != http.StatusOK {
		t.Fatalf("revoke: status %d: %s", rec.Code, rec.Body)
	}
	if rec := r.do(http.MethodGet, "/v1/rejections", r.tokens["victim"], ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("after revoking through the admin API: status %d, want 401", rec.Code)
	}
}
