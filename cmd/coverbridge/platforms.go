package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

const platformsUsage = `usage:
  coverbridge platforms create --id ID --name NAME --country CC --currency CUR --scheme SCHEME:PLAN [--scheme …]
                               [--sector S …] [--vehicle V …] [--account ACCOUNT] [--require-signature]
                               [--rate-limit N] [--rate-burst N] [--active-from 2026-01-01]
  coverbridge platforms list
  coverbridge platforms signing-secret --platform ID [--grace 24h]

Onboards and lists platforms. A platform created with --require-signature,
or given a new signing secret, prints the secret once: the gateway keeps it
sealed with --seal-key. Reads DATABASE_URL, COVERBRIDGE_SEAL_KEY and
COVERBRIDGE_SCHEMES_DIR.
`

const keysUsage = `usage:
  coverbridge keys issue --platform ID [--role platform] [--label TEXT]
  coverbridge keys issue --role finance|compliance|admin [--label TEXT]
  coverbridge keys list [--platform ID]
  coverbridge keys rotate KEYID [--grace 24h]
  coverbridge keys revoke KEYID

Issues, lists, rotates and revokes API keys. A key is printed once, when it
is issued; the gateway keeps only its hash. A rotation issues a successor and
keeps the old key working for the grace period. "keys list" without
--platform lists the staff keys. Reads DATABASE_URL.
`

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// accessFlags are the connection settings of the platforms and keys
// commands.
type accessFlags struct {
	dbURL, sealKey, schemesDir *string
}

func newAccessFlags(fs *flag.FlagSet) accessFlags {
	return accessFlags{
		dbURL:      fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (env DATABASE_URL)"),
		sealKey:    fs.String("seal-key", os.Getenv("COVERBRIDGE_SEAL_KEY"), "base64 AES-256 key that seals signing secrets (env COVERBRIDGE_SEAL_KEY)"),
		schemesDir: fs.String("schemes-dir", os.Getenv("COVERBRIDGE_SCHEMES_DIR"), "folder of scheme packs; the built-in packs when empty (env COVERBRIDGE_SCHEMES_DIR)"),
	}
}

// open connects to the database and returns its access store and a
// function that closes it.
func (f accessFlags) open(ctx context.Context) (*postgres.Access, func(), error) {
	if *f.dbURL == "" {
		return nil, nil, usageError{"DATABASE_URL (or --database-url) is required"}
	}
	var sealer postgres.Sealer
	if *f.sealKey != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*f.sealKey))
		if err != nil {
			return nil, nil, usageError{"--seal-key must be base64 of 32 bytes (openssl rand -base64 32)"}
		}
		s, err := identity.NewSealer(identity.SealerConfig{Keys: map[byte][]byte{1: key}, KeyID: 1})
		if err != nil {
			return nil, nil, usageError{fmt.Sprintf("--seal-key: %v", err)}
		}
		sealer = s
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: *f.dbURL, MaxConns: 2})
	if err != nil {
		return nil, nil, err
	}
	return postgres.NewAccess(db, sealer), db.Close, nil
}

// parseArgs parses flags and returns the positional arguments, which may
// come before the flags ("keys rotate ID --grace 1h") or after them.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	return append(pos, fs.Args()...), nil
}

func runPlatforms(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, platformsUsage)
		return usageError{"platforms: expected create, list or signing-secret"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("platforms "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, platformsUsage) }
	af := newAccessFlags(fs)
	switch sub {
	case "create":
		return platformsCreate(ctx, fs, af, args, stdout)
	case "list":
		if err := noArgs(fs, args); err != nil {
			return err
		}
		store, done, err := af.open(ctx)
		if err != nil {
			return err
		}
		defer done()
		ps, err := store.Platforms(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tCOUNTRY\tCURRENCY\tSCHEMES\tSECTORS\tVEHICLES\tSIGNED\tRATE LIMIT\tACCOUNT")
		for _, p := range ps {
			var schemes []string
			for _, s := range p.Schemes {
				schemes = append(schemes, s.SchemeID+":"+s.PlanID)
			}
			rate := "default"
			if p.RateLimit > 0 {
				rate = fmt.Sprintf("%d/s burst %d", p.RateLimit, max(p.RateBurst, p.RateLimit))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%t\t%s\t%s\n", p.ID, p.Name, p.Country, p.Currency,
				strings.Join(schemes, ","), dash(strings.Join(p.Sectors, ",")), dash(strings.Join(p.Vehicles, ",")),
				p.RequireSignature, rate, dash(p.RemittanceAccount))
		}
		return w.Flush()
	case "signing-secret":
		platform := fs.String("platform", "", "platform id")
		grace := fs.Duration("grace", 24*time.Hour, "how long the secrets in force keep working")
		if err := noArgs(fs, args); err != nil {
			return err
		}
		if *platform == "" {
			return usageError{"platforms signing-secret needs --platform"}
		}
		store, done, err := af.open(ctx)
		if err != nil {
			return err
		}
		defer done()
		now := time.Now()
		secret, err := store.IssueSigningSecret(ctx, *platform, now, *grace)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "signing secret of %s (shown once; the previous ones work until %s):\n%s\n",
			*platform, now.Add(*grace).UTC().Format(time.RFC3339), secret)
		return nil
	default:
		fmt.Fprint(stderr, platformsUsage)
		return usageError{fmt.Sprintf("platforms: unknown command %q", sub)}
	}
}

