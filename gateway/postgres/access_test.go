package postgres_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/httpapi"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// testSealer returns a sealer with a random key.
func testSealer(t *testing.T) *identity.Sealer {
	t.Helper()
	key := make([]byte, identity.KeyLen)
	rand.Read(key)
	s, err := identity.NewSealer(identity.SealerConfig{Keys: map[byte][]byte{1: key}, KeyID: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func demoPlatform(id string) postgres.Platform {
	return postgres.Platform{ID: id, Name: "Demo " + id, Country: "MY", Currency: "MYR", ActiveFrom: t0.AddDate(-1, 0, 0),
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}}
}

func authenticate(t *testing.T, store access.KeyStore, token string, at time.Time) (access.Principal, error) {
	t.Helper()
	a, err := access.NewAuthenticator(access.AuthenticatorConfig{Keys: store, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return a.Authenticate(context.Background(), token)
}

func TestAccessPlatformFields(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	store := postgres.NewAccess(db, testSealer(t))
	p := demoPlatform("acme")
	p.Sectors, p.Vehicles = []string{"ride_hailing", "delivery"}, []string{"2w", "4w"}
	p.RemittanceAccount, p.RateLimit, p.RateBurst = "MBBEMYKL 5140-1234-5678", 50, 80
	secret, err := store.CreatePlatform(ctx, p, t0)
	if err != nil || secret != "" {
		t.Fatalf("CreatePlatform = %q, %v; want no signing secret", secret, err)
	}
	got, err := store.Platforms(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("Platforms = %v, %v", got, err)
	}
	g := got[0]
	if strings.Join(g.Sectors, ",") != "ride_hailing,delivery" || strings.Join(g.Vehicles, ",") != "2w,4w" ||
		g.RemittanceAccount != p.RemittanceAccount || g.RateLimit != 50 || g.RateBurst != 80 || g.RequireSignature {
		t.Errorf("stored platform = %+v", g)
	}
	if _, err := store.CreatePlatform(ctx, p, t0); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("second CreatePlatform = %v, want conflict", err)
	}
	// The old entry point still works and gets the defaults.
	if err := db.CreatePlatform(ctx, demoPlatform("plain")); err != nil {
		t.Fatal(err)
	}
	pol, err := store.AccessPolicy(ctx, "plain", t0)
	if err != nil || pol.RequireSignature || pol.RateLimit != 0 || len(pol.SigningSecrets) != 0 {
		t.Errorf("AccessPolicy(plain) = %+v, %v", pol, err)
	}
	if _, err := store.AccessPolicy(ctx, "nope", t0); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("AccessPolicy(nope) = %v, want not_found", err)
	}
}

func TestPlatformValidate(t *testing.T) {
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	good := demoPlatform("acme")
	if err := good.Validate(catalog); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	tests := []struct {
		name   string
		change func(*postgres.Platform)
		fields []string
	}{
		{"nothing", func(p *postgres.Platform) { *p = postgres.Platform{} }, []string{"id", "name", "country", "currency", "schemes"}},
		{"bad id", func(p *postgres.Platform) { p.ID = "Acme Rides" }, []string{"id"}},
		{"country lower case", func(p *postgres.Platform) { p.Country = "my" }, []string{"country"}},
		{"unknown currency", func(p *postgres.Platform) { p.Currency = "XYZ" }, []string{"currency"}},
		{"unknown scheme", func(p *postgres.Platform) { p.Schemes[0].SchemeID = "xx-none" }, []string{"schemes[0].scheme_id"}},
		{"unknown plan", func(p *postgres.Platform) { p.Schemes[0].PlanID = "nope" }, []string{"schemes[0].plan_id"}},
		{"scheme twice", func(p *postgres.Platform) { p.Schemes = append(p.Schemes, p.Schemes[0]) }, []string{"schemes[1].scheme_id"}},
		{"bad sector", func(p *postgres.Platform) { p.Sectors = []string{"ok", "Ride Hailing"} }, []string{"sectors[1]"}},
		{"bad vehicle", func(p *postgres.Platform) { p.Vehicles = []string{""} }, []string{"vehicles[0]"}},
		{"long account", func(p *postgres.Platform) { p.RemittanceAccount = strings.Repeat("1", 101) }, []string{"remittance_account"}},
		{"negative rate", func(p *postgres.Platform) { p.RateLimit, p.RateBurst = -1, -1 }, []string{"rate_limit", "rate_burst"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := demoPlatform("acme")
			p.Schemes = append([]postgres.PlatformScheme(nil), p.Schemes...)
			tt.change(&p)
			err := p.Validate(catalog)
			ge, ok := err.(*gateway.Error)
			if !ok || ge.Code != gateway.EINVALID {
				t.Fatalf("Validate = %v, want invalid", err)
			}
			var fields []string
			for _, d := range ge.Details {
				fields = append(fields, d.Field)
			}
			if strings.Join(fields, " ") != strings.Join(tt.fields, " ") {
				t.Errorf("fields = %v, want %v", fields, tt.fields)
			}
		})
	}
}

func TestAccessKeys(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	store := postgres.NewAccess(db, nil)
	for _, id := range []string{"acme", "other"} {
		if err := db.CreatePlatform(ctx, demoPlatform(id)); err != nil {
			t.Fatal(err)
		}
	}
	token, k, err := store.IssueKey(ctx, postgres.NewKey{Role: access.RolePlatform, PlatformID: "acme", Label: "ops laptop", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "cbk_live_"+k.ID+"_") || k.Prefix != "cbk_live" {
		t.Errorf("token %s… and key %+v do not match", token[:18], k)
	}
	p, err := authenticate(t, store, token, t0)
	if err != nil || p != (access.Principal{KeyID: k.ID, PlatformID: "acme", Role: access.RolePlatform}) {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	// The secret is not stored: the hash column holds 32 bytes and the token
	// appears nowhere in the table.
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE octet_length(secret_hash) = 32 AND strpos(api_keys::text, $1) = 0`,
		token[strings.LastIndexByte(token, '_')+1:]).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows without the secret = %d, %v; want 1", n, err)
	}
	// A wrong secret with the right id is refused like an unknown id.
	wrong := token[:len(token)-4] + "aaaa"
	if wrong == token {
		wrong = token[:len(token)-4] + "bbbb"
	}
	for _, tok := range []string{wrong, "cbk_live_aaaaaaaa_" + token[len(token)-52:]} {
		if _, err := authenticate(t, store, tok, t0); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
			t.Errorf("Authenticate(bad) = %v, want unauthorized", err)
		}
	}

	staffToken, staff, err := store.IssueKey(ctx, postgres.NewKey{Role: access.RoleFinance, Prefix: "cbk_test", CreatedAt: t0})
	if err != nil || !strings.HasPrefix(staffToken, "cbk_test_") {
		t.Fatalf("IssueKey(finance) = %v", err)
	}
	bad := []struct {
		nk   postgres.NewKey
		code string
	}{
		{postgres.NewKey{Role: "auditor"}, gateway.EINVALID},
		{postgres.NewKey{Role: access.RolePlatform}, gateway.EINVALID},
		{postgres.NewKey{Role: access.RoleAdmin, PlatformID: "acme"}, gateway.EINVALID},
		{postgres.NewKey{Role: access.RolePlatform, PlatformID: "nope"}, gateway.ENOTFOUND},
		{postgres.NewKey{Role: access.RoleAdmin, Prefix: "Bad-Prefix"}, gateway.EINVALID},
	}
	for _, b := range bad {
		if _, _, err := store.IssueKey(ctx, b.nk); gateway.ErrorCode(err) != b.code {
			t.Errorf("IssueKey(%+v) = %v, want %s", b.nk, err, b.code)
		}
	}

	keys, err := store.Keys(ctx, "acme")
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID || keys[0].Label != "ops laptop" {
		t.Fatalf("Keys(acme) = %+v, %v", keys, err)
	}
	if keys, err := store.Keys(ctx, "other"); err != nil || len(keys) != 0 {
		t.Errorf("Keys(other) = %+v, %v; want none", keys, err)
	}
	if keys, err := store.Keys(ctx, ""); err != nil || len(keys) != 1 || keys[0].ID != staff.ID {
		t.Errorf("Keys(staff) = %+v, %v", keys, err)
	}
	if _, err := store.Keys(ctx, "nope"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("Keys(nope) = %v, want not_found", err)
	}

	// Use is recorded, at most once a minute.
	for _, at := range []time.Time{t0.Add(time.Second), t0.Add(30 * time.Second), t0.Add(2 * time.Minute)} {
		if err := store.KeyUsed(ctx, k.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := store.APIKey(ctx, k.ID); !got.LastUsedAt.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("last used = %s, want %s", got.LastUsedAt, t0.Add(2*time.Minute))
	}
}

func TestAccessRotateAndRevoke(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	store := postgres.NewAccess(db, nil)
	if err := db.CreatePlatform(ctx, demoPlatform("acme")); err != nil {
		t.Fatal(err)
	}
	oldToken, old, err := store.IssueKey(ctx, postgres.NewKey{Role: access.RolePlatform, PlatformID: "acme", Label: "prod", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	newToken, next, retired, err := store.RotateKey(ctx, old.ID, at, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if next.ID == old.ID || next.PlatformID != "acme" || next.Role != access.RolePlatform || next.Label != "prod" ||
		retired.ReplacedBy != next.ID || !retired.RevokedAt.Equal(at.Add(24*time.Hour)) {
		t.Errorf("rotation: next %+v, old %+v", next, retired)
	}
	// During the grace both keys work; after it only the new one.
	for _, c := range []struct {
		token string
		at    time.Time
		ok    bool
	}{
		{oldToken, at.Add(23 * time.Hour), true},
		{newToken, at.Add(23 * time.Hour), true},
		{oldToken, at.Add(24 * time.Hour), false},
		{newToken, at.Add(24 * time.Hour), true},
	} {
		_, err := authenticate(t, store, c.token, c.at)
		if (err == nil) != c.ok {
			t.Errorf("token %s at %s: err = %v, want ok %v", c.token[:17], c.at, err, c.ok)
		}
	}
	if _, _, _, err := store.RotateKey(ctx, old.ID, at, time.Hour); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("rotating twice = %v, want conflict", err)
	}
	if _, _, _, err := store.RotateKey(ctx, "aaaaaaaa", at, time.Hour); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("rotating an unknown key = %v, want not_found", err)
	}

	// Revoking the old key during its grace ends the grace now.
	revokedAt := at.Add(time.Hour)
	k, err := store.RevokeKey(ctx, old.ID, revokedAt)
	if err != nil || !k.RevokedAt.Equal(revokedAt) {
		t.Fatalf("RevokeKey = %+v, %v", k, err)
	}
	// Revoking again later keeps the first time.
	if k, err := store.RevokeKey(ctx, old.ID, revokedAt.Add(time.Hour)); err != nil || !k.RevokedAt.Equal(revokedAt) {
		t.Errorf("second RevokeKey = %+v, %v", k, err)
	}
	if _, err := authenticate(t, store, oldToken, revokedAt); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
		t.Errorf("revoked key: %v, want unauthorized", err)
	}
	if _, err := store.RevokeKey(ctx, "aaaaaaaa", at); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("revoking an unknown key = %v, want not_found", err)
	}
	// A revoked key cannot be rotated.
	if _, err := store.RevokeKey(ctx, next.ID, revokedAt); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := store.RotateKey(ctx, next.ID, revokedAt, time.Hour); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("rotating a revoked key = %v, want conflict", err)
	}
}

func TestAccessCreateKey(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	store := postgres.NewAccess(db, nil)
	if err := db.CreatePlatform(ctx, demoPlatform("demo")); err != nil {
		t.Fatal(err)
	}
	token := "cbk_demo_demomain_" + strings.Repeat("a", access.SecretLen)
	tok, err := access.ParseKey(token)
	if err != nil {
		t.Fatal(err)
	}
	_, k, _ := access.NewKey("cbk_demo")
	fixed := postgres.APIKey{Key: access.Key{ID: tok.ID, Prefix: tok.Prefix, Role: access.RolePlatform, PlatformID: "demo"}}
	fixed.Hash = sha256.Sum256([]byte(strings.Repeat("a", access.SecretLen)))
	if err := store.CreateKey(ctx, fixed); err != nil {
		t.Fatal(err)
	}
	if p, err := authenticate(t, store, token, time.Now()); err != nil || p.PlatformID != "demo" {
		t.Errorf("fixed key: %+v, %v", p, err)
	}
	fixed.Hash = k.Hash
	if err := store.CreateKey(ctx, fixed); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("CreateKey twice = %v, want conflict", err)
	}
}

func TestAccessSigningSecrets(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	sealer := testSealer(t)
	store := postgres.NewAccess(db, sealer)
	p := demoPlatform("signed")
	p.RequireSignature = true
	first, err := store.CreatePlatform(ctx, p, t0)
	if err != nil || !strings.HasPrefix(first, "cbs_") || len(first) != 4+52 {
		t.Fatalf("CreatePlatform = %q, %v; want a signing secret", first, err)
	}
	var sealed []byte
	if err := db.Pool.QueryRow(ctx, `SELECT sealed FROM platform_signing_secrets`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), first[4:]) {
		t.Error("the signing secret is stored in the clear")
	}
	pol, err := store.AccessPolicy(ctx, "signed", t0)
	if err != nil || !pol.RequireSignature || len(pol.SigningSecrets) != 1 || string(pol.SigningSecrets[0]) != first {
		t.Fatalf("AccessPolicy = %+v, %v", pol, err)
	}
	second, err := store.IssueSigningSecret(ctx, "signed", t0.Add(time.Hour), time.Hour)
	if err != nil || second == first {
		t.Fatalf("IssueSigningSecret = %v", err)
	}
	pol, _ = store.AccessPolicy(ctx, "signed", t0.Add(90*time.Minute))
	if len(pol.SigningSecrets) != 2 || string(pol.SigningSecrets[0]) != second || string(pol.SigningSecrets[1]) != first {
		t.Errorf("during the grace: %d secrets, want the new then the old", len(pol.SigningSecrets))
	}
	pol, _ = store.AccessPolicy(ctx, "signed", t0.Add(2*time.Hour))
	if len(pol.SigningSecrets) != 1 || string(pol.SigningSecrets[0]) != second {
		t.Errorf("after the grace: %d secrets, want the new one", len(pol.SigningSecrets))
	}
	if _, err := store.IssueSigningSecret(ctx, "nope", t0, 0); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("IssueSigningSecret(nope) = %v, want not_found", err)
	}
	// A sealed secret opens only for its platform, and only with the key.
	if _, err := sealer.Open("signing_secret:other", sealed); err == nil {
		t.Error("a signing secret opened for another platform")
	}
	if _, err := postgres.NewAccess(db, testSealer(t)).AccessPolicy(ctx, "signed", t0); err == nil {
		t.Error("signing secrets opened with another seal key")
	}
	if _, err := postgres.NewAccess(db, nil).AccessPolicy(ctx, "signed", t0); err == nil {
		t.Error("signing secrets read without a seal key")
	}
	p.ID = "unsealed"
	if _, err := postgres.NewAccess(db, nil).CreatePlatform(ctx, p, t0); err == nil {
		t.Error("a signing platform created without a seal key")
	}
}

// TestAccessOverHTTP runs the access store behind the HTTP API: an admin
// onboards platforms and manages keys, and the keys it issues open exactly
// their own platform's data.
func TestAccessOverHTTP(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	store := postgres.NewAccess(db, testSealer(t))
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := httpapi.New(httpapi.Config{Keys: store, Admin: store, Schemes: catalog, Earnings: db, Platforms: db, Now: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	adminToken, _, err := store.IssueKey(ctx, postgres.NewKey{Role: access.RoleAdmin, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code int
		body string
	}
	call := func(method, path, token, body string, header ...string) answer {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return answer{rec.Code, rec.Body.String()}
	}
	want := func(a answer, code int, contains ...string) {
		t.Helper()
		if a.code != code {
			t.Fatalf("answer %d %s, want %d", a.code, a.body, code)
		}
		for _, c := range contains {
			if !strings.Contains(a.body, c) {
				t.Errorf("answer %s lacks %s", a.body, c)
			}
		}
	}
	var issued struct {
		Key   struct{ ID string }
		Token string
	}
	decode := func(a answer, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(a.body), v); err != nil {
			t.Fatalf("%v: %s", err, a.body)
		}
	}

	// Onboarding: every bad field is named.
	want(call(http.MethodPost, "/v1/admin/platforms", adminToken,
		`{"id":"Acme!","name":"","country":"Malaysia","currency":"MYR","schemes":[{"scheme_id":"my-gig","plan_id":"nope"}],"sectors":["Ride Hailing"],"rate_limit":-5}`),
		http.StatusBadRequest, `"field":"id"`, `"field":"name"`, `"field":"country"`, `"field":"schemes[0].plan_id"`, `"field":"sectors[0]"`, `"field":"rate_limit"`)
	want(call(http.MethodPost, "/v1/admin/platforms", adminToken, `{"id":"acme","colour":"red"}`), http.StatusBadRequest, `colour`)
	want(call(http.MethodPost, "/v1/admin/platforms", adminToken,
		`{"id":"acme","name":"Acme Rides","country":"MY","currency":"MYR","schemes":[{"scheme_id":"my-gig","plan_id":"s83"}],
		  "sectors":["ride_hailing"],"vehicles":["2w"],"remittance_account":"MBB 5140-1234","rate_limit":100,"active_from":"2026-01-01T00:00:00Z"}`),
		http.StatusCreated, `"id":"acme"`, `"sectors":["ride_hailing"]`, `"rate_limit":100`)
	want(call(http.MethodPost, "/v1/admin/platforms", adminToken,
		`{"id":"acme","name":"Again","country":"MY","currency":"MYR","schemes":[{"scheme_id":"my-gig","plan_id":"s83"}]}`), http.StatusConflict)
	var signed struct {
		SigningSecret string `json:"signing_secret"`
	}
	a := call(http.MethodPost, "/v1/admin/platforms", adminToken,
		`{"id":"signed","name":"Signed","country":"MY","currency":"MYR","schemes":[{"scheme_id":"my-gig","plan_id":"s83"}],"require_signature":true}`)
	want(a, http.StatusCreated)
	decode(a, &signed)
	if !strings.HasPrefix(signed.SigningSecret, "cbs_") {
		t.Fatalf("a signing platform's creation shows no secret: %s", a.body)
	}
	want(call(http.MethodGet, "/v1/admin/platforms", adminToken, ""), http.StatusOK, `"id":"acme"`, `"id":"signed"`, `"require_signature":true`)
	if a := call(http.MethodGet, "/v1/admin/platforms", adminToken, ""); strings.Contains(a.body, signed.SigningSecret) {
		t.Error("the platform list shows a signing secret")
	}

	// Keys.
	a = call(http.MethodPost, "/v1/admin/platforms/acme/keys", adminToken, `{"label":"ops"}`)
	want(a, http.StatusCreated, `"role":"platform"`, `"platform_id":"acme"`)
	decode(a, &issued)
	acme, acmeID := issued.Token, issued.Key.ID
	want(call(http.MethodPost, "/v1/admin/platforms/nope/keys", adminToken, ""), http.StatusNotFound)
	want(call(http.MethodPost, "/v1/admin/platforms/acme/keys", adminToken, `{"role":"admin"}`), http.StatusBadRequest, `"field":"role"`)
	a = call(http.MethodPost, "/v1/admin/platforms/signed/keys", adminToken, "")
	want(a, http.StatusCreated)
	decode(a, &issued)
	signedKey := issued.Token
	want(call(http.MethodPost, "/v1/admin/keys", adminToken, `{"role":"finance","label":"treasury"}`), http.StatusCreated, `"role":"finance"`)
	want(call(http.MethodPost, "/v1/admin/keys", adminToken, `{"role":"platform"}`), http.StatusBadRequest, `"field":"role"`)
	want(call(http.MethodGet, "/v1/admin/keys", adminToken, ""), http.StatusOK, `"role":"admin"`, `"role":"finance"`)

	// The platform key reads its own data, and nothing else.
	want(call(http.MethodGet, "/v1/rejections", acme, ""), http.StatusOK, `"rejections":[]`)
	want(call(http.MethodGet, "/v1/rejections?platform_id=signed", acme, ""), http.StatusNotFound)
	want(call(http.MethodGet, "/v1/admin/platforms", acme, ""), http.StatusForbidden)
	want(call(http.MethodPost, "/v1/admin/platforms/acme/keys", acme, ""), http.StatusForbidden)

	// Listings show prefixes and the last use, never the secret.
	a = call(http.MethodGet, "/v1/admin/platforms/acme/keys", adminToken, "")
	want(a, http.StatusOK, `"id":"`+acmeID+`"`, `"display":"cbk_live_`+acmeID+`_…"`, `"last_used_at"`, `"label":"ops"`)
	if strings.Contains(a.body, acme[len(acme)-access.SecretLen:]) {
		t.Errorf("the key list shows a secret: %s", a.body)
	}

	// Rotation: both keys work during the grace, then only the new one.
	a = call(http.MethodPost, "/v1/admin/keys/"+acmeID+"/rotate", adminToken, `{"grace":"1h"}`)
	want(a, http.StatusCreated, `"previous":`, `"replaced_by":`)
	decode(a, &issued)
	next, nextID := issued.Token, issued.Key.ID
	want(call(http.MethodGet, "/v1/rejections", acme, ""), http.StatusOK)
	want(call(http.MethodGet, "/v1/rejections", next, ""), http.StatusOK)
	want(call(http.MethodPost, "/v1/admin/keys/"+acmeID+"/rotate", adminToken, ""), http.StatusConflict)
	want(call(http.MethodPost, "/v1/admin/keys/"+acmeID+"/rotate", adminToken, `{"grace":"forever"}`), http.StatusBadRequest, `"field":"grace"`)
	mu.Lock()
	now = now.Add(61 * time.Minute)
	mu.Unlock()
	want(call(http.MethodGet, "/v1/rejections", acme, ""), http.StatusUnauthorized, `"revoked"`)
	want(call(http.MethodGet, "/v1/rejections", next, ""), http.StatusOK)
	// Revocation is at once.
	want(call(http.MethodDelete, "/v1/admin/keys/"+nextID, adminToken, ""), http.StatusOK, `"active":false`)
	want(call(http.MethodGet, "/v1/rejections", next, ""), http.StatusUnauthorized)
	want(call(http.MethodDelete, "/v1/admin/keys/aaaaaaaa", adminToken, ""), http.StatusNotFound)

	// The signing platform signs with the secret shown at its creation.
	sign := func(secret string, body string) string {
		return access.Sign([]byte(secret), clock(), []byte(body))
	}
	want(call(http.MethodGet, "/v1/rejections", signedKey, ""), http.StatusUnauthorized, `"Coverbridge-Signature"`)
	want(call(http.MethodGet, "/v1/rejections", signedKey, "", access.SignatureHeader, sign(signed.SigningSecret, "")), http.StatusOK)
	// A new signing secret; the old one works through the grace.
	var rotated struct {
		SigningSecret string `json:"signing_secret"`
	}
	a = call(http.MethodPost, "/v1/admin/platforms/signed/signing-secrets", adminToken, `{"grace":"10m"}`)
	want(a, http.StatusCreated)
	decode(a, &rotated)
	want(call(http.MethodGet, "/v1/rejections", signedKey, "", access.SignatureHeader, sign(signed.SigningSecret, "")), http.StatusOK)
	want(call(http.MethodGet, "/v1/rejections", signedKey, "", access.SignatureHeader, sign(rotated.SigningSecret, "")), http.StatusOK)
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	want(call(http.MethodGet, "/v1/rejections", signedKey, "", access.SignatureHeader, sign(signed.SigningSecret, "")), http.StatusUnauthorized, `"mismatch"`)
	want(call(http.MethodGet, "/v1/rejections", signedKey, "", access.SignatureHeader, sign(rotated.SigningSecret, "")), http.StatusOK)
}
