package gateway

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // period boundaries must not depend on the host's zone files
)

// builtinPacks holds the scheme packs shipped with the product.
//
//go:embed schemes/*.json
var builtinPacks embed.FS

// BuiltinPacks loads the scheme packs shipped in gateway/schemes.
func BuiltinPacks() (*Catalog, error) {
	sub, err := fs.Sub(builtinPacks, "schemes")
	if err != nil {
		return nil, err
	}
	return LoadPacks(sub)
}

// Catalog is a loaded, checked set of schemes. It is read-only and safe for
// concurrent use.
type Catalog struct {
	schemes []*Scheme
	byID    map[string]*Scheme
}

// Schemes returns the schemes ordered by id.
func (c *Catalog) Schemes() []*Scheme { return c.schemes }

// Scheme returns the scheme with the given id, or an ENOTFOUND error.
func (c *Catalog) Scheme(id string) (*Scheme, error) {
	if s, ok := c.byID[id]; ok {
		return s, nil
	}
	return nil, Errorf(ENOTFOUND, "no scheme %q", id)
}

// PlanVersion returns the version of a scheme's plan in force at t.
func (c *Catalog) PlanVersion(schemeID, planID string, t time.Time) (*PlanVersion, error) {
	s, err := c.Scheme(schemeID)
	if err != nil {
		return nil, err
	}
	p, err := s.Plan(planID)
	if err != nil {
		return nil, err
	}
	return p.VersionAt(t)
}

// LoadPacks reads every *.json file in fsys (at any depth, in name order) as
// a scheme pack and checks it. Loading is all or nothing: on any problem it
// returns no catalog and one EINVALID *Error whose details name each file
// with the line and field at fault.
func LoadPacks(fsys fs.FS) (*Catalog, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, Errorf(EINVALID, "scheme packs: %v", err)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, Errorf(EINVALID, "scheme packs: no *.json files found")
	}
	c := &Catalog{byID: map[string]*Scheme{}}
	var details []Detail
	var badFiles []string
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			details = append(details, Detail{Field: name, Code: "unreadable", Message: err.Error()})
			badFiles = append(badFiles, name)
			continue
		}
		s, d := parsePack(name, data)
		if len(d) == 0 {
			if prev, dup := c.byID[s.ID]; dup {
				d = append(d, Detail{Field: name + ": id", Line: lineOfPath(data, "id"), Code: "duplicate",
					Message: "scheme id " + quote(s.ID) + " is also defined in " + prev.File})
			}
		}
		if len(d) > 0 {
			details = append(details, d...)
			badFiles = append(badFiles, name)
			continue
		}
		c.byID[s.ID] = s
		c.schemes = append(c.schemes, s)
	}
	if len(details) == 0 {
		details, badFiles = c.checkReferences()
	}
	if len(details) > 0 {
		return nil, &Error{Code: EINVALID, Message: "invalid scheme pack " + strings.Join(badFiles, ", "), Details: details}
	}
	sort.Slice(c.schemes, func(i, j int) bool { return c.schemes[i].ID < c.schemes[j].ID })
	return c, nil
}

// checkReferences reports the schemes a pack names that no pack defines: a
// period target's selected_in.
func (c *Catalog) checkReferences() ([]Detail, []string) {
	var details []Detail
	var files []string
	for _, s := range c.schemes {
		for i, p := range s.Plans {
			for j, v := range p.Versions {
				ref := v.TargetSelectedIn()
				if _, ok := c.byID[ref]; ref == "" || ok {
					continue
				}
				details = append(details, Detail{Field: fmt.Sprintf("%s: plans[%d].versions[%d].rule.period_target.selected_in", s.File, i, j),
					Code: "unknown_scheme", Message: "no scheme pack defines scheme " + quote(ref)})
				files = append(files, s.File)
			}
		}
	}
	return details, files
}

// The file format of a scheme pack.
type packFile struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Country  string     `json:"country"`
	Currency string     `json:"currency"`
	TimeZone string     `json:"time_zone"`
	Source   string     `json:"source"`
	Notes    string     `json:"notes,omitempty"`
	Coverage string     `json:"coverage,omitempty"` // withholding (default), payment or none
	Plans    []planFile `json:"plans"`
}

type planFile struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Versions []versionFile `json:"versions"`
}

type versionFile struct {
	Version   int      `json:"version"`
	ValidFrom string   `json:"valid_from"`
	ValidTo   string   `json:"valid_to,omitempty"`
	Period    string   `json:"period"`
	YearStart int      `json:"year_start,omitempty"` // 1-12: first month of a fiscal year (4 for India)
	Source    string   `json:"source,omitempty"`
	Notes     string   `json:"notes,omitempty"`
	Rule      RuleSpec `json:"rule"`
}

