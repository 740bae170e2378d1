package report_test

import (
	"archive/zip"
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/coverbridge/coverbridge/reconciliation/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden compares each format of the same report with its golden
// file; for XLSX, the parts of the workbook. go test -update rewrites
// them.
func TestGolden(t *testing.T) {
	files := map[string][]byte{
		"reconciliation.csv":  write(t, report.CSV),
		"reconciliation.json": write(t, report.JSON),
	}
	xlsx := write(t, report.XLSX)
	z, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		files["reconciliation.xlsx/"+f.Name] = b
	}
	for name, got := range files {
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", name, path, got)
		}
	}
}
