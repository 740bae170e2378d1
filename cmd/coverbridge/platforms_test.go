package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
)

var tokenRE = regexp.MustCompile(`cbk_[a-z]+_[a-z2-7]{8}_[a-z2-7]{52}`)

func TestPlatformsAndKeysCommands(t *testing.T) {
	ctx := context.Background()
	url := migrated(t)
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "--database-url", url), &out, &out)
		return out.String(), err
	}
	out, err := cli("platforms", "create", "--id", "acme", "--name", "Acme Rides", "--country", "MY", "--currency", "MYR",
		"--scheme", "my-gig:s83", "--sector", "ride_hailing", "--vehicle", "2w", "--vehicle", "4w", "--account", "MBB 5140-1234",
		"--rate-limit", "50", "--active-from", "2026-01-01")
	if err != nil || !strings.Contains(out, "platform acme created") {
		t.Fatalf("platforms create: %v\n%s", err, out)
	}
	// Every field at fault is named by its flag.
	_, err = cli("platforms", "create", "--id", "Bad Id", "--country", "Malaysia", "--currency", "XYZ", "--scheme", "my-gig:nope")
	for _, want := range []string{"--id", "--name", "--country", "--currency", "--scheme", `no plan "nope"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad platform: error %v does not name %s", err, want)
		}
	}
	if _, err := cli("platforms", "create", "--id", "acme", "--name", "Again", "--country", "MY", "--currency", "MYR", "--scheme", "my-gig:s83"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second create: %v, want exists", err)
	}
	if _, err := cli("platforms", "create", "--id", "signed", "--name", "Signed", "--country", "MY", "--currency", "MYR", "--scheme", "my-gig:s83", "--require-signature"); err == nil || !strings.Contains(err.Error(), "seal") {
		t.Errorf("signing platform without a seal key: %v, want an error about the seal key", err)
	}
	out, err = cli("platforms", "list")
	if err != nil || !strings.Contains(out, "acme") || !strings.Contains(out, "my-gig:s83") || !strings.Contains(out, "2w,4w") || !strings.Contains(out, "50/s") {
		t.Errorf("platforms list: %v\n%s", err, out)
	}

	out, err = cli("keys", "issue", "--platform", "acme", "--label", "ops")
	token := tokenRE.FindString(out)
	if err != nil || token == "" {
		t.Fatalf("keys issue: %v\n%s", err, out)
	}
	tok, _ := access.ParseKey(token)
	out, err = cli("keys", "list", "--platform", "acme")
	if err != nil || !strings.Contains(out, tok.ID) || !strings.Contains(out, "ops") || strings.Contains(out, token[len(token)-52:]) {
		t.Errorf("keys list: %v\n%s", err, out)
	}
	out, err = cli("keys", "rotate", tok.ID, "--grace", "1h")
	next := tokenRE.FindString(out)
	if err != nil || next == "" || next == token || !strings.Contains(out, "replaces "+tok.ID) {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	if out, err = cli("keys", "revoke", tok.ID); err != nil || !strings.Contains(out, "revoked") {
		t.Errorf("keys revoke: %v\n%s", err, out)
	}
	out, _ = cli("keys", "list", "--platform", "acme")
	if !strings.Contains(out, "revoked") || !strings.Contains(out, "rotated to") || !strings.Contains(out, "active") {
		t.Errorf("keys list after rotation and revocation:\n%s", out)
	}
	out, err = cli("keys", "issue", "--role", "admin")
	if err != nil || tokenRE.FindString(out) == "" {
		t.Errorf("keys issue --role admin: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"keys", "issue"},
		{"keys", "issue", "--role", "admin", "--platform", "acme"},
		{"keys", "issue", "--platform", "nope"},
		{"keys", "rotate"},
		{"keys", "revoke", "aaaaaaaa"},
		{"keys", "frobnicate"},
		{"platforms", "signing-secret", "--platform", "acme"},
	} {
		if _, err := cli(args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestDevKeys(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: migrated(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := seedDemo(ctx, db, log); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewAccess(db, nil)
	dir := t.TempDir()
	first, err := devKeys(ctx, store, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(demoPlatforms)+3 {
		t.Fatalf("%d dev keys, want one per demo platform and three staff keys", len(first))
	}
	info, err := os.Stat(filepath.Join(dir, devKeysFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v, mode %v; want 0600", err, info.Mode())
	}
	auth, _ := access.NewAuthenticator(access.AuthenticatorConfig{Keys: store})
	for _, k := range first {
		p, err := auth.Authenticate(ctx, k.Token)
		if err != nil || p.Role != k.Role || (k.Role == access.RolePlatform && p.PlatformID != k.Name) {
			t.Errorf("dev key %s: %+v, %v", k.Name, p, err)
		}
	}
	if first[0].Token != "cbk_demo_demoplat_publicdemokeysfordevmodeonlyneverusethisinproduction" {
		t.Errorf("the demo platform's key %s is not the one the README shows", first[0].Token)
	}
	// A later run keeps every key.
	again, err := devKeys(ctx, store, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if again[i] != first[i] {
			t.Errorf("second run: %s key changed", first[i].Name)
		}
	}
	// A staff key revoked meanwhile is issued again; the others stay.
	admin, _ := access.ParseKey(first[len(demoPlatforms)].Token)
	if _, err := store.RevokeKey(ctx, admin.ID, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	third, err := devKeys(ctx, store, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		changed := third[i].Token != first[i].Token
		if changed != (first[i].Name == "admin") {
			t.Errorf("third run: %s changed = %v", first[i].Name, changed)
		}
	}
	var banner bytes.Buffer
	printBanner(&banner, config{DataDir: dir}, "127.0.0.1:8080", third)
	for _, k := range third {
		if !strings.Contains(banner.String(), k.Token) {
			t.Errorf("the banner lacks the %s key", k.Name)
		}
	}
}
