package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

const plansUsage = `usage: coverbridge plans <command> [flags]

commands:
  simulate  replay earnings events through a plan and print what it would collect

Run "coverbridge plans simulate -h" for its flags.
`

// runPlans runs the plans commands.
func runPlans(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, plansUsage)
		return usageError{"plans: no command given"}
	}
	switch args[0] {
	case "simulate":
		return runSimulate(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, plansUsage)
		return nil
	default:
		fmt.Fprint(stderr, plansUsage)
		return usageError{fmt.Sprintf("plans: unknown command %q", args[0])}
	}
}

// loadCatalog loads the scheme packs in dir, or the built-in packs when dir
// is empty, and stores every pack file in db in one transaction (db may be
// nil to load only). A bad pack stops it with an error that names each file,
// line and field at fault; nothing is stored then.
func loadCatalog(ctx context.Context, dir string, db *postgres.DB) (*gateway.Catalog, error) {
	var c *gateway.Catalog
	var err error
	if dir == "" {
		c, err = gateway.BuiltinPacks()
	} else {
		var info fs.FileInfo
		if info, err = os.Stat(dir); err == nil && !info.IsDir() {
			err = fmt.Errorf("%s is not a folder", dir)
		}
		if err != nil {
			return nil, fmt.Errorf("scheme packs: %w", err)
		}
		c, err = gateway.LoadPacks(os.DirFS(dir))
	}
	if err != nil {
		return nil, packError(dir, err)
	}
	if db != nil {
		if _, err := db.StoreSchemePacks(ctx, c); err != nil {
			return nil, fmt.Errorf("store scheme packs: %w", err)
		}
	}
	return c, nil
}

// packError spells out every detail of a pack-loading error, one per line:
// "folder/file.json:12: plans[0].id: plan id "1" is used twice". It wraps
// the *gateway.Error, whose code stays available to errors.As.
func packError(dir string, err error) error {
	var ge *gateway.Error
	if !errors.As(err, &ge) || len(ge.Details) == 0 {
		return fmt.Errorf("scheme packs: %w", err)
	}
	var b strings.Builder
	b.WriteString(ge.Message)
	for _, d := range ge.Details {
		file, field, _ := strings.Cut(d.Field, ": ")
		if dir != "" {
			file = filepath.Join(dir, filepath.FromSlash(file))
		}
		b.WriteString("\n  " + file)
		if d.Line > 0 {
			b.WriteString(":" + strconv.Itoa(d.Line))
		}
		if field != "" {
			b.WriteString(": " + field)
		}
		b.WriteString(": " + d.Message)
	}
	return detailedError{msg: b.String(), err: ge}
}

// detailedError is an error with its own text around a domain error.
type detailedError struct {
	msg string
	err error
}

func (e detailedError) Error() string { return e.msg }
func (e detailedError) Unwrap() error { return e.err }

