package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestReportCommand writes the three reports of a database whose bank
// file left receipts in suspense, in each format.
func TestReportCommand(t *testing.T) {
	ctx := context.Background()
	url := migrated(t)
	var out, errs bytes.Buffer
	file := "../../reconciliation/bankstatement/testdata/camt053_v8.xml"
	if err := run(ctx, []string{"receipts", "import", "--quiet", "--database-url", url, file}, &out, &errs); err != nil {
		t.Fatalf("receipts import: %v\n%s", err, errs.String())
	}

	out.Reset()
	if err := run(ctx, []string{"report", "suspense", "--database-url", url}, &out, &errs); err != nil {
		t.Fatalf("report suspense: %v\n%s", err, errs.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) < 2 || recs[0][0] != "receipt_id" || recs[1][1] == "" {
		t.Fatalf("suspense csv = %q, %v", recs, err)
	}
	items := len(recs) - 1

	out.Reset()
	if err := run(ctx, []string{"report", "suspense", "--format", "json", "--database-url", url}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		RunID int64            `json:"run_id"`
		Items []map[string]any `json:"items"`
		Total []map[string]any `json:"totals"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.RunID == 0 || len(doc.Items) != items || len(doc.Total) == 0 {
		t.Errorf("suspense json = %s, %v", out.String(), err)
	}

	dir := t.TempDir()
	xlsx := filepath.Join(dir, "r.xlsx")
	errs.Reset()
	if err := run(ctx, []string{"report", "reconciliation", "--period", "2026-10", "--out", xlsx, "--database-url", url}, &out, &errs); err != nil {
		t.Fatalf("report reconciliation: %v\n%s", err, errs.String())
	}
	if !strings.Contains(errs.String(), "reconciliation report, 0 rows") {
		t.Errorf("stderr = %q", errs.String())
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.GetSheetList(); strings.Join(got, ",") != "lines,totals,about" {
		t.Errorf("sheets = %q", got)
	}
	if v, _ := f.GetCellValue("lines", "I1"); v != "Variance" {
		t.Errorf("lines!I1 = %q", v)
	}
	if v, _ := f.GetCellValue("about", "B3"); v != "2026-10" {
		t.Errorf("about!B3 = %q", v)
	}
	f.Close()

	aging := filepath.Join(dir, "aging.csv")
	if err := run(ctx, []string{"report", "aging", "--as-of", "2026-12-20", "--format", "xlsx", "--out", aging, "--database-url", url}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(aging); err != nil || !bytes.HasPrefix(b, []byte("PK")) {
		t.Errorf("--format xlsx wins over the extension: %.4q, %v", b, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}

	for _, args := range [][]string{
		{"report"},
		{"report", "gaps", "--database-url", url},
		{"report", "reconciliation", "--database-url", url},
		{"report", "reconciliation", "--period", "2026-13", "--database-url", url},
		{"report", "aging", "--as-of", "tomorrow", "--database-url", url},
		{"report", "suspense", "--format", "pdf", "--database-url", url},
		{"report", "suspense", "--database-url", url, "extra"},
	} {
		if _, ok := run(ctx, args, &out, &errs).(usageError); !ok {
			t.Errorf("%v: want a usage error", args)
		}
	}
}