// parsePack decodes and checks one pack file.
func parsePack(name string, data []byte) (*Scheme, []Detail) {
	var pf packFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf); err != nil {
		return nil, []Detail{decodeDetail(name, data, err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, []Detail{{Field: name, Line: lineAt(data, dec.InputOffset()), Code: "trailing_data", Message: "unexpected data after the pack object"}}
	}

	var d []Detail
	bad := func(field, code, msg string) {
		d = append(d, Detail{Field: name + ": " + field, Line: lineOfPath(data, field), Code: code, Message: msg})
	}
	required := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			bad(field, "required", field+" is required")
		}
	}
	required("id", pf.ID)
	required("name", pf.Name)
	required("country", pf.Country)
	required("source", pf.Source)
	cur, err := LookupCurrency(pf.Currency)
	if err != nil {
		bad("currency", detailCodeOf(err), detailMessageOf(err))
	}
	var loc *time.Location
	switch {
	case pf.TimeZone == "":
		bad("time_zone", "required", "time_zone is required (an IANA name such as Asia/Kuala_Lumpur)")
	case pf.TimeZone == "Local":
		bad("time_zone", "unknown_zone", "time_zone must name a zone, not Local")
	default:
		if loc, err = time.LoadLocation(pf.TimeZone); err != nil {
			bad("time_zone", "unknown_zone", "unknown time zone "+quote(pf.TimeZone))
		}
	}
	if len(pf.Plans) == 0 {
		bad("plans", "required", "a scheme has at least one plan")
	}
	coverage := CoverageBasis(pf.Coverage)
	if coverage == "" {
		coverage = CoverageOnWithholding
	}
	if !coverage.Valid() {
		bad("coverage", "unknown_coverage", "coverage "+quote(pf.Coverage)+" is not withholding, payment or none")
	}
	sum := sha256.Sum256(data)
	s := &Scheme{ID: pf.ID, Name: pf.Name, Country: pf.Country, Currency: cur, TimeZone: pf.TimeZone, Location: loc,
		Source: pf.Source, Notes: pf.Notes, Coverage: coverage, File: name, Digest: hex.EncodeToString(sum[:]), Raw: data}
	if len(d) > 0 {
		// Without a currency and a zone the plans cannot be checked.
		if cur == "" || loc == nil {
			return nil, d
		}
	}

	planIDs := map[string]bool{}
	for i, pl := range pf.Plans {
		pp := "plans[" + strconv.Itoa(i) + "]"
		required(pp+".id", pl.ID)
		if planIDs[pl.ID] && pl.ID != "" {
			bad(pp+".id", "duplicate", "plan id "+quote(pl.ID)+" is used twice")
		}
		planIDs[pl.ID] = true
		plan := &Plan{ID: pl.ID, Name: pl.Name, SchemeID: pf.ID}
		if len(pl.Versions) == 0 {
			bad(pp+".versions", "required", "a plan has at least one version")
		}
		versions := map[int]bool{}
		for j, vf := range pl.Versions {
			vp := pp + ".versions[" + strconv.Itoa(j) + "]"
			v := &PlanVersion{SchemeID: pf.ID, PlanID: pl.ID, Version: vf.Version, Currency: cur, Location: loc,
				Period: PeriodUnit(vf.Period), Rule: vf.Rule, Source: vf.Source}
			if vf.Version <= 0 {
				bad(vp+".version", "required", "version is a positive number")
			} else if versions[vf.Version] {
				bad(vp+".version", "duplicate", "version "+strconv.Itoa(vf.Version)+" is used twice")
			}
			versions[vf.Version] = true
			if !v.Period.Valid() {
				bad(vp+".period", "unknown_period", "period "+quote(vf.Period)+" is not month, quarter or year")
			}
			v.YearStart = time.January
			switch {
			case vf.YearStart == 0:
			case vf.YearStart < 1 || vf.YearStart > 12:
				bad(vp+".year_start", "out_of_range", "year_start is a month, 1 to 12")
			case v.Period == PeriodMonth:
				bad(vp+".year_start", "not_allowed", "year_start applies to quarter and year periods")
			default:
				v.YearStart = time.Month(vf.YearStart)
			}
			if v.ValidFrom, err = parseInstant(vf.ValidFrom, loc); err != nil {
				bad(vp+".valid_from", detailCodeOf(err), "valid_from: "+detailMessageOf(err))
			}
			if vf.ValidTo != "" {
				if v.ValidTo, err = parseInstant(vf.ValidTo, loc); err != nil {
					bad(vp+".valid_to", detailCodeOf(err), "valid_to: "+detailMessageOf(err))
				} else if !v.ValidFrom.IsZero() && !v.ValidTo.After(v.ValidFrom) {
					bad(vp+".valid_to", "before_valid_from", "valid_to must be after valid_from")
				}
			}
			r, rd := compileRule(vf.Rule, cur, vp+".rule")
			for _, x := range rd {
				d = append(d, Detail{Field: name + ": " + x.Field, Line: lineOfPath(data, x.Field), Code: x.Code, Message: x.Message})
			}
			v.rule = r
			if r.period && v.Period.Valid() {
				// A rule computed on the period total has one version per
				// period: its boundaries must fall on period starts.
				for _, b := range []struct {
					field string
					t     time.Time
				}{{"valid_from", v.ValidFrom}, {"valid_to", v.ValidTo}} {
					if !b.t.IsZero() && !v.PeriodOf(b.t).Start.Equal(b.t) {
						bad(vp+"."+b.field, "mid_period", "a period-basis rule can change only at the start of a "+string(v.Period))
					}
				}
			}
			plan.Versions = append(plan.Versions, v)
		}
		sort.SliceStable(plan.Versions, func(a, b int) bool { return plan.Versions[a].ValidFrom.Before(plan.Versions[b].ValidFrom) })
		for k := 1; k < len(plan.Versions); k++ {
			prev, next := plan.Versions[k-1], plan.Versions[k]
			if prev.ValidTo.IsZero() || prev.ValidTo.After(next.ValidFrom) {
				bad(pp+".versions", "overlap", "versions "+strconv.Itoa(prev.Version)+" and "+strconv.Itoa(next.Version)+" overlap")
			}
		}
		s.Plans = append(s.Plans, plan)
	}
	if len(d) > 0 {
		return nil, d
	}
	return s, nil
}

