package gateway

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestBuiltinPacksLoad(t *testing.T) {
	c, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range c.Schemes() {
		ids = append(ids, s.ID)
		if s.Source == "" || s.Digest == "" || s.Location == nil {
			t.Errorf("%s: source, digest and zone are required", s.ID)
		}
	}
	want := []string{"cl-honorarios", "cn-oip", "in-coss", "in-ka-welfare", "kr-ei", "my-gig", "my-sess"}
	if len(ids) != len(want) {
		t.Fatalf("schemes = %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("schemes = %v, want %v", ids, want)
		}
	}
}

func TestLoadPacksErrors(t *testing.T) {
	const good = `{
  "id": "x",
  "name": "X",
  "country": "MY",
  "currency": "MYR",
  "time_zone": "Asia/Kuala_Lumpur",
  "source": "test",
  "plans": [
    {"id": "1", "name": "one", "versions": [
      {"version": 1, "valid_from": "2026-01-01", "period": "month",
       "rule": {"kind": "percentage", "worker_rate": "1%"}}
    ]}
  ]
}`
	tests := []struct {
		name      string
		old, new  string
		field     string // expected Field of the first detail
		line      int
		code      string
		extraFile string
	}{
		{"syntax error", `"name": "X",`, `"name": "X"`, "bad.json", 4, "syntax", ""},
		{"wrong type", `"version": 1,`, `"version": "1",`, "bad.json: plans.versions.version", 10, "type", ""},
		{"unknown field", `"source": "test",`, `"source": "test", "sauce": 1,`, "bad.json: sauce", 7, "unknown_field", ""},
		{"missing source", `"source": "test",`, `"source": "",`, "bad.json: source", 7, "required", ""},
		{"bad zone", `Asia/Kuala_Lumpur`, `Asia/Atlantis`, "bad.json: time_zone", 6, "unknown_zone", ""},
		{"bad currency", `"MYR"`, `"XYZ"`, "bad.json: currency", 5, "unknown_currency", ""},
		{"bad rate", `"1%"`, `"1,5%"`, "bad.json: plans[0].versions[0].rule.worker_rate", 11, "malformed", ""},
		{"too many decimals", `"worker_rate": "1%"`, `"worker_rate": "1%", "max_per_transaction": "0.001"`, "bad.json: plans[0].versions[0].rule.max_per_transaction", 11, "too_many_decimals", ""},
		{"unknown kind", `"percentage"`, `"percent"`, "bad.json: plans[0].versions[0].rule.kind", 11, "unknown_kind", ""},
		{"field of another kind", `"worker_rate": "1%"`, `"worker_rate": "1%", "amount": "1.00"`, "bad.json: plans[0].versions[0].rule.amount", 11, "not_allowed", ""},
		{"bad date", `"2026-01-01"`, `"2026-13-01"`, "bad.json: plans[0].versions[0].valid_from", 10, "malformed", ""},
		{"valid_to before valid_from", `"valid_from": "2026-01-01",`, `"valid_from": "2026-01-01", "valid_to": "2025-01-01",`, "bad.json: plans[0].versions[0].valid_to", 10, "before_valid_from", ""},
		{"missing rule field", `"rule": {"kind": "percentage", "worker_rate": "1%"}`, `"rule": {"kind": "fixed_period", "max_share_per_earning": "50%"}`, "bad.json: plans[0].versions[0].rule.amount", 11, "required", ""},
		{"worker rate above 100%", `"1%"`, `"101%"`, "bad.json: plans[0].versions[0].rule.worker_rate", 11, "too_large", ""},
		{"overlapping versions", `"rule": {"kind": "percentage", "worker_rate": "1%"}}`, `"rule": {"kind": "percentage", "worker_rate": "1%"}},
      {"version": 2, "valid_from": "2026-06-01", "period": "month", "rule": {"kind": "percentage", "worker_rate": "2%"}}`, "bad.json: plans[0].versions", 9, "overlap", ""},
		{"duplicate scheme id", "", "", "other.json: id", 2, "duplicate", "other.json"},
		{"trailing data", "\n}", "\n}\n{}", "bad.json", 15, "trailing_data", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := good
			if tt.old != "" {
				if !strings.Contains(src, tt.old) {
					t.Fatalf("no %q", tt.old)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			fsys := fstest.MapFS{"bad.json": {Data: []byte(src)}, "fine.json": {Data: []byte(strings.Replace(good, `"id": "x"`, `"id": "fine"`, 1))}}
			if tt.extraFile != "" {
				fsys[tt.extraFile] = &fstest.MapFile{Data: []byte(good)}
			}
			c, err := LoadPacks(fsys)
			if c != nil {
				t.Fatal("a catalog was returned with an error: loading must be all or nothing")
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || len(e.Details) == 0 {
				t.Fatalf("err = %v", err)
			}
			d := e.Details[0]
			if d.Field != tt.field || d.Line != tt.line || d.Code != tt.code {
				t.Errorf("detail = %+v, want field %q line %d code %s", d, tt.field, tt.line, tt.code)
			}
			if !strings.Contains(err.Error(), strings.SplitN(tt.field, ":", 2)[0]) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := LoadPacks(fstest.MapFS{"x.json": {Data: []byte(good)}}); err != nil {
		t.Fatalf("the good pack: %v", err)
	}
	if _, err := LoadPacks(fstest.MapFS{}); ErrorCode(err) != EINVALID {
		t.Errorf("no packs: %v", err)
	}
}

func TestCatalogLookups(t *testing.T) {
	c := mustCatalog(t)
	if _, err := c.Scheme("nope"); ErrorCode(err) != ENOTFOUND {
		t.Errorf("unknown scheme: %v", err)
	}
	if _, err := c.PlanVersion("my-sess", "9", time.Now()); ErrorCode(err) != ENOTFOUND {
		t.Errorf("unknown plan: %v", err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v, err := c.PlanVersion("cl-honorarios", "withholding", at)
	if err != nil || v.Version != 1 { // midnight UTC is still 2025 in Santiago
		t.Fatalf("version at %s = %+v, %v", at, v, err)
	}
	s, _ := c.Scheme("cl-honorarios")
	if !strings.Contains(s.Source, "21.431") || s.String() != "chile-withholding.json (cl-honorarios)" {
		t.Errorf("scheme %s source %q", s, s.Source)
	}
}

// TestLoadPacksUnknownReference loads a pack whose period target is
// selected in a scheme no pack defines: loading fails naming the field.
func TestLoadPacksUnknownReference(t *testing.T) {
	pack := func(selectedIn string) []byte {
		return []byte(`{"id": "x", "name": "X", "country": "MY", "currency": "MYR", "time_zone": "Asia/Kuala_Lumpur", "source": "test",
  "plans": [{"id": "1", "name": "one", "versions": [{"version": 1, "valid_from": "2026-01-01", "period": "month",
    "rule": {"kind": "percentage", "worker_rate": "1%", "period_target": {"amounts": {"1": "13.10"}, "selected_in": "` + selectedIn + `"}}}]}]}`)
	}
	c, err := LoadPacks(fstest.MapFS{"x.json": {Data: pack("nowhere")}})
	var e *Error
	if c != nil || !errors.As(err, &e) || len(e.Details) != 1 ||
		e.Details[0].Field != "x.json: plans[0].versions[0].rule.period_target.selected_in" || e.Details[0].Code != "unknown_scheme" {
		t.Fatalf("catalog %v, err %+v; want unknown_scheme on selected_in", c, err)
	}
	if _, err := LoadPacks(fstest.MapFS{"x.json": {Data: pack("x")}}); err != nil {
		t.Errorf("a target selected in a scheme that exists: %v", err)
	}
}
