package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestGapsCommand(t *testing.T) {
	ctx := context.Background()
	url := migrated(t)
	var out, errs bytes.Buffer
	// An unknown payer's money in suspense is a gap.
	file := "../../reconciliation/bankstatement/testdata/camt053_v8.xml"
	if err := run(ctx, []string{"receipts", "import", "--quiet", "--database-url", url, file}, &out, &errs); err != nil {
		t.Fatalf("receipts import: %v\n%s", err, errs.String())
	}
	out.Reset()
	if err := run(ctx, []string{"gaps", "detect", "--database-url", url, "--at", "2026-12-01T00:00:00Z"}, &out, &errs); err != nil {
		t.Fatalf("gaps detect: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "opened") || !strings.Contains(out.String(), "unmatched_receipt") {
		t.Errorf("gaps detect printed %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"gaps", "detect", "--database-url", url, "--at", "2026-12-01T00:00:00Z"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), " 0 opened, 0 updated, 0 cured, 0 reopened") {
		t.Errorf("detecting again printed %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"gaps", "list", "--database-url", url, "--kind", "unmatched_receipt", "--status", "open"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) < 2 || !strings.Contains(lines[1], "unmatched_receipt") {
		t.Errorf("gaps list printed %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"gaps", "worklist", "--database-url", url}, &out, &errs); err != nil || !strings.Contains(out.String(), "open") {
		t.Errorf("gaps worklist: %v %q", err, out.String())
	}
	for _, args := range [][]string{
		{"gaps"},
		{"gaps", "close"},
		{"gaps", "list", "--database-url", url, "--kind", "nope"},
		{"gaps", "detect", "--database-url", url, "--at", "yesterday"},
	} {
		if _, ok := run(ctx, args, &out, &errs).(usageError); !ok {
			t.Errorf("%v: want a usage error", args)
		}
	}
	if err := run(ctx, []string{"gaps", "detect", "--database-url", url, "--drop-percent", "150"}, &out, &errs); err == nil {
		t.Error("a drop of 150% is taken")
	}
}