// parseInstant reads "2026-01-01" as midnight in loc, or an RFC 3339 time.
func parseInstant(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, Invalid("", "required", "a date is required")
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, Invalid("", "malformed", quote(s)+" is not a date (2026-01-01) or an RFC 3339 time")
}

// decodeDetail turns a JSON decoding error into a detail with a line.
func decodeDetail(name string, data []byte, err error) Detail {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return Detail{Field: name, Line: lineAt(data, syn.Offset), Code: "syntax", Message: "JSON syntax: " + syn.Error()}
	case errors.As(err, &typ):
		return Detail{Field: name + ": " + typ.Field, Line: lineAt(data, typ.Offset), Code: "type",
			Message: typ.Field + " must be a JSON " + typ.Type.Kind().String() + ", not " + typ.Value}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		line := 0
		if i := bytes.Index(data, []byte(strconv.Quote(field))); i >= 0 {
			line = lineAt(data, int64(i))
		}
		return Detail{Field: name + ": " + field, Line: line, Code: "unknown_field", Message: "unknown field " + quote(field)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Detail{Field: name, Line: lineAt(data, int64(len(data))), Code: "syntax", Message: "the file ends before the pack object does"}
	default:
		return Detail{Field: name, Code: "malformed", Message: err.Error()}
	}
}

// lineAt returns the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// lineOfPath returns the line where the value at a JSON path such as
// "plans[0].versions[1].rule.worker_rate" is written, or the line of its
// nearest written parent, or 0.
func lineOfPath(data []byte, want string) int {
	lines := pathLines(data)
	for p := want; p != ""; {
		if l, ok := lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// pathLines maps every key and array element in data to its line.
func pathLines(data []byte) map[string]int {
	type frame struct {
		path   string
		array  bool
		index  int
		key    string
		keyNow bool // in an object, the next token is a key
	}
	out := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []frame
	child := func() string {
		f := &stack[len(stack)-1]
		if f.array {
			p := f.path + "[" + strconv.Itoa(f.index) + "]"
			f.index++
			return p
		}
		f.keyNow = true
		if f.path == "" {
			return f.key
		}
		return f.path + "." + f.key
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if len(stack) > 0 {
			f := &stack[len(stack)-1]
			if !f.array && f.keyNow {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:len(stack)-1]
					continue
				}
				f.key, _ = tok.(string)
				f.keyNow = false
				p := f.key
				if f.path != "" {
					p = f.path + "." + f.key
				}
				out[p] = lineAt(data, dec.InputOffset())
				continue
			}
		}
		var p string
		if len(stack) > 0 {
			if d, ok := tok.(json.Delim); ok && d == ']' {
				stack = stack[:len(stack)-1]
				continue
			}
			p = child()
			if _, seen := out[p]; !seen {
				out[p] = lineAt(data, dec.InputOffset())
			}
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, frame{path: p, keyNow: true})
			case '[':
				stack = append(stack, frame{path: p, array: true})
			}
		}
	}
}

// String describes the pack by file and id.
func (s *Scheme) String() string { return path.Base(s.File) + " (" + s.ID + ")" }
