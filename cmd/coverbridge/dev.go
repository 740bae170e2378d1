package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/deploy/localkafka"
	"github.com/coverbridge/coverbridge/deploy/localpg"
	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
)

// devDatabase is the database dev mode creates in its local cluster.
const devDatabase = "coverbridge"

// runDev runs every role in one process. Without DATABASE_URL it starts a
// local PostgreSQL cluster in the data folder; without KAFKA_BROKERS an
// embedded Kafka-protocol broker that keeps its topics in the same folder.
// Both are kept between runs, so an accepted event survives a restart.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("dev", args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	cfg.Roles = []string{roleAPI, roleEngine, roleScheduler}
	if err := devSecrets(&cfg); err != nil {
		return err
	}
	logf := func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }

	if cfg.DatabaseURL == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "postgres"))
		if err != nil {
			return err
		}
		log.Info("starting local PostgreSQL", "data_dir", dir)
		cluster, err := localpg.Start(ctx, localpg.Config{DataDir: dir, Logf: logf})
		if errors.Is(err, localpg.ErrUnreachable) {
			// As root, PostgreSQL runs as user postgres, which cannot enter
			// a folder such as /root: keep its data in a stable folder it
			// can reach instead.
			alt := reachableDataDir(dir)
			log.Warn("the data folder is closed to the postgres user; keeping PostgreSQL data elsewhere", "data_dir", alt)
			cluster, err = localpg.Start(ctx, localpg.Config{DataDir: alt, Logf: logf})
		}
		if err != nil {
			return fmt.Errorf("start local PostgreSQL: %w", err)
		}
		defer func() {
			log.Info("stopping local PostgreSQL")
			if err := cluster.Stop(); err != nil {
				log.Error("stop local PostgreSQL", "err", err)
			}
		}()
		if err := ensureDatabase(ctx, cluster.URL("postgres"), devDatabase); err != nil {
			return err
		}
		cfg.DatabaseURL = cluster.URL(devDatabase)
	}
	if len(cfg.KafkaBrokers) == 0 {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "kafka"))
		if err != nil {
			return err
		}
		broker, err := localkafka.Start(localkafka.Config{Partitions: cfg.Partitions, DataDir: dir, Logf: logf})
		if err != nil {
			return fmt.Errorf("start embedded Kafka broker: %w", err)
		}
		defer broker.Close()
		cfg.KafkaBrokers = broker.Addrs()
	}
	var keys []devKey
	return serve(ctx, cfg, log, serveHooks{
		migrated: func(ctx context.Context, db *postgres.DB) (err error) {
			if err = seedDemo(ctx, db, log); err != nil {
				return err
			}
			keys, err = devKeys(ctx, postgres.NewAccess(db, nil), cfg.DataDir, log)
			return err
		},
		listening: func(addr string) { printBanner(stdout, cfg, addr, keys) },
	})
}

// demoPlatforms are the platforms dev mode creates: one per shipped scheme
// pack, so every scheme can be tried at once.
var demoPlatforms = []postgres.Platform{
	{ID: "demo", Name: "Demo ride-hailing (Malaysia, Gig Workers Act)", Country: "MY", Currency: "MYR",
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}},
	{ID: "demo-sess", Name: "Demo delivery (Malaysia, SESS plan 1)", Country: "MY", Currency: "MYR",
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "1"}}},
	{ID: "demo-cn", Name: "Demo instant delivery (China)", Country: "CN", Currency: "CNY",
		Schemes: []postgres.PlatformScheme{{SchemeID: "cn-oip", PlanID: "per-order"}}},
	{ID: "demo-kr", Name: "Demo platform (Korea, employment insurance)", Country: "KR", Currency: "KRW",
		Schemes: []postgres.PlatformScheme{{SchemeID: "kr-ei", PlanID: "platform-workers"}}},
	{ID: "demo-ka", Name: "Demo ride-hailing (Karnataka welfare fee)", Country: "IN", Currency: "INR",
		Schemes: []postgres.PlatformScheme{{SchemeID: "in-ka-welfare", PlanID: "welfare-fee"}}},
	{ID: "demo-in", Name: "Demo aggregator (India, CoSS levy)", Country: "IN", Currency: "INR",
		Schemes: []postgres.PlatformScheme{{SchemeID: "in-coss", PlanID: "aggregator-levy"}}},
	{ID: "demo-cl", Name: "Demo freelance (Chile, honorarios)", Country: "CL", Currency: "CLP",
		Schemes: []postgres.PlatformScheme{{SchemeID: "cl-honorarios", PlanID: "withholding"}}},
}

