package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// issue closes a period of scheme s and issues one statement in it.
func issue(t *testing.T, db *postgres.DB, platform, period string, lines ...statement.Line) statement.Statement {
	t.Helper()
	ctx := context.Background()
	var st statement.Statement
	settle := func(*postgres.CloseTx) error { return nil }
	ran, err := db.InPeriodClose(ctx, "my-gig", period, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), settle, func(tx *postgres.CloseTx) error {
		num, err := tx.PlatformNumber(ctx, platform)
		if err != nil {
			return err
		}
		ref, err := rfref.Generate(rfref.Key{Platform: num, Scheme: "MYGW", Period: period})
		if err != nil {
			return err
		}
		st = statement.Statement{ID: ref, Key: statement.Key{Platform: platform, Scheme: "MYGW", Period: period},
			Kind: statement.Original, Reference: ref, Currency: "MYR", DueDate: calendar.D(2026, 11, 16),
			IssuedAt: time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), Lines: lines,
			Worker: gateway.Money{Currency: "MYR"}, Platform: gateway.Money{Currency: "MYR"}, Total: gateway.Money{Currency: "MYR"}}
		for _, l := range lines {
			st.Worker.Amount += l.Worker.Amount
			st.Platform.Amount += l.Platform.Amount
		}
		st.Total.Amount = st.Worker.Amount + st.Platform.Amount
		return tx.IssueStatement(ctx, &st)
	})
	if err != nil || !ran {
		t.Fatalf("issue: %v, %v", ran, err)
	}
	return st
}

func myr(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: "MYR"} }

func createPlatform(t *testing.T, db *postgres.DB, id, account string) {
	t.Helper()
	err := db.CreatePlatform(context.Background(), postgres.Platform{ID: id, Name: id, Country: "MY", Currency: "MYR",
		ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), RemittanceAccount: account,
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatementsImmutable issues a statement and checks that it reads back
// the same, that its rows refuse every change, and that the listing
// filters.
func TestStatementsImmutable(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	createPlatform(t, db, "grab", "")
	createPlatform(t, db, "food", "")
	st := issue(t, db, "grab", "2026-10", statement.Line{WorkerKey: "w1", Worker: myr(125), Platform: myr(0)},
		statement.Line{WorkerKey: "w2", Worker: myr(300), Platform: myr(10), Late: true})
	issue(t, db, "food", "2026-09")

	got, err := db.Statement(ctx, st.ID)
	if err != nil || got.Total.Amount != 435 || got.LineCount != 2 || got.SchemeID != "my-gig" || got.Key.Scheme != "MYGW" ||
		got.DueDate != st.DueDate || got.BookedPeriod != "2026-10" {
		t.Fatalf("Statement = %+v, %v", got, err)
	}
	var lines []statement.Line
	if err := db.EachStatementLine(ctx, &got, func(l statement.Line) error { lines = append(lines, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[1] != st.Lines[1] {
		t.Errorf("lines = %+v, want %+v", lines, st.Lines)
	}
	if _, err := db.Statement(ctx, "RF00NOPE"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("unknown statement: %v, want not found", err)
	}
	for _, stmt := range []string{
		`UPDATE statements SET total_minor = 0`, `DELETE FROM statements`, `TRUNCATE statements CASCADE`,
		`UPDATE statement_lines SET worker_minor = 0`, `DELETE FROM statement_lines`,
	} {
		if _, err := db.Pool.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want a refusal", stmt, err)
		}
	}
	for _, c := range []struct {
		f    postgres.StatementFilter
		want int
	}{
		{postgres.StatementFilter{}, 2},
		{postgres.StatementFilter{PlatformID: "grab"}, 1},
		{postgres.StatementFilter{SchemeID: "my-gig", Period: "2026-09"}, 1},
		{postgres.StatementFilter{SchemeID: "kr-ei"}, 0},
		{postgres.StatementFilter{Limit: 1}, 1},
	} {
		list, err := db.Statements(ctx, c.f)
		if err != nil || len(list) != c.want {
			t.Errorf("Statements(%+v) = %d, %v; want %d", c.f, len(list), err, c.want)
		}
	}
	first, _ := db.Statements(ctx, postgres.StatementFilter{Limit: 1})
	rest, err := db.Statements(ctx, postgres.StatementFilter{After: first[0].ID})
	if err != nil || len(rest) != 1 || rest[0].ID == first[0].ID {
		t.Errorf("next page = %+v, %v", rest, err)
	}

	// The period's close is complete: closing it again runs nothing.
	again := func(*postgres.CloseTx) error {
		t.Error("a complete close ran again")
		return nil
	}
	ran, err := db.InPeriodClose(ctx, "my-gig", "2026-10", time.Now(), again, again)
	if err != nil || ran {
		t.Errorf("second close = %v, %v", ran, err)
	}
}
