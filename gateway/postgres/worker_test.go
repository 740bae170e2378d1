package postgres_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

func TestRegisterIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	if err := db.CreatePlatform(ctx, postgres.Platform{ID: "food", Name: "Food", Country: "MY", Currency: "MYR", ActiveFrom: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w := postgres.NewWorker{WorkerKey: "wk", Country: "MY", Sealed: []byte("sealed")}
	r := postgres.Registration{PlatformID: "food", WorkerRef: "r1", WorkerKey: "wk", SchemeID: "my-sess",
		Change: postgres.RegistrationStart, PlanID: "2", Effective: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
	h := sha256.Sum256([]byte("a"))
	first, created, err := db.Register(ctx, w, r, h)
	if err != nil || !created || first.ID == 0 {
		t.Fatalf("first = %+v %v %v", first, created, err)
	}
	again, created, err := db.Register(ctx, w, r, h)
	if err != nil || created || again.ID != first.ID {
		t.Errorf("replay = %+v %v %v, want the first, not created", again, created, err)
	}
	if _, _, err := db.Register(ctx, w, r, sha256.Sum256([]byte("b"))); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("other content: %v, want conflict", err)
	}
	r.PlatformID = "nope"
	if _, _, err := db.Register(ctx, w, r, h); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("unknown platform: %v, want not_found", err)
	}
	history, err := db.Registrations(ctx, "food", "r1")
	if err != nil || len(history) != 1 || history[0].PlanID != "2" {
		t.Errorf("history = %+v, %v", history, err)
	}
	var sealed []byte
	if err := db.Pool.QueryRow(ctx, `SELECT national_id FROM workers WHERE worker_key = 'wk'`).Scan(&sealed); err != nil || string(sealed) != "sealed" {
		t.Errorf("stored national id = %q, %v", sealed, err)
	}
}
