package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/books"
)

const periodsUsage = `usage: coverbridge periods close --scheme ID --period KEY

Closes a scheme's period, as the scheduler does once its end plus grace has
passed: events of the period that arrive later are booked in the open period
as late adjustments; every worker's period is settled (refunds of provisional
deductions, true-ups), entity levies are charged, and a statement with an RF
reference and due date is issued per platform, with supplementary statements
for earlier periods whose late events were booked in this one. Then matching
runs. Closing a period whose close is complete changes nothing. Reads
DATABASE_URL.
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
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog})
	if err != nil {
		return err
	}
	rep, err := keeper.ClosePeriod(ctx, *scheme, *period)
	if err != nil {
		return err
	}
	if !rep.Closed {
		fmt.Fprintf(stdout, "period %s of %s was already closed; nothing changed\n", *period, *scheme)
		return nil
	}
	fmt.Fprintf(stdout, "period %s of %s is closed: %d worker periods settled, %d adjustments, %d statements\n",
		*period, *scheme, rep.Settled, rep.Adjustments, len(rep.Statements))
	for _, id := range rep.Statements {
		fmt.Fprintf(stdout, "  statement %s\n", id)
	}
	if len(rep.LatePeriods) > 0 {
		fmt.Fprintf(stdout, "  late adjustments of %s settled and stated\n", strings.Join(rep.LatePeriods, ", "))
	}
	if rep.Unstated {
		fmt.Fprintf(stdout, "  scheme %s has no statement configuration: no statements issued\n", *scheme)
	}
	return nil
}