// simulateOptions are the flags of plans simulate.
type simulateOptions struct {
	pack, plan, events, format string
	combine                    bool
	selectedPlan               string
}

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("plans simulate", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var o simulateOptions
	fset.StringVar(&o.pack, "pack", "", "scheme pack: a .json file (an existing or a proposed plan) or the id of a built-in scheme such as my-sess")
	fset.StringVar(&o.plan, "plan", "", "plan id in the pack; may be left out when the scheme has one plan")
	fset.StringVar(&o.events, "events", "", "earnings events: .ndjson or .jsonl (one JSON event a line, as POST /v1/earnings takes) or .csv (the upload columns)")
	fset.StringVar(&o.format, "format", "table", "output: table or json")
	fset.BoolVar(&o.combine, "combine", false, "meet combinable thresholds on each worker's earnings from all platforms, as if every worker had applied to combine")
	fset.StringVar(&o.selectedPlan, "selected-plan", "", "plan every worker is taken to have selected, for month-end targets (my-gig against SESS plans)")
	fset.Usage = func() {
		fmt.Fprint(stderr, "usage: coverbridge plans simulate --pack <file.json|scheme id> [--plan ID] --events <file.ndjson|file.csv> [--format table|json]\n\n")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	switch {
	case fset.NArg() > 0:
		return usageError{fmt.Sprintf("plans simulate: unexpected argument %q", fset.Arg(0))}
	case o.pack == "":
		return usageError{"plans simulate needs --pack: a pack file or a built-in scheme id"}
	case o.events == "":
		return usageError{"plans simulate needs --events: an .ndjson or .csv file"}
	case o.format != "table" && o.format != "json":
		return usageError{fmt.Sprintf("--format must be table or json, got %q", o.format)}
	}

	scheme, err := packScheme(o.pack)
	if err != nil {
		return err
	}
	plan, err := choosePlan(scheme, o.plan)
	if err != nil {
		return err
	}
	in, err := readEvents(o.events, stderr)
	if err != nil {
		return err
	}
	if len(in.events) == 0 {
		return fmt.Errorf("%s: no event could be read (%s)", o.events, plural(in.bad, "bad line"))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sim, err := gateway.Simulate(plan, in.events, gateway.SimulateOptions{Combine: o.combine, SelectedPlan: o.selectedPlan})
	if err != nil {
		return err
	}
	for _, r := range sim.Rejected {
		fmt.Fprintf(stderr, "%s: event %s: %s\n", in.where(r.EventID), r.EventID, describe(r.Err))
	}
	fmt.Fprintf(stderr, "%s: %s read, %s, %d rejected by plan %s/%s\n",
		o.events, plural(len(in.events), "event"), plural(in.bad, "bad line"), len(sim.Rejected), scheme.ID, plan.ID)

	rep, err := newReport(scheme, plan, o, in, sim)
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.writeTable(stdout)
}

// packScheme loads the scheme of a pack file, or a built-in scheme by id.
func packScheme(pack string) (*gateway.Scheme, error) {
	info, statErr := os.Stat(pack)
	if statErr != nil && strings.HasSuffix(pack, ".json") {
		return nil, fmt.Errorf("pack: %w", statErr)
	}
	if statErr == nil {
		if info.IsDir() {
			return nil, usageError{fmt.Sprintf("--pack %s is a folder: name one pack file", pack)}
		}
		dir, name := filepath.Split(pack)
		c, err := gateway.LoadPacks(oneFile{fsys: os.DirFS(cmp.Or(dir, ".")), name: name})
		if err != nil {
			return nil, packError(dir, err)
		}
		return c.Schemes()[0], nil
	}
	c, err := gateway.BuiltinPacks()
	if err != nil {
		return nil, err
	}
	s, err := c.Scheme(pack)
	if err != nil {
		var ids []string
		for _, s := range c.Schemes() {
			ids = append(ids, s.ID)
		}
		return nil, usageError{fmt.Sprintf("--pack %q is neither a file nor a built-in scheme (%s)", pack, strings.Join(ids, ", "))}
	}
	return s, nil
}

// choosePlan returns the named plan, or the scheme's only one.
func choosePlan(s *gateway.Scheme, id string) (*gateway.Plan, error) {
	if id != "" {
		p, err := s.Plan(id)
		if err != nil {
			return nil, usageError{fmt.Sprintf("--plan: scheme %s has no plan %q (plans: %s)", s.ID, id, planIDs(s))}
		}
		return p, nil
	}
	if len(s.Plans) == 1 {
		return s.Plans[0], nil
	}
	return nil, usageError{fmt.Sprintf("scheme %s has several plans: choose one with --plan (%s)", s.ID, planIDs(s))}
}

func planIDs(s *gateway.Scheme) string {
	ids := make([]string, len(s.Plans))
	for i, p := range s.Plans {
		ids[i] = p.ID
	}
	return strings.Join(ids, ", ")
}

// oneFile shows LoadPacks a single file of a folder.
type oneFile struct {
	fsys fs.FS
	name string
}

func (o oneFile) Open(name string) (fs.File, error) {
	if name != "." && name != o.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return o.fsys.Open(name)
}

func (o oneFile) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	entries, err := fs.ReadDir(o.fsys, ".")
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() != o.name }), nil
}

// input is what was read from an events file.
type input struct {
	events []gateway.Earning
	bad    int              // lines that could not be read as an event
	lines  map[string][]int // event id → the lines it was read from
	file   string
}

