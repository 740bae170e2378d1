package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// memWorkers is a WorkerStore in memory with the store's idempotency rule.
type memWorkers struct {
	regs       []postgres.Registration
	hashes     map[string][32]byte
	sealed     map[string][]byte
	keyLookups int
}

// WorkerKeys implements httpapi.WorkerKeyIndex.
func (m *memWorkers) WorkerKeys(_ context.Context, platformID string, refs []string) (map[string]string, error) {
	m.keyLookups++
	out := map[string]string{}
	for _, r := range m.regs {
		for _, ref := range refs {
			if r.PlatformID == platformID && r.WorkerRef == ref && r.Change == postgres.RegistrationStart {
				out[ref] = r.WorkerKey
			}
		}
	}
	return out, nil
}

func (m *memWorkers) Register(_ context.Context, w postgres.NewWorker, r postgres.Registration, hash [32]byte) (postgres.Registration, bool, error) {
	k := r.PlatformID + "|" + r.WorkerRef + "|" + r.SchemeID + "|" + r.Change + "|" + r.Effective.String()
	if h, ok := m.hashes[k]; ok {
		if h != hash {
			return r, false, gateway.Errorf(gateway.ECONFLICT, "a different step is recorded")
		}
		return r, false, nil
	}
	m.hashes[k] = hash
	if w.WorkerKey != "" {
		m.sealed[w.WorkerKey] = w.Sealed
	}
	m.regs = append(m.regs, r)
	return r, true, nil
}

func (m *memWorkers) Registrations(_ context.Context, platformID, ref string) ([]postgres.Registration, error) {
	var out []postgres.Registration
	for _, r := range m.regs {
		if r.PlatformID == platformID && r.WorkerRef == ref {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memWorkers) WorkerPeriods(context.Context, string, string) ([]postgres.WorkerPeriod, error) {
	return nil, nil
}

// A valid MyKad: born 1990-01-01, place code 14 (Kuala Lumpur).
const mykad = "900101-14-5678"

func workerServer(t *testing.T) (http.Handler, *memWorkers) {
	t.Helper()
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	keyer, err := identity.NewKeyer(identity.KeyerConfig{Secret: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := identity.NewSealer(identity.SealerConfig{Keys: map[byte][]byte{1: []byte(strings.Repeat("s", 32))}, KeyID: 1})
	if err != nil {
		t.Fatal(err)
	}
	store := &memWorkers{hashes: map[string][32]byte{}, sealed: map[string][]byte{}}
	h := httpapi.New(httpapi.Config{Schemes: catalog, Workers: store, Identity: httpapi.Identity{Keyer: keyer, Sealer: sealer},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	return h, store
}

func do(h http.Handler, method, path, body string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestRegisterWorker(t *testing.T) {
	h, store := workerServer(t)
	body := `{"worker_ref":"drv-77","national_id":{"country":"MY","number":"` + mykad + `"},"scheme_id":"my-sess","plan_id":"2","start_date":"2026-10-01"}`
	code, out := do(h, "POST", "/v1/workers?platform_id=demo", body)
	if code != http.StatusCreated {
		t.Fatalf("register = %d %s", code, out)
	}
	// The answer and the store hold the worker key, never the number.
	if strings.Contains(out, "5678") || strings.Contains(out, "900101") {
		t.Errorf("answer leaks the national ID: %s", out)
	}
	var v struct {
		WorkerKey string `json:"worker_key"`
	}
	json.Unmarshal([]byte(out), &v)
	if len(v.WorkerKey) != 64 {
		t.Errorf("worker_key = %q, want a 64-hex-digit keyed hash", v.WorkerKey)
	}
	for _, sealed := range store.sealed {
		if strings.Contains(string(sealed), "900101145678") {
			t.Error("national ID stored in the clear")
		}
	}
	// The same registration again is answered, not duplicated.
	if code, _ := do(h, "POST", "/v1/workers?platform_id=demo", body); code != http.StatusOK || len(store.regs) != 1 {
		t.Errorf("replay = %d with %d registrations, want 200 and 1", code, len(store.regs))
	}
	// Other content on the same day is a conflict.
	if code, _ := do(h, "POST", "/v1/workers?platform_id=demo", strings.Replace(body, `"2"`, `"3"`, 1)); code != http.StatusConflict {
		t.Errorf("conflicting replay = %d, want 409", code)
	}
	// A change and a termination are kept as history.
	if code, out := do(h, "POST", "/v1/workers/drv-77/changes?platform_id=demo", `{"scheme_id":"my-sess","plan_id":"4","effective_date":"2026-11-01"}`); code != http.StatusCreated {
		t.Fatalf("change = %d %s", code, out)
	}
	if code, out := do(h, "POST", "/v1/workers/drv-77/termination?platform_id=demo", `{"scheme_id":"my-sess","effective_date":"2026-12-01"}`); code != http.StatusCreated {
		t.Fatalf("termination = %d %s", code, out)
	}
	code, out = do(h, "GET", "/v1/workers/drv-77?platform_id=demo", "")
	if code != http.StatusOK || strings.Count(out, `"effective_date"`) != 3 {
		t.Errorf("history = %d %s, want three steps", code, out)
	}
	// Another platform does not see the worker.
	if code, _ := do(h, "GET", "/v1/workers/drv-77?platform_id=other", ""); code != http.StatusNotFound {
		t.Errorf("other platform = %d, want 404", code)
	}
}

func TestRegisterWorkerRejects(t *testing.T) {
	h, store := workerServer(t)
	base := `{"worker_ref":"drv-77","national_id":{"country":"MY","number":"` + mykad + `"},"scheme_id":"my-sess","plan_id":"2","start_date":"2026-10-01"}`
	tests := []struct {
		name, body, field, code string
	}{
		{"bad check", strings.Replace(base, "900101", "901301", 1), "national_id.number", "bad_birth_date"},
		{"bad place", strings.Replace(base, "-14-", "-00-", 1), "national_id.number", "bad_place_code"},
		{"unsupported country", strings.Replace(base, `"MY"`, `"XX"`, 1), "national_id.country", "unsupported_country"},
		{"no id", strings.Replace(base, `"national_id":{"country":"MY","number":"`+mykad+`"},`, "", 1), "national_id", "required"},
		{"no ref", strings.Replace(base, `"worker_ref":"drv-77",`, "", 1), "worker_ref", "required"},
		{"bad date", strings.Replace(base, "2026-10-01", "01/10/2026", 1), "start_date", "bad_date"},
		{"unknown scheme", strings.Replace(base, "my-sess", "nope", 1), "scheme_id", "unknown_scheme"},
		{"unknown plan", strings.Replace(base, `"plan_id":"2"`, `"plan_id":"9"`, 1), "plan_id", "unknown_plan"},
		{"unknown field", strings.Replace(base, `"worker_ref"`, `"nric":1,"worker_ref"`, 1), "nric", "unknown_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := do(h, "POST", "/v1/workers?platform_id=demo", tt.body)
			var e struct {
				Code    string
				Details []gateway.Detail
			}
			json.Unmarshal([]byte(out), &e)
			if code != http.StatusBadRequest || len(e.Details) == 0 || e.Details[0].Field != tt.field || e.Details[0].Code != tt.code {
				t.Errorf("= %d %s; want 400 %s %s", code, out, tt.field, tt.code)
			}
			if strings.Contains(out, "5678") {
				t.Errorf("error leaks the national ID: %s", out)
			}
		})
	}
	if len(store.regs) != 0 {
		t.Errorf("%d registrations stored from bad input", len(store.regs))
	}
}
