package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
)

const receiptsUsage = `usage: coverbridge receipts import [flags] FILE.xml|FILE.csv

Imports a bank file into DATABASE_URL: an ISO 20022 camt.053 statement or
camt.054 notification (versions 001.02 and 001.08), or a CSV export, with
progress on stderr, then runs matching. A file that does not parse is
rejected whole, with the place of the error, and nothing is stored; the same
file imported again stores nothing.

A CSV file's columns are named by --csv-mapping, pairs of field=column
separated by commas; fields left out use their default column names:

  statement_id account currency opening_balance opening_date closing_balance
  closing_date entry_ref bank_ref end_to_end_id direction amount status
  reversal booking_date value_date creditor_ref remittance debtor_name
  debtor_account

and the options comma=; (or comma=tab) credit_value=C debit_value=D signed_amounts=true
date_layout=02.01.2006. --csv-mapping @FILE reads the pairs from a file, one
or more a line.

flags:
`

// runReceipts runs "coverbridge receipts import".
func runReceipts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(stderr, receiptsUsage)
		return usageError{"receipts: the only subcommand is import"}
	}
	fs := flag.NewFlagSet("receipts import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, receiptsUsage); fs.PrintDefaults() }
	mapping := fs.String("csv-mapping", "", "CSV columns: field=column pairs, or @FILE")
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (env DATABASE_URL)")
	by := fs.String("by", envOr("USER", "operator"), "who imports the file, for the record")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"receipts import takes one file"}
	}
	if *dbURL == "" {
		return usageError{"receipts import needs DATABASE_URL (or --database-url)"}
	}
	var csvMapping *bankstatement.CSVMapping
	if *mapping != "" {
		text := *mapping
		if name, ok := strings.CutPrefix(text, "@"); ok {
			b, err := os.ReadFile(name)
			if err != nil {
				return usageError{fmt.Sprintf("--csv-mapping: %v", err)}
			}
			text = string(b)
		}
		m, err := books.ParseCSVMapping(text)
		if err != nil {
			return usageError{fmt.Sprintf("--csv-mapping: %v", err)}
		}
		csvMapping = &m
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}

	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		return err
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
	read := &byteCounter{r: f}
	show := func(stage string, n int) {
		if *quiet {
			return
		}
		pct := 100.0
		if info.Size() > 0 {
			pct = float64(read.n.Load()) * 100 / float64(info.Size())
		}
		fmt.Fprintf(stderr, "\r%s: %d receipts, %.0f%% of %s read", stage, n, pct, filepath.Base(f.Name()))
		if stage == "stored" {
			fmt.Fprintln(stderr)
		}
	}
	rep, err := keeper.ImportBankFile(ctx, read, books.ImportOptions{Name: filepath.Base(f.Name()), CSV: csvMapping, By: *by, Progress: show})
	if err != nil {
		if !*quiet {
			fmt.Fprintln(stderr)
		}
		return describeFileError(err)
	}
	if rep.Duplicate {
		fmt.Fprintf(stdout, "%s was imported before (import %d); nothing stored\n", filepath.Base(f.Name()), rep.ImportID)
		return nil
	}
	fmt.Fprintf(stdout, "import %d: %s, %d statements, %d receipts stored\n", rep.ImportID, rep.Format, rep.Statements, rep.Receipts)
	for _, s := range rep.Skipped {
		fmt.Fprintf(stdout, "  statement %s was imported before from another file: skipped\n", s)
	}
	return nil
}

// describeFileError names the place of a file's error in the message.
func describeFileError(err error) error {
	e, ok := err.(*gateway.Error)
	if !ok || len(e.Details) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, d := range e.Details {
		b.WriteString("\n  ")
		if d.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", d.Line)
		}
		if d.Field != "" {
			b.WriteString(d.Field + ": ")
		}
		b.WriteString(d.Message)
	}
	return fmt.Errorf("%s", b.String())
}

// byteCounter counts what is read through it.
type byteCounter struct {
	r io.Reader
	n atomic.Int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
