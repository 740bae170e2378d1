package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/coverbridge/coverbridge/gateway"
)

// config is every setting of the server commands. Each has a flag and an
// environment variable; the flag wins.
type config struct {
	DatabaseURL   string
	KafkaBrokers  []string
	Addr          string
	DataDir       string
	Roles         []string
	Partitions    int
	BatchSize     int
	BatchWait     time.Duration
	EngineCache   int // running totals and registrations the engine remembers; 0: none
	ConsumerGroup string
	DBMaxConns    int
	LogLevel      string
	LogFormat     string
	SchemesDir    string
	CloseSchedule string
	CloseGrace    time.Duration
	SchemeGrace   map[string]time.Duration // per-scheme grace from --close-grace's scheme=duration pairs
	// Secrets, base64: the worker-key HMAC secret and the AES-256 sealing key.
	WorkerKeySecret []byte
	SealKey         []byte
	// Registration agents' commission on contributions: the rate of every
	// scheme, and schemes' own rates (--agent-commission).
	AgentCommission         gateway.Rate
	AgentCommissionByScheme map[string]gateway.Rate
	// Silent platforms: days without earnings, or a drop of more than
	// the percent against the trailing average.
	GapSilentDays  int
	GapDropPercent int
}

// setting documents one configuration value.
type setting struct {
	flag, env, def, help string
}

