package postgres_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

func TestIdempotencyKeys(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	k := postgres.IdempotencyKey{PlatformID: "demo", Key: "batch-1", Hash: sha256.Sum256([]byte("body"))}

	// First use: the caller holds the key.
	if a, err := db.ClaimIdempotencyKey(ctx, k); err != nil || a != nil {
		t.Fatalf("first claim = %v, %v; want nil, nil", a, err)
	}
	// While it is answered, a retry is told to wait.
	if _, err := db.ClaimIdempotencyKey(ctx, k); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Fatalf("claim in progress = %v, want conflict", err)
	}
	want := postgres.IdempotentAnswer{Status: 200, Body: []byte(`{"accepted":2}`)}
	if err := db.CompleteIdempotencyKey(ctx, k, want); err != nil {
		t.Fatal(err)
	}
	// Same key, same request: the first answer.
	a, err := db.ClaimIdempotencyKey(ctx, k)
	if err != nil || a == nil || a.Status != want.Status || string(a.Body) != string(want.Body) {
		t.Fatalf("replay = %+v, %v; want %+v", a, err, want)
	}
	// Same key, other request.
	other := k
	other.Hash = sha256.Sum256([]byte("other body"))
	if _, err := db.ClaimIdempotencyKey(ctx, other); gateway.ErrorCode(err) != gateway.EIDEMPOTENCYMISMATCH {
		t.Fatalf("claim with another body = %v, want idempotency_mismatch", err)
	}
	// Keys are per platform.
	elsewhere := k
	elsewhere.PlatformID = "other"
	if a, err := db.ClaimIdempotencyKey(ctx, elsewhere); err != nil || a != nil {
		t.Fatalf("same key on another platform = %v, %v; want a fresh claim", a, err)
	}
	// A released key is answered anew.
	if err := db.ReleaseIdempotencyKey(ctx, elsewhere); err != nil {
		t.Fatal(err)
	}
	if a, err := db.ClaimIdempotencyKey(ctx, elsewhere); err != nil || a != nil {
		t.Fatalf("claim after release = %v, %v; want a fresh claim", a, err)
	}
	// Completing a key twice, or one not claimed, fails.
	if err := db.CompleteIdempotencyKey(ctx, k, want); err == nil {
		t.Error("second completion succeeded")
	}
	// A bad key is named.
	bad := k
	bad.Key = strings.Repeat("k", 256)
	if _, err := db.ClaimIdempotencyKey(ctx, bad); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("claim of a 256-character key = %v, want invalid", err)
	}
}

func TestIdempotencyKeyTakeover(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	k := postgres.IdempotencyKey{PlatformID: "demo", Key: "batch-1", Hash: sha256.Sum256([]byte("body"))}
	if _, err := db.ClaimIdempotencyKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	// The process that claimed the key died long ago.
	if _, err := db.Pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	if a, err := db.ClaimIdempotencyKey(ctx, k); err != nil || a != nil {
		t.Fatalf("claim of a stale key = %v, %v; want a fresh claim", a, err)
	}
	if err := db.CompleteIdempotencyKey(ctx, k, postgres.IdempotentAnswer{Status: 200, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// An answer older than the TTL no longer binds the key.
	if _, err := db.Pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours'`); err != nil {
		t.Fatal(err)
	}
	other := k
	other.Hash = sha256.Sum256([]byte("new body"))
	if a, err := db.ClaimIdempotencyKey(ctx, other); err != nil || a != nil {
		t.Fatalf("claim of an expired key = %v, %v; want a fresh claim", a, err)
	}
	n, err := db.PruneIdempotencyKeys(ctx, time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("prune = %d, %v; want 1", n, err)
	}
}

func TestRecordedHashes(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	ev := event("ord-1", "23.50")
	if err := write(db, claim(t, db, 0), 1, postgres.BatchWrites{Events: []postgres.IncomingEvent{ev}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.RecordedHashes(ctx, "demo", []string{"ord-1", "ord-2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["ord-1"] != ev.Hash {
		t.Errorf("RecordedHashes = %x, want ord-1 only with its hash", got)
	}
	if got, err := db.RecordedHashes(ctx, "other", []string{"ord-1"}); err != nil || len(got) != 0 {
		t.Errorf("another platform's RecordedHashes = %v, %v; want none", got, err)
	}
}

func TestPlatform(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	if err := db.CreatePlatform(ctx, postgres.Platform{ID: "demo", Name: "Demo", Country: "MY", Currency: "MYR",
		ActiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Schemes:    []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}}); err != nil {
		t.Fatal(err)
	}
	p, err := db.Platform(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "demo" || p.Currency != "MYR" || p.ActiveFrom.IsZero() || len(p.Schemes) == 0 {
		t.Errorf("Platform(demo) = %+v", p)
	}
	if _, err := db.Platform(ctx, "nope"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("Platform(nope) = %v, want not_found", err)
	}
}
