package postgres_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
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