var settings = []setting{
	{"database-url", "DATABASE_URL", "", "PostgreSQL URL; dev starts a local cluster when empty"},
	{"kafka-brokers", "KAFKA_BROKERS", "", "comma-separated Kafka brokers; dev starts an embedded broker when empty"},
	{"addr", "COVERBRIDGE_ADDR", "127.0.0.1:8080", "HTTP listen address"},
	{"data-dir", "COVERBRIDGE_DATA_DIR", "./.coverbridge", "dev: folder for the local PostgreSQL cluster, kept between runs"},
	{"roles", "COVERBRIDGE_ROLES", "api,engine,scheduler", "serve: roles this process runs"},
	{"partitions", "COVERBRIDGE_PARTITIONS", "6", "partitions of topics created at start"},
	{"batch-size", "COVERBRIDGE_BATCH_SIZE", "2000", "engine: most events per batch transaction"},
	{"batch-wait", "COVERBRIDGE_BATCH_WAIT", "250ms", "engine: longest wait to fill a batch after its first event; longer makes fewer, larger batches, less CPU per event and later answers to GET /v1/earnings/{id}?wait"},
	{"engine-cache", "COVERBRIDGE_ENGINE_CACHE", "100000", "engine: how many workers' running totals, and as many references' registrations, it remembers between batches; 0 reads them for every batch"},
	{"consumer-group", "COVERBRIDGE_CONSUMER_GROUP", "coverbridge-engine", "engine: Kafka consumer group id"},
	{"db-max-conns", "COVERBRIDGE_DB_MAX_CONNS", "8", "PostgreSQL pool size"},
	{"log-level", "COVERBRIDGE_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"log-format", "COVERBRIDGE_LOG_FORMAT", "text", "text or json"},
	{"schemes-dir", "COVERBRIDGE_SCHEMES_DIR", "", "folder of scheme packs (*.json) loaded and stored at start; the built-in packs when empty"},
	{"worker-key-secret", "COVERBRIDGE_WORKER_KEY_SECRET", "", "base64 secret (32+ bytes) that keys workers: HMAC-SHA256 of country and national ID; dev generates one"},
	{"close-schedule", "COVERBRIDGE_CLOSE_SCHEDULE", "@every 5m", "scheduler: cron spec of the job that closes periods whose end plus grace has passed"},
	{"close-grace", "COVERBRIDGE_CLOSE_GRACE", "72h", "scheduler: how long after its end a period still takes late events; a default then scheme=duration pairs, such as 72h,kr-ei=120h"},
	{"seal-key", "COVERBRIDGE_SEAL_KEY", "", "base64 AES-256 key (32 bytes) that seals national IDs and signing secrets at rest; dev generates one"},
	{"gap-silent-days", "COVERBRIDGE_GAP_SILENT_DAYS", "7", "gap detection: a platform with earnings before is silent after this many days without (or with far fewer)"},
	{"gap-drop-percent", "COVERBRIDGE_GAP_DROP_PERCENT", "50", "gap detection: far fewer is a daily rate more than this many percent below the trailing 28 days' (1 to 100)"},
	{"agent-commission", "COVERBRIDGE_AGENT_COMMISSION", "5%", "registration agents' commission on their workers' contributions, accrued at period close: a rate (5%, 1/20), then scheme=rate pairs such as 5%,my-sess=4%"},
}

// parseConfig reads flags (args) over environment over defaults.
func parseConfig(name string, args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals := map[string]*string{}
	for _, s := range settings {
		def := s.def
		if v, ok := os.LookupEnv(s.env); ok {
			def = v
		}
		vals[s.flag] = fs.String(s.flag, def, fmt.Sprintf("%s (env %s)", s.help, s.env))
	}
	if err := fs.Parse(args); err != nil {
		return config{}, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return config{}, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	get := func(f string) string { return strings.TrimSpace(*vals[f]) }
	cfg := config{
		DatabaseURL:   get("database-url"),
		KafkaBrokers:  splitList(get("kafka-brokers")),
		Addr:          get("addr"),
		DataDir:       get("data-dir"),
		Roles:         splitList(get("roles")),
		ConsumerGroup: get("consumer-group"),
		LogLevel:      get("log-level"),
		LogFormat:     get("log-format"),
		SchemesDir:    get("schemes-dir"),
		CloseSchedule: get("close-schedule"),
	}
	var err error
	ints := []struct {
		flag string
		dst  *int
	}{{"partitions", &cfg.Partitions}, {"batch-size", &cfg.BatchSize}, {"db-max-conns", &cfg.DBMaxConns},
		{"gap-silent-days", &cfg.GapSilentDays}, {"gap-drop-percent", &cfg.GapDropPercent}}
	for _, i := range ints {
		if *i.dst, err = strconv.Atoi(get(i.flag)); err != nil || *i.dst <= 0 {
			return config{}, usageError{fmt.Sprintf("--%s must be a positive integer, got %q", i.flag, get(i.flag))}
		}
	}
	if cfg.EngineCache, err = strconv.Atoi(get("engine-cache")); err != nil || cfg.EngineCache < 0 {
		return config{}, usageError{fmt.Sprintf("--engine-cache must be 0 or a positive integer, got %q", get("engine-cache"))}
	}
	for _, sec := range []struct {
		flag string
		dst  *[]byte
		min  int
	}{{"worker-key-secret", &cfg.WorkerKeySecret, 32}, {"seal-key", &cfg.SealKey, 32}} {
		v := get(sec.flag)
		if v == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) < sec.min {
			return config{}, usageError{fmt.Sprintf("--%s must be base64 of at least %d bytes (openssl rand -base64 32)", sec.flag, sec.min)}
		}
		*sec.dst = b
	}
	if cfg.GapDropPercent > 100 || cfg.GapSilentDays > 366 {
		return config{}, usageError{"--gap-drop-percent is at most 100 and --gap-silent-days at most 366"}
	}
	if cfg.AgentCommission, cfg.AgentCommissionByScheme, err = parseCommission(get("agent-commission")); err != nil {
		return config{}, err
	}
	if cfg.CloseGrace, cfg.SchemeGrace, err = parseGrace(get("close-grace")); err != nil {
		return config{}, err
	}
	if _, err := cron.ParseStandard(cfg.CloseSchedule); err != nil {
		return config{}, usageError{fmt.Sprintf("--close-schedule %q: %v", cfg.CloseSchedule, err)}
	}
	if cfg.BatchWait, err = time.ParseDuration(get("batch-wait")); err != nil || cfg.BatchWait <= 0 {
		return config{}, usageError{fmt.Sprintf("--batch-wait must be a positive duration such as 50ms, got %q", get("batch-wait"))}
	}
	for _, r := range cfg.Roles {
		switch r {
		case roleAPI, roleEngine, roleScheduler:
		default:
			return config{}, usageError{fmt.Sprintf("unknown role %q: roles are api, engine and scheduler", r)}
		}
	}
	switch cfg.LogFormat {
	case "text", "json":
	default:
		return config{}, usageError{fmt.Sprintf("--log-format must be text or json, got %q", cfg.LogFormat)}
	}
	return cfg, nil
}

// Roles a serving process can take.
const (
	roleAPI       = "api"
	roleEngine    = "engine"
	roleScheduler = "scheduler"
)

func (c config) has(role string) bool {
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newLogger returns the process logger.
func newLogger(c config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level must be debug, info, warn or error, got %q", c.LogLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// parseGrace reads --close-grace: a default duration, then scheme=duration
// pairs, separated by commas ("72h,kr-ei=120h").
// parseCommission reads --agent-commission: "5%", or "5%,my-sess=4%" for
// schemes with a rate of their own.
func parseCommission(v string) (gateway.Rate, map[string]gateway.Rate, error) {
	bad := func(part string) error {
		return usageError{fmt.Sprintf("--agent-commission must be a rate such as 5%%, then scheme=rate pairs such as my-sess=4%%; %q is not", part)}
	}
	parts := strings.Split(v, ",")
	def, err := gateway.ParseRate(strings.TrimSpace(parts[0]))
	if err != nil {
		return gateway.Rate{}, nil, bad(parts[0])
	}
	by := map[string]gateway.Rate{}
	for _, p := range parts[1:] {
		scheme, rate, ok := strings.Cut(p, "=")
		r, err := gateway.ParseRate(strings.TrimSpace(rate))
		if !ok || strings.TrimSpace(scheme) == "" || err != nil {
			return gateway.Rate{}, nil, bad(p)
		}
		by[strings.TrimSpace(scheme)] = r
	}
	return def, by, nil
}

func parseGrace(v string) (time.Duration, map[string]time.Duration, error) {
	bad := func(part string) error {
		return usageError{fmt.Sprintf("--close-grace must be a duration such as 72h, then scheme=duration pairs such as kr-ei=120h; %q is not", part)}
	}
	parts := strings.Split(v, ",")
	def, err := time.ParseDuration(strings.TrimSpace(parts[0]))
	if err != nil || def < 0 {
		return 0, nil, bad(parts[0])
	}
	var by map[string]time.Duration
	for _, p := range parts[1:] {
		scheme, d, ok := strings.Cut(strings.TrimSpace(p), "=")
		g, err := time.ParseDuration(d)
		if !ok || scheme == "" || err != nil || g < 0 {
			return 0, nil, bad(p)
		}
		if by == nil {
			by = map[string]time.Duration{}
		}
		by[scheme] = g
	}
	return def, by, nil
}