// seedDemo creates the demo platforms that do not exist yet.
func seedDemo(ctx context.Context, db *postgres.DB, log *slog.Logger) error {
	have, err := db.Platforms(ctx)
	if err != nil {
		return err
	}
	exists := map[string]bool{}
	for _, p := range have {
		exists[p.ID] = true
	}
	for _, p := range demoPlatforms {
		if exists[p.ID] {
			continue
		}
		p.ActiveFrom = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := db.CreatePlatform(ctx, p); err != nil {
			return fmt.Errorf("seed demo platform %s: %w", p.ID, err)
		}
		log.Info("demo platform created", "platform", p.ID, "schemes", p.Schemes)
	}
	return nil
}

func printBanner(w io.Writer, cfg config, addr string, keys []devKey) {
	base := "http://" + addr
	fmt.Fprintf(w, `
Coverbridge is running (dev mode).
  API        %[1]s
  health     %[1]s/healthz   readiness %[1]s/readyz   metrics %[1]s/metrics
  PostgreSQL %[2]s
  Kafka      %[3]s
API keys (dev mode only; also in %[4]s):
`, base, cfg.DatabaseURL, cfg.KafkaBrokers, filepath.Join(cfg.DataDir, devKeysFile))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k.Name, k.Role, k.Token)
	}
	tw.Flush()
	demo := demoToken("demo")
	fmt.Fprintf(w, `Post an event as platform demo:
  curl -s -X POST %[1]s/v1/earnings -H 'Authorization: Bearer %[2]s' -H 'Content-Type: application/json' \
    -d '{"event_id":"ord-1001","platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}'
Press Ctrl-C to stop (PostgreSQL and the broker stop with it).

`, base, demo)
}

// devKeysFile holds the dev-mode API keys in the data folder.
const devKeysFile = "dev-keys.json"

// Dev-mode keys carry their own prefix, so they are never mistaken for real
// ones.
const devKeyPrefix = "cbk_demo"

// demoSecret is the secret of every demo platform's key. It is public: the
// README shows the keys so that its examples work as written. The keys
// exist only where dev mode creates them.
const demoSecret = "publicdemokeysfordevmodeonlyneverusethisinproduction"

// demoKeyIDs are the fixed ids of the demo platforms' keys.
var demoKeyIDs = map[string]string{
	"demo":      "demoplat",
	"demo-sess": "demosess",
	"demo-cn":   "demochna",
	"demo-kr":   "demokrea",
	"demo-ka":   "demokarn",
	"demo-in":   "demoindi",
	"demo-cl":   "demochil",
}

// demoToken is the fixed key of a demo platform.
func demoToken(platformID string) string {
	return devKeyPrefix + "_" + demoKeyIDs[platformID] + "_" + demoSecret
}

// devKey is a key dev mode issued.
type devKey struct {
	Name  string // the platform, or the staff role
	Role  access.Role
	Token string
}

