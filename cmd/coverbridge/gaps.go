package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/gaps"
)

const gapsUsage = `usage: coverbridge gaps <subcommand> [flags]

  detect     find compliance gaps in DATABASE_URL now and update the stored
             ones (running it again over the same data changes nothing)
  list       list gaps: --kind, --status, --platform, --scheme, --period,
             --severity, --assignee, --limit
  worklist   the gaps still being worked, the most at stake first

flags:
`

// gapRules is the detection rules of serve's configuration.
func gapRules(cfg config) gaps.Config {
	return gaps.Config{SilentDays: cfg.GapSilentDays, DropPercent: cfg.GapDropPercent}
}

// gapRulesFlags adds the detection rule settings to fs.
func gapRulesFlags(fs *flag.FlagSet) *gaps.Config {
	var c gaps.Config
	fs.IntVar(&c.SilentDays, "silent-days", 7, "silent platform: days with no (or far fewer) earnings")
	fs.IntVar(&c.TrailingDays, "trailing-days", 28, "silent platform: days before them the usual rate is taken from")
	fs.IntVar(&c.DropPercent, "drop-percent", 50, "silent platform: a drop of more than this percent against the usual rate")
	return &c
}

// runGaps runs "coverbridge gaps …".
func runGaps(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains([]string{"detect", "list", "worklist"}, args[0]) {
		fmt.Fprint(stderr, gapsUsage)
		return usageError{"gaps: the subcommands are detect, list and worklist"}
	}
	sub := args[0]
	fs := flag.NewFlagSet("gaps "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, gapsUsage); fs.PrintDefaults() }
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (env DATABASE_URL)")
	rules := gapRulesFlags(fs)
	at := fs.String("at", "", "detect: the time to detect as of (RFC 3339); default now")
	var f postgres.GapFilter
	var kind, status, severity string
	fs.StringVar(&kind, "kind", "", "list: one kind of gap")
	fs.StringVar(&status, "status", "", "list: one status")
	fs.StringVar(&f.PlatformID, "platform", "", "list, worklist: one platform")
	fs.StringVar(&f.SchemeID, "scheme", "", "list: one scheme")
	fs.StringVar(&f.Period, "period", "", "list: one period")
	fs.StringVar(&severity, "severity", "", "list: one severity")
	fs.StringVar(&f.Assignee, "assignee", "", "list: one person's gaps")
	fs.IntVar(&f.Limit, "limit", 100, "list, worklist: at most this many")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *dbURL == "" {
		return usageError{"gaps needs DATABASE_URL (or --database-url)"}
	}
	f.Kind, f.Status, f.Severity = gaps.Kind(kind), gaps.Status(status), gaps.Severity(severity)
	switch {
	case f.Kind != "" && !f.Kind.Valid():
		return usageError{fmt.Sprintf("--kind %q is not a gap kind", kind)}
	case f.Status != "" && !f.Status.Valid():
		return usageError{fmt.Sprintf("--status %q is not a gap status", status)}
	case f.Severity != "" && !f.Severity.Valid():
		return usageError{fmt.Sprintf("--severity %q is not low, medium, high or critical", severity)}
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError{fmt.Sprintf("--at: %v", err)}
		}
		now = t
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: *dbURL, MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	switch sub {
	case "detect":
		rep, err := db.DetectGaps(ctx, postgres.GapTriggerCommand, *rules, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "detection %d as of %s (matching run %d) in %s: %d found, %d opened, %d updated, %d cured, %d reopened\n",
			rep.ID, rep.AsOf.Format(time.RFC3339), rep.RunID, rep.Duration.Round(time.Millisecond), rep.Found, rep.Opened, rep.Updated,
			rep.Cured, rep.Reopened)
		for _, k := range gaps.Kinds() {
			if n := rep.Kinds[k]; n > 0 {
				fmt.Fprintf(stdout, "  %-22s %d\n", k, n)
			}
		}
		return nil
	case "list":
		gs, err := db.Gaps(ctx, f)
		if err != nil {
			return err
		}
		return printGaps(stdout, gs)
	default:
		gs, err := db.Worklist(ctx, f.PlatformID, 0, f.Limit)
		if err != nil {
			return err
		}
		return printGaps(stdout, gs)
	}
}

func printGaps(w io.Writer, gs []postgres.Gap) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tPLATFORM\tSCHEME\tPERIOD\tSUBJECT\tAT STAKE\tSEVERITY\tSTATUS\tASSIGNEE")
	for _, g := range gs {
		subject := g.Subject
		if len(subject) > 20 {
			subject = subject[:20] + "…"
		}
		at := gateway.Money{Amount: g.Amount + g.Interest, Currency: g.Currency}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s %s\t%s\t%s\t%s\n", g.ID, g.Kind, g.PlatformID, g.SchemeID, g.Period, subject,
			at.Currency, at, g.Severity, g.Status, g.Assignee)
	}
	return tw.Flush()
}
