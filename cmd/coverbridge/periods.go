package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

const periodsUsage = `usage: coverbridge periods close --scheme ID --period KEY

Closes a scheme's period: events of the period that arrive later are booked
in the open period as late adjustments. Closing a closed period changes
nothing. Reads DATABASE_URL.
`

func runPeriods(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "close" {
		fmt.Fprint(stderr, periodsUsage)
		return usageError{"periods: expected the subcommand close"}
	}
	fs := flag.NewFlagSet("periods close", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scheme := fs.String("scheme", "", "scheme id, such as my-sess")
	period := fs.String("period", "", "period key in the scheme's unit, such as 2026-10")
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (env DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *scheme == "" || *period == "" || *dbURL == "" {
		fmt.Fprint(stderr, periodsUsage)
		return usageError{"periods close needs --scheme, --period and DATABASE_URL"}
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		return err
	}
	sc, err := catalog.Scheme(*scheme)
	if err != nil {
		return usageError{err.Error()}
	}
	if len(sc.Plans) > 0 && len(sc.Plans[0].Versions) > 0 {
		if _, err := sc.Plans[0].Versions[0].ParsePeriod(*period); err != nil {
			return usageError{fmt.Sprintf("--period %q: %s", *period, gateway.ErrorMessage(err))}
		}
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: *dbURL, MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.ClosePeriod(ctx, *scheme, *period); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "period %s of %s is closed\n", *period, *scheme)
	return nil
}
