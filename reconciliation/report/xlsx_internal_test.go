package report

import (
	"io"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

// TestSheetRowLimit: a sheet stops at the most rows a worksheet holds
// with an error, rather than writing a workbook no spreadsheet opens.
func TestSheetRowLimit(t *testing.T) {
	defer func(n int) { maxSheetRows = n }(maxSheetRows)
	maxSheetRows = 3 // the header and two rows
	w := NewWriter(XLSX, io.Discard, nil)
	if err := w.Begin(&Table{Name: "t", Columns: []Column{{Key: "a", Title: "A", Kind: KindInt}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := w.Row([]Value{Int(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Row([]Value{Int(2)}); gateway.ErrorCode(err) != gateway.ETOOLARGE {
		t.Errorf("row past the limit: %v, want too_large", err)
	}
	if err := w.Close(); err == nil {
		t.Error("a writer that failed closed without an error")
	}
}