func platformsCreate(ctx context.Context, fs *flag.FlagSet, af accessFlags, args []string, stdout io.Writer) error {
	var schemes, sectors, vehicles listFlag
	id := fs.String("id", "", "platform id: lower-case letters, digits, - and _")
	name := fs.String("name", "", "platform name")
	country := fs.String("country", "", "ISO 3166-1 alpha-2 country, such as MY")
	currency := fs.String("currency", "", "ISO 4217 currency of its earnings, such as MYR")
	fs.Var(&schemes, "scheme", "scheme and default plan, SCHEME:PLAN (repeatable)")
	fs.Var(&sectors, "sector", "a sector of its work, such as ride_hailing (repeatable)")
	fs.Var(&vehicles, "vehicle", "a vehicle category, such as 2w (repeatable)")
	account := fs.String("account", "", "the bank account it remits contributions from")
	signed := fs.Bool("require-signature", false, "every request must be signed; prints the signing secret")
	rate := fs.Int64("rate-limit", 0, "requests a second; 0 for the gateway default")
	burst := fs.Int64("rate-burst", 0, "most requests at once; 0 for --rate-limit")
	since := fs.String("active-from", "", "first day it may report, YYYY-MM-DD or RFC 3339; default now")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	p := postgres.Platform{ID: *id, Name: *name, Country: *country, Currency: gateway.Currency(*currency),
		Sectors: sectors, Vehicles: vehicles, RemittanceAccount: *account, RequireSignature: *signed,
		RateLimit: *rate, RateBurst: *burst}
	for _, s := range schemes {
		scheme, plan, ok := strings.Cut(s, ":")
		if !ok || scheme == "" || plan == "" {
			return usageError{fmt.Sprintf("--scheme %q must be SCHEME:PLAN, such as my-gig:s83", s)}
		}
		p.Schemes = append(p.Schemes, postgres.PlatformScheme{SchemeID: scheme, PlanID: plan})
	}
	now := time.Now().UTC()
	if *since != "" {
		t, err := parseInstant(*since)
		if err != nil {
			return usageError{fmt.Sprintf("--active-from %q must be YYYY-MM-DD or RFC 3339", *since)}
		}
		p.ActiveFrom = t
	}
	catalog, err := loadCatalog(ctx, *af.schemesDir, nil)
	if err != nil {
		return err
	}
	if err := p.Validate(catalog); err != nil {
		return flagErrors(err)
	}
	store, done, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer done()
	secret, err := store.CreatePlatform(ctx, p, now)
	if err != nil {
		return flagErrors(err)
	}
	fmt.Fprintf(stdout, "platform %s created\n", p.ID)
	if secret != "" {
		fmt.Fprintf(stdout, "signing secret (shown once; sign each request as described in platforms/access):\n%s\n", secret)
	}
	fmt.Fprintf(stdout, "issue its first API key with: coverbridge keys issue --platform %s\n", p.ID)
	return nil
}

// platformFlags names the flag of each platform field.
var platformFlags = map[string]string{
	"id": "--id", "name": "--name", "country": "--country", "currency": "--currency", "schemes": "--scheme",
	"sectors": "--sector", "vehicles": "--vehicle", "remittance_account": "--account",
	"rate_limit": "--rate-limit", "rate_burst": "--rate-burst",
}

