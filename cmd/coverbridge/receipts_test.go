package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestReceiptsImport(t *testing.T) {
	ctx := context.Background()
	url := migrated(t)
	file := "../../reconciliation/bankstatement/testdata/camt053_v8.xml"
	var out, errs bytes.Buffer
	if err := run(ctx, []string{"receipts", "import", "--database-url", url, file}, &out, &errs); err != nil {
		t.Fatalf("receipts import: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "2 statements, 11 receipts stored") || !strings.Contains(errs.String(), "stored: 11 receipts") {
		t.Errorf("first import printed %q, progress %q", out.String(), errs.String())
	}
	out.Reset()
	if err := run(ctx, []string{"receipts", "import", "--quiet", "--database-url", url, file}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "imported before") {
		t.Errorf("second import printed %q", out.String())
	}
	bad := "../../reconciliation/bankstatement/testdata/invalid/balance_mismatch.xml"
	err := run(ctx, []string{"receipts", "import", "--quiet", "--database-url", url, bad}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "line ") {
		t.Errorf("malformed file: err = %v, want the line named", err)
	}
	for _, args := range [][]string{
		{"receipts"},
		{"receipts", "import", "--database-url", url},
		{"receipts", "import", "--database-url", url, "--csv-mapping", "nope=x", file},
	} {
		if _, ok := run(ctx, args, &out, &errs).(usageError); !ok {
			t.Errorf("%v: want a usage error", args)
		}
	}
}