// devKeys makes sure the dev-mode keys exist and returns them: the fixed
// key of each demo platform and one admin, one finance and one compliance
// key. Staff keys are random, issued on the first run and kept in the data
// folder (mode 0600) for later runs, since a key is shown only once; a kept
// key the database does not accept is issued again.
func devKeys(ctx context.Context, store *postgres.Access, dataDir string, log *slog.Logger) ([]devKey, error) {
	path := filepath.Join(dataDir, devKeysFile)
	kept := map[string]string{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &kept); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	now := time.Now()
	var out []devKey
	for _, p := range demoPlatforms {
		token := demoToken(p.ID)
		t, err := access.ParseKey(token)
		if err != nil {
			return nil, fmt.Errorf("demo key of %s: %w", p.ID, err)
		}
		k, err := store.Key(ctx, t.ID)
		switch {
		case gateway.ErrorCode(err) == gateway.ENOTFOUND:
			key := access.Key{ID: t.ID, Prefix: t.Prefix, Hash: sha256.Sum256([]byte(demoSecret)),
				Role: access.RolePlatform, PlatformID: p.ID, CreatedAt: now}
			if err := store.CreateKey(ctx, postgres.APIKey{Key: key, Label: "dev mode demo key"}); err != nil {
				return nil, fmt.Errorf("create demo key of %s: %w", p.ID, err)
			}
		case err != nil:
			return nil, err
		case !k.Verify(t) || !k.Active(now) || k.PlatformID != p.ID:
			log.Warn("the demo key of a demo platform was changed or revoked; it will not work", "platform", p.ID, "key", t.ID)
		}
		out = append(out, devKey{Name: p.ID, Role: access.RolePlatform, Token: token})
	}
	changed := false
	for _, role := range []access.Role{access.RoleAdmin, access.RoleFinance, access.RoleCompliance} {
		name := string(role)
		token := kept[name]
		if !devKeyWorks(ctx, store, token, role, now) {
			token, _, err = store.IssueKey(ctx, postgres.NewKey{Prefix: devKeyPrefix, Role: role, Label: "dev mode", CreatedAt: now})
			if err != nil {
				return nil, fmt.Errorf("issue dev %s key: %w", role, err)
			}
			log.Info("dev key issued", "role", role)
			changed = true
		}
		out = append(out, devKey{Name: name, Role: role, Token: token})
	}
	if !changed && len(kept) == len(out) {
		return out, nil
	}
	all := map[string]string{}
	for _, k := range out {
		all[k.Name] = k.Token
	}
	b, _ = json.MarshalIndent(all, "", "  ")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return out, os.Chmod(path, 0o600)
}

// devKeyWorks reports whether token is an active key of the role in store.
func devKeyWorks(ctx context.Context, store *postgres.Access, token string, role access.Role, now time.Time) bool {
	t, err := access.ParseKey(token)
	if err != nil {
		return false
	}
	k, err := store.Key(ctx, t.ID)
	return err == nil && k.Verify(t) && k.Active(now) && k.Role == role
}

// reachableDataDir is the stand-in for a data folder the postgres user cannot
// reach: one folder per original path under /var/tmp, so it is kept between
// runs of the same checkout.
func reachableDataDir(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join("/var/tmp", "coverbridge-"+hex.EncodeToString(sum[:6]), "postgres")
}

// devSecrets fills the secrets dev mode needs and the environment did not
// give, from a file in the data folder created on first use (mode 0600), so
// worker keys stay stable between runs.
func devSecrets(cfg *config) error {
	path := filepath.Join(cfg.DataDir, "dev-secrets.json")
	var s struct{ WorkerKeySecret, SealKey []byte }
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		s.WorkerKeySecret, s.SealKey = make([]byte, 32), make([]byte, 32)
		rand.Read(s.WorkerKeySecret)
		rand.Read(s.SealKey)
		b, _ = json.Marshal(s)
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	default:
		return err
	}
	if cfg.WorkerKeySecret == nil {
		cfg.WorkerKeySecret = s.WorkerKeySecret
	}
	if cfg.SealKey == nil {
		cfg.SealKey = s.SealKey
	}
	return nil
}

// ensureDatabase creates database name through the admin URL if it is missing.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to local PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