// flagErrors spells out a validation error one field a line, named by its
// flag.
func flagErrors(err error) error {
	var ge *gateway.Error
	if !errors.As(err, &ge) || ge.Code != gateway.EINVALID || len(ge.Details) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(ge.Message)
	for _, d := range ge.Details {
		field := d.Field
		if i := strings.IndexAny(field, "[."); i > 0 {
			field = field[:i]
		}
		fmt.Fprintf(&b, "\n  %s: %s", cmp.Or(platformFlags[field], d.Field), d.Message)
	}
	return usageError{b.String()}
}

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return usageError{"keys: expected issue, list, rotate or revoke"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, keysUsage) }
	af := newAccessFlags(fs)
	switch sub {
	case "issue":
		platform := fs.String("platform", "", "the platform of a platform key")
		role := fs.String("role", "", "platform (with --platform), finance, compliance or admin")
		label := fs.String("label", "", "who holds the key, what for")
		prefix := fs.String("prefix", postgres.DefaultKeyPrefix, "key prefix, such as cbk_live or cbk_test")
		if err := noArgs(fs, args); err != nil {
			return err
		}
		r := access.Role(*role)
		if r == "" && *platform != "" {
			r = access.RolePlatform
		}
		if r == "" {
			return usageError{"keys issue needs --platform for a platform key, or --role finance, compliance or admin"}
		}
		store, done, err := af.open(ctx)
		if err != nil {
			return err
		}
		defer done()
		token, k, err := store.IssueKey(ctx, postgres.NewKey{Prefix: *prefix, Role: r, PlatformID: *platform, Label: *label})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s key %s issued for %s. The key is shown once; keep it secret:\n%s\n",
			k.Role, k.ID, cmp.Or(k.PlatformID, "all platforms"), token)
		return nil
	case "list":
		platform := fs.String("platform", "", "the platform whose keys to list; none for the staff keys")
		if err := noArgs(fs, args); err != nil {
			return err
		}
		store, done, err := af.open(ctx)
		if err != nil {
			return err
		}
		defer done()
		keys, err := store.Keys(ctx, *platform)
		if err != nil {
			return err
		}
		now := time.Now()
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tKEY\tROLE\tPLATFORM\tLABEL\tCREATED\tSTATE\tLAST USED")
		for _, k := range keys {
			state := "active"
			switch {
			case !k.Active(now):
				state = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
			case !k.RevokedAt.IsZero():
				state = "until " + k.RevokedAt.UTC().Format(time.RFC3339)
			}
			if k.ReplacedBy != "" {
				state += ", rotated to " + k.ReplacedBy
			}
			used := "never"
			if !k.LastUsedAt.IsZero() {
				used = k.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s_%s_…\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.ID, k.Role, dash(k.PlatformID),
				dash(k.Label), k.CreatedAt.UTC().Format(time.RFC3339), state, used)
		}
		return w.Flush()
	case "rotate":
		grace := fs.Duration("grace", 24*time.Hour, "how long the old key keeps working")
		id, err := oneArg(fs, args, "keys rotate KEYID")
		if err != nil {
			return err
		}
		store, done, err := af.open(ctx)
		if err != nil {
			return err
		}
		defer done()
		token, next, old, err := store.RotateKey(ctx, id, time.Now(), *grace)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key %s replaces %s, which works until %s. The new key is shown once; keep it secret:\n%s\n",
			next.ID, old.ID, old.RevokedAt.UTC().Format(time.RFC3339), token)
		return nil
	case "revoke":
		id, err := oneArg(fs, args, "keys revoke KEYID")
		if err != nil {
			return err
		}
		store, done, err := af.open(ctx)
		if err != nil {
			return err
		}
		defer done()
		k, err := store.RevokeKey(ctx, id, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key %s is revoked since %s\n", k.ID, k.RevokedAt.UTC().Format(time.RFC3339))
		return nil
	default:
		fmt.Fprint(stderr, keysUsage)
		return usageError{fmt.Sprintf("keys: unknown command %q", sub)}
	}
}

// noArgs parses flags and refuses positional arguments.
func noArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// oneArg parses flags and returns the one positional argument.
func oneArg(fs *flag.FlagSet, args []string, form string) (string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usageError{"usage: coverbridge " + form}
	}
	return pos[0], nil
}

// parseInstant reads a date (midnight UTC) or an RFC 3339 instant.
func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func dash(s string) string { return cmp.Or(s, "-") }
