package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

// simulate runs "coverbridge plans simulate" with args.
func simulate(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"plans", "simulate"}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestPlansSimulateSESS replays a month of earnings through SESS plan 1
// (RM13.10 a month, at most half of any one earning):
//
//	grab w1: 100.00 → 13.10, then 50.00 → 0 (the month is paid)
//	grab w2: 20.00 → 10.00, then 4.00 at 23:30 on 31 October → 2.00: 12.00, short 1.10
//	foodpanda w3: 30.00 at 16:30Z on 31 October, 00:30 on 1 November in Kuala Lumpur → 13.10
//
// Line 3 has a JSON number for gross, line 5 is blank, line 8 is in KRW and
// line 9 is not JSON.
func TestPlansSimulateSESS(t *testing.T) {
	out, errOut, err := simulate(t, "--pack", "my-sess", "--plan", "1", "--events", "testdata/sess.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	want := `scheme my-sess plan 1 (Plan 1: insured monthly earnings RM1,050), amounts in MYR

PLATFORM   PERIOD   EVENTS  WORKERS  MEETING THRESHOLD    BASE  WORKER  PLATFORM  TOTAL  ADJUSTMENTS  SHORTFALLS
foodpanda  2026-11       1        1                  1   30.00   13.10      0.00  13.10         0.00           0
grab       2026-10       4        2                  2  174.00   25.10      0.00  25.10         0.00           1
----------------------------------------------------------------------------------------------------------------
all                      5        3                  3  204.00   38.20      0.00  38.20         0.00           1
`
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
	for _, line := range []string{
		"testdata/sess.ndjson:3: invalid input: gross.value: ",
		"testdata/sess.ndjson:8: event g-6: invalid input: gross.currency: plan my-sess/1 is in MYR, the event in KRW",
		"testdata/sess.ndjson:9: invalid input: malformed JSON",
		"testdata/sess.ndjson: 6 events read, 2 bad lines, 1 rejected by plan my-sess/1",
	} {
		if !strings.Contains(errOut, line) {
			t.Errorf("stderr does not report %q:\n%s", line, errOut)
		}
	}
	if strings.Contains(errOut, ":5:") {
		t.Errorf("a blank line was reported:\n%s", errOut)
	}
}

type simJSON struct {
	SchemeID   string `json:"scheme_id"`
	PlanID     string `json:"plan_id"`
	EventsRead int    `json:"events_read"`
	BadLines   int    `json:"bad_lines"`
	Rejected   int    `json:"rejected"`
	Periods    []struct {
		PlatformID string `json:"platform_id"`
		Period     string `json:"period"`
		totalsJSON
	} `json:"periods"`
	All totalsJSON `json:"all"`
}

type totalsJSON struct {
	Events                  int64         `json:"events"`
	Workers                 int           `json:"workers"`
	WorkersMeetingThreshold int           `json:"workers_meeting_threshold"`
	Base                    gateway.Money `json:"base"`
	Worker                  gateway.Money `json:"worker"`
	Platform                gateway.Money `json:"platform"`
	Total                   gateway.Money `json:"total"`
	Adjustments             gateway.Money `json:"adjustments"`
	Shortfalls              int           `json:"shortfalls"`
}

// row is "platform period events workers meeting base worker platform total
// adjustments shortfalls", as in the table.
func (s simJSON) rows() []string {
	var out []string
	line := func(p, per string, t totalsJSON) string {
		return strings.Join([]string{p, per, itoa64(t.Events), itoa64(int64(t.Workers)), itoa64(int64(t.WorkersMeetingThreshold)),
			t.Base.String(), t.Worker.String(), t.Platform.String(), t.Total.String(), t.Adjustments.String(), itoa64(int64(t.Shortfalls))}, " ")
	}
	for _, p := range s.Periods {
		out = append(out, line(p.PlatformID, p.Period, p.totalsJSON))
	}
	return append(out, line("all", "", s.All))
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestPlansSimulateKoreaCSV replays a CSV upload through Korea employment
// insurance (0.8% + 0.8% of the month's base, KRW 800,000 threshold,
// truncated):
//
//	baemin b-1: 500,000 + 420,000 less 20,000 expenses = 900,000 → 7,200 + 7,200
//	baemin b-2: 300,000, below the threshold → refunded at close (2,400 + 2,400)
//	coupang c-77: 600,000, below → refunded (4,800 + 4,800); the same person as b-2
//	coupang c-78: 100,000 at 16:00Z on 30 September, October in Seoul → refunded (800 + 800)
//
// Combined, b-2 and c-77 earn 900,000 and both keep their deductions. Line
// 5 has gross "abc".
func TestPlansSimulateKoreaCSV(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"each platform on its own", nil, []string{
			"baemin 2026-10 3 2 1 1200000 7200 7200 14400 -4800 0",
			"coupang 2026-10 2 2 0 700000 0 0 0 -11200 0",
			"all  5 4 1 1900000 7200 7200 14400 -16000 0",
		}},
		{"combined across platforms", []string{"--combine"}, []string{
			"baemin 2026-10 3 2 2 1200000 9600 9600 19200 0 0",
			"coupang 2026-10 2 2 1 700000 4800 4800 9600 -1600 0",
			"all  5 4 3 1900000 14400 14400 28800 -1600 0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := simulate(t, append([]string{"--pack", "kr-ei", "--events", "testdata/kr.csv", "--format", "json"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var got simJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if got.SchemeID != "kr-ei" || got.PlanID != "platform-workers" || got.EventsRead != 5 || got.BadLines != 1 || got.Rejected != 0 {
				t.Errorf("header = %+v", got)
			}
			if rows := got.rows(); strings.Join(rows, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(tt.want, "\n"))
			}
			if !strings.Contains(errOut, "testdata/kr.csv:5: ") || !strings.Contains(errOut, `"abc"`) {
				t.Errorf("stderr does not report line 5:\n%s", errOut)
			}
		})
	}
}

// TestPlansSimulateProposedPack simulates a proposed pack file that raises
// SESS plan 1 to RM15.00 from January 2027.
func TestPlansSimulateProposedPack(t *testing.T) {
	out, _, err := simulate(t, "--pack", "testdata/sess-proposed.json", "--events", "testdata/proposed.ndjson", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got simJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"grab 2026-12 1 1 1 100.00 13.10 0.00 13.10 0.00 0",
		"grab 2027-01 1 1 1 100.00 15.00 0.00 15.00 0.00 0",
		"all  2 2 2 200.00 28.10 0.00 28.10 0.00 0",
	}
	if rows := got.rows(); strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlansSimulateRefuses(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.ndjson")
	if err := os.WriteFile(empty, []byte("\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		usage bool   // a command-line mistake (exit status 2)
		want  string // part of the error
	}{
		{"no subcommand", []string{"plans"}, true, "no command"},
		{"unknown subcommand", []string{"plans", "run"}, true, `"run"`},
		{"no pack", []string{"plans", "simulate", "--events", "testdata/sess.ndjson"}, true, "--pack"},
		{"no events", []string{"plans", "simulate", "--pack", "my-sess"}, true, "--events"},
		{"bad format", []string{"plans", "simulate", "--pack", "kr-ei", "--events", "testdata/kr.csv", "--format", "xml"}, true, "table or json"},
		{"unknown scheme", []string{"plans", "simulate", "--pack", "xx", "--events", "testdata/kr.csv"}, true, "my-sess"},
		{"plan needed", []string{"plans", "simulate", "--pack", "my-sess", "--events", "testdata/sess.ndjson"}, true, "1, 2, 3, 4"},
		{"unknown plan", []string{"plans", "simulate", "--pack", "my-sess", "--plan", "9", "--events", "testdata/sess.ndjson"}, true, `"9"`},
		{"missing pack file", []string{"plans", "simulate", "--pack", "testdata/none.json", "--events", "testdata/sess.ndjson"}, false, "none.json"},
		{"bad pack file", []string{"plans", "simulate", "--pack", "testdata/badpacks/rate.json", "--events", "testdata/sess.ndjson"}, false, "rate.json:7: plans[0].versions[0].rule.worker_rate"},
		{"events of unknown format", []string{"plans", "simulate", "--pack", "kr-ei", "--events", "testdata/sess-proposed.json"}, true, ".csv"},
		{"missing events file", []string{"plans", "simulate", "--pack", "kr-ei", "--events", "testdata/none.csv"}, false, "none.csv"},
		{"no readable event", []string{"plans", "simulate", "--pack", "kr-ei", "--events", empty}, false, "no event could be read (1 bad line)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			var ue usageError
			if errors.As(err, &ue) != tt.usage {
				t.Errorf("usage error = %v, want %v: %v", !tt.usage, tt.usage, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestLoadCatalog(t *testing.T) {
	ctx := context.Background()
	c, err := loadCatalog(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Scheme("my-sess"); err != nil || len(c.Schemes()) != 7 {
		t.Errorf("built-in catalog: %d schemes, %v", len(c.Schemes()), err)
	}

	// A folder with one bad pack loads nothing and names the file, line
	// and field.
	_, err = loadCatalog(ctx, "testdata/badpacks", nil)
	var ge *gateway.Error
	if !errors.As(err, &ge) || ge.Code != gateway.EINVALID {
		t.Fatalf("bad folder: err = %v, want an invalid *gateway.Error", err)
	}
	if want := filepath.Join("testdata", "badpacks", "rate.json") + ":7: plans[0].versions[0].rule.worker_rate: "; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}

	dir := t.TempDir()
	good, err := os.ReadFile("testdata/badpacks/good.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.json"), good, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = loadCatalog(ctx, dir, nil)
	if err != nil || len(c.Schemes()) != 1 || c.Schemes()[0].ID != "ok" {
		t.Errorf("good folder: %v, %v", c, err)
	}

	if _, err := loadCatalog(ctx, filepath.Join(dir, "none"), nil); err == nil {
		t.Error("a missing folder loaded")
	}
	if _, err := loadCatalog(ctx, filepath.Join(dir, "good.json"), nil); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a file as folder: %v", err)
	}
}

func TestSchemesDirSetting(t *testing.T) {
	t.Setenv("COVERBRIDGE_SCHEMES_DIR", "/etc/coverbridge/schemes")
	cfg, err := parseConfig("serve", nil, io.Discard)
	if err != nil || cfg.SchemesDir != "/etc/coverbridge/schemes" {
		t.Errorf("from the environment: %q, %v", cfg.SchemesDir, err)
	}
	cfg, err = parseConfig("serve", []string{"--schemes-dir", "packs"}, io.Discard)
	if err != nil || cfg.SchemesDir != "packs" {
		t.Errorf("the flag wins: %q, %v", cfg.SchemesDir, err)
	}
}
