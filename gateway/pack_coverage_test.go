package gateway

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestPackCoverageBasis: each shipped pack states what makes a worker
// covered; a pack that states nothing is on withholding; an unknown basis
// is refused naming the field and line.
func TestPackCoverageBasis(t *testing.T) {
	c := mustCatalog(t)
	want := map[string]CoverageBasis{
		"cl-honorarios": CoverageOnWithholding, "cn-oip": CoverageOnWithholding, "in-coss": CoverageNone,
		"in-ka-welfare": CoverageNone, "kr-ei": CoverageOnWithholding, "my-gig": CoverageOnWithholding, "my-sess": CoverageOnPayment,
	}
	for id, b := range want {
		s, err := c.Scheme(id)
		if err != nil || s.Coverage != b {
			t.Errorf("%s coverage = %v, %v; want %s", id, s, err, b)
		}
	}
	const pack = `{
  "id": "x",
  "name": "X",
  "country": "MY",
  "currency": "MYR",
  "time_zone": "Asia/Kuala_Lumpur",
  "source": "test",
  "plans": [{"id": "1", "name": "one", "versions": [
    {"version": 1, "valid_from": "2026-01-01", "period": "month", "rule": {"kind": "percentage", "worker_rate": "1%"}}]}]
}`
	got, err := LoadPacks(fstest.MapFS{"x.json": {Data: []byte(pack)}})
	if err != nil || got.Schemes()[0].Coverage != CoverageOnWithholding {
		t.Fatalf("a pack without coverage: %v", err)
	}
	bad := strings.Replace(pack, `"source": "test",`, `"source": "test",`+"\n"+`  "coverage": "later",`, 1)
	_, err = LoadPacks(fstest.MapFS{"x.json": {Data: []byte(bad)}})
	e, ok := err.(*Error)
	if !ok || len(e.Details) != 1 || e.Details[0].Field != "x.json: coverage" || e.Details[0].Line != 8 || e.Details[0].Code != "unknown_coverage" {
		t.Errorf("unknown coverage: %#v", err)
	}
}