// where names the line of an event by id, or the file when the id is on
// several lines.
func (in *input) where(eventID string) string {
	if ls := in.lines[eventID]; len(ls) == 1 {
		return in.file + ":" + strconv.Itoa(ls[0])
	}
	return in.file
}

func (in *input) add(e gateway.Earning, line int) {
	in.events = append(in.events, e)
	in.lines[e.EventID] = append(in.lines[e.EventID], line)
}

// badLine reports a line that is not an event and counts it.
func (in *input) badLine(stderr io.Writer, line int, err error) {
	in.bad++
	fmt.Fprintf(stderr, "%s:%d: %s\n", in.file, line, describe(err))
}

// readEvents reads an NDJSON or CSV file of events. Lines that are not
// valid events are reported on stderr with their number and skipped.
func readEvents(path string, stderr io.Writer) (*input, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer f.Close()
	in := &input{lines: map[string][]int{}, file: path}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ndjson", ".jsonl":
		err = readNDJSON(f, in, stderr)
	case ".csv":
		err = readCSV(f, in, stderr)
	default:
		return nil, usageError{fmt.Sprintf("--events %s: name an .ndjson, .jsonl or .csv file", path)}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return in, nil
}

// readNDJSON reads one JSON event a line. Blank lines are skipped.
func readNDJSON(r io.Reader, in *input, stderr io.Writer) error {
	br := bufio.NewReaderSize(r, feed.MaxEventBytes+1)
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			in.badLine(stderr, line, gateway.Errorf(gateway.ETOOLARGE, "line is longer than %d bytes", feed.MaxEventBytes))
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		if t := bytes.TrimSpace(b); len(t) > 0 {
			e, derr := feed.Decode(t)
			if derr != nil {
				in.badLine(stderr, line, derr)
			} else {
				in.add(e, line)
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readCSV reads an earnings CSV file as uploaded. Workers named by national
// ID are keyed for this run only, so their earnings on several platforms can
// be combined; the keys are neither printed nor kept.
func readCSV(r io.Reader, in *input, stderr io.Writer) error {
	secret := make([]byte, identity.MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	keyer, err := identity.NewKeyer(identity.KeyerConfig{Secret: secret})
	if err != nil {
		return err
	}
	cr := feed.NewCSVReader(r, feed.CSVDefaults{
		// A proposed plan is simulated on future events too.
		Now: func() time.Time { return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) },
		WorkerKey: func(country, id string) (string, error) {
			n, err := identity.Normalize(country, id)
			if err != nil {
				return "", err
			}
			return keyer.Key(country, n), nil
		},
	})
	for {
		row, err := cr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errors.New(describe(err))
		}
		if row.Err != nil {
			in.badLine(stderr, row.Line, row.Err)
			continue
		}
		in.add(row.Earning, row.Line)
	}
}

// describe writes an error with every detail: "invalid input: gross.value:
// too_many_decimals: …".
func describe(err error) string {
	var ge *gateway.Error
	if !errors.As(err, &ge) || len(ge.Details) == 0 {
		return err.Error()
	}
	parts := make([]string, 0, len(ge.Details))
	for _, d := range ge.Details {
		p := d.Message
		if d.Field != "" {
			p = d.Field + ": " + p
		}
		parts = append(parts, p)
	}
	return ge.Message + ": " + strings.Join(parts, "; ")
}

// simReport is the result of a simulation as printed.
type simReport struct {
	SchemeID     string       `json:"scheme_id"`
	PlanID       string       `json:"plan_id"`
	PlanName     string       `json:"plan_name"`
	Currency     string       `json:"currency"`
	Digest       string       `json:"digest"` // SHA-256 of the pack file
	Combine      bool         `json:"combine,omitempty"`
	SelectedPlan string       `json:"selected_plan,omitempty"`
	EventsRead   int          `json:"events_read"`
	BadLines     int          `json:"bad_lines"`
	Rejected     int          `json:"rejected"` // events read that the plan could not take
	Periods      []periodRow  `json:"periods"`
	All          periodTotals `json:"all"` // the periods added up; workers counts worker-periods
}

type periodRow struct {
	PlatformID string `json:"platform_id"`
	Period     string `json:"period"`
	periodTotals
}

type periodTotals struct {
	Events                  int64         `json:"events"`
	Workers                 int           `json:"workers"`
	WorkersMeetingThreshold int           `json:"workers_meeting_threshold"`
	Base                    gateway.Money `json:"base"`
	Worker                  gateway.Money `json:"worker"`
	Platform                gateway.Money `json:"platform"`
	Total                   gateway.Money `json:"total"`
	Adjustments             gateway.Money `json:"adjustments"` // part of the total from period-close adjustments
	Shortfalls              int           `json:"shortfalls"`
}

func newReport(s *gateway.Scheme, p *gateway.Plan, o simulateOptions, in *input, sim gateway.Simulation) (simReport, error) {
	zero := gateway.Money{Currency: s.Currency}
	rep := simReport{
		SchemeID: s.ID, PlanID: p.ID, PlanName: p.Name, Currency: string(s.Currency), Digest: s.Digest,
		Combine: o.combine, SelectedPlan: o.selectedPlan,
		EventsRead: len(in.events), BadLines: in.bad, Rejected: len(sim.Rejected), Periods: []periodRow{},
		All: periodTotals{Base: zero, Worker: zero, Platform: zero, Total: zero, Adjustments: zero},
	}
	for _, t := range sim.Totals {
		row := periodRow{PlatformID: t.PlatformID, Period: t.Period, periodTotals: periodTotals{
			Events: t.Events, Workers: t.Workers, WorkersMeetingThreshold: t.WorkersMeetingThreshold,
			Base: t.Base, Worker: t.Worker, Platform: t.Platform, Total: t.Total, Adjustments: t.Adjustments, Shortfalls: t.Shortfalls,
		}}
		rep.Periods = append(rep.Periods, row)
		a := &rep.All
		a.Events += t.Events
		a.Workers += t.Workers
		a.WorkersMeetingThreshold += t.WorkersMeetingThreshold
		a.Shortfalls += t.Shortfalls
		for _, m := range []struct{ dst, add *gateway.Money }{
			{&a.Base, &row.Base}, {&a.Worker, &row.Worker}, {&a.Platform, &row.Platform},
			{&a.Total, &row.Total}, {&a.Adjustments, &row.Adjustments},
		} {
			sum, err := m.dst.Add(*m.add)
			if err != nil {
				return simReport{}, fmt.Errorf("add up the periods: %w", err)
			}
			*m.dst = sum
		}
	}
	return rep, nil
}

// writeTable prints the report as an aligned table: text columns to the
// left, figures to the right, amounts in the scheme's currency.
func (r simReport) writeTable(w io.Writer) error {
	header := []string{"PLATFORM", "PERIOD", "EVENTS", "WORKERS", "MEETING THRESHOLD", "BASE", "WORKER", "PLATFORM", "TOTAL", "ADJUSTMENTS", "SHORTFALLS"}
	const textCols = 2
	cells := func(platform, period string, t periodTotals) []string {
		return []string{platform, period, strconv.FormatInt(t.Events, 10), strconv.Itoa(t.Workers),
			strconv.Itoa(t.WorkersMeetingThreshold), t.Base.String(), t.Worker.String(), t.Platform.String(),
			t.Total.String(), t.Adjustments.String(), strconv.Itoa(t.Shortfalls)}
	}
	rows := [][]string{header}
	for _, p := range r.Periods {
		rows = append(rows, cells(p.PlatformID, p.Period, p.periodTotals))
	}
	rows = append(rows, cells("all", "", r.All))
	width := make([]int, len(header))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "scheme %s plan %s (%s), amounts in %s\n", r.SchemeID, r.PlanID, r.PlanName, r.Currency)
	if r.Combine {
		b.WriteString("thresholds met on each worker's earnings from all platforms\n")
	}
	if r.SelectedPlan != "" {
		fmt.Fprintf(&b, "every worker taken to have selected plan %s\n", r.SelectedPlan)
	}
	b.WriteString("\n")
	for n, row := range rows {
		if n == len(rows)-1 {
			b.WriteString(strings.Repeat("-", sum(width)+2*(len(width)-1)) + "\n")
		}
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len(c))
			if i < textCols {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
			if i < len(row)-1 {
				b.WriteString("  ")
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// plural writes "1 event", "2 events".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}
