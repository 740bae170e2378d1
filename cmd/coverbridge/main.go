// Command coverbridge runs the Coverbridge gateway and its operator commands.
//
//	coverbridge dev       everything in one process on embedded defaults
//	coverbridge serve     the production shape: --roles api,engine,scheduler
//	coverbridge migrate   apply database migrations
//	coverbridge version   print the version
//
// Configuration comes from flags and environment variables, read only here;
// the README lists every setting with its default.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "coverbridge:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "coverbridge:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: coverbridge <command> [flags]

commands:
  dev       run everything in one process on embedded PostgreSQL and Kafka
  serve     run the given roles against DATABASE_URL and KAFKA_BROKERS
  migrate   apply database migrations to DATABASE_URL
  plans     simulate a plan on earnings events: plans simulate --pack … --events …
  periods   close a scheme's period (periods close --scheme S --period 2026-10)
  receipts  import a bank file and match it: receipts import file.xml|file.csv [--csv-mapping …]
  report    finance reports: report reconciliation --period 2026-10 --format xlsx --out r.xlsx; report aging; report suspense
  platforms onboard and list platforms: platforms create --id … --scheme my-gig:s83, platforms list
  keys      API keys: keys issue --platform P, keys list, keys rotate KEYID, keys revoke KEYID
  earnings  upload an earnings CSV file: earnings upload --api URL --key KEY file.csv
  gaps      compliance gaps: gaps detect, gaps list --status open, gaps worklist
  version   print the version

Run "coverbridge <command> -h" for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "dev":
		return runDev(ctx, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "plans":
		return runPlans(ctx, rest, stdout, stderr)
	case "periods":
		return runPeriods(ctx, rest, stdout, stderr)
	case "receipts":
		return runReceipts(ctx, rest, stdout, stderr)
	case "report":
		return runReport(ctx, rest, stdout, stderr)
	case "platforms":
		return runPlatforms(ctx, rest, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr)
	case "earnings":
		return runEarnings(ctx, rest, stdout, stderr)
	case "gaps":
		return runGaps(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "coverbridge", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}
