// Package books keeps the reconciliation side of Coverbridge in its store:
// it closes periods and issues statements, stores remittance advice and
// bank statements, runs matching and keeps its results. It joins the pure
// packages of reconciliation (statement, bankstatement, matching, calendar,
// interest) to the ledger in PostgreSQL.
//
// # Period close
//
// [Keeper.ClosePeriod] closes one scheme period. A first transaction holds
// the period's lock, so no batch books into it or changes its running
// totals meanwhile:
//
//  1. the period is marked closed; later events of it are booked in the open
//     period as late adjustments;
//  2. settlement: [gateway.PlanVersion.Close] runs on every worker's period
//     state, and its adjustments (refunds of provisional deductions,
//     true-ups, refunds of excess) are appended as settlement adjustments,
//     its notices as settlement notices;
//  3. entity levies: a turnover-levy plan's [gateway.PlanVersion.Levy] runs
//     per platform on the gross and base of its ledger entries of the
//     period (the ledger carries no turnover of its own; the gross the
//     platform reported stands for it);
//  4. late adjustments: for every earlier period whose late events were
//     booked in this one, steps 2 and 3 run again on the workers they
//     changed, booked in this period.
//
// A second transaction issues the statements from what is booked in closed
// periods, which no batch changes any more: one per platform with entries
// of the period, with an RF reference and the due date from the scheme's
// rule and holiday calendar; for each earlier period, a supplementary
// statement per platform whose late entries or adjustments changed what it
// owes, payable with this period. It records the close as complete, so
// closing again changes nothing; a close that stopped between the two
// transactions is finished by the next, whose settlement finds nothing
// left to settle. [Keeper.CloseDue] closes every period whose end plus
// grace has passed, once across replicas.
//
// # Configuration
//
// Each scheme that is stated needs a [Scheme]: the short code in its RF
// references, the due-date rule, the holiday calendar, late interest and
// the grace after which nothing paid counts as missing. [DefaultSchemes]
// is the table for the built-in scheme packs; a scheme without one is
// closed and settled but not stated.
package books

import (
	"cmp"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/interest"
	"github.com/coverbridge/coverbridge/reconciliation/matching"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// Scheme is the reconciliation configuration of one scheme.
type Scheme struct {
	// Code is the scheme's short code in RF references: 1 to 4 letters or
	// digits, a letter first.
	Code string
	// DueRule is the due-date rule in the text calendar.ParseRule reads,
	// e.g. "15th of next month".
	DueRule string
	// Calendar is the code of a built-in holiday calendar (calendar.Builtin).
	Calendar string
	// Interest is the late-interest rule; nil charges none.
	Interest *interest.Rule
	// Grace is how many days after the due date a period with nothing paid
	// counts as missing rather than open.
	Grace int
}

// DefaultSchemes is the configuration of the built-in scheme packs:
//
//	scheme         code  due                                        calendar  interest
//	my-sess        SESS  15th of next month                         MY        6% a year by day, rounded down
//	my-gig         MYGW  15th of next month                         MY        6% a year by day, rounded down
//	kr-ei          KREI  10th of next month                         KR        interest.Korea
//	cn-oip         CNOI  15th of next month                         CN        none
//	in-coss        COSS  last day of the 3rd month after the period IN        interest.India
//	in-ka-welfare  KAWF  15th of the month after the quarter        IN        interest.India
//
// Every scheme counts a period as missing 7 days after its due date.
// Chile's annual withholding (cl-honorarios) is settled through the tax
// return, not remitted against a statement, and has no entry.
func DefaultSchemes() map[string]Scheme {
	malaysia := interest.Rule{Unit: interest.Days, Tiers: []interest.Tier{{Rate: mustRate(6, 36500)}}, Rounding: gateway.RoundDown}
	korea, india := interest.Korea(), interest.India()
	return map[string]Scheme{
		"my-sess":       {Code: "SESS", DueRule: "15th of next month", Calendar: "MY", Interest: &malaysia, Grace: 7},
		"my-gig":        {Code: "MYGW", DueRule: "15th of next month", Calendar: "MY", Interest: &malaysia, Grace: 7},
		"kr-ei":         {Code: "KREI", DueRule: "10th of next month", Calendar: "KR", Interest: &korea, Grace: 7},
		"cn-oip":        {Code: "CNOI", DueRule: "15th of next month", Calendar: "CN", Grace: 7},
		"in-coss":       {Code: "COSS", DueRule: "last day of the 3rd month after the period", Calendar: "IN", Interest: &india, Grace: 7},
		"in-ka-welfare": {Code: "KAWF", DueRule: "15th of the month after the quarter", Calendar: "IN", Interest: &india, Grace: 7},
	}
}

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,3}$`)

func mustRate(num, den int64) gateway.Rate {
	r, err := gateway.NewRate(num, den)
	if err != nil {
		panic(err)
	}
	return r
}

// Config configures New.
type Config struct {
	Store   Store            // required
	Catalog *gateway.Catalog // required
	// Schemes is the configuration per scheme id; default DefaultSchemes().
	// Schemes the catalog does not have are ignored.
	Schemes map[string]Scheme
	// Grace is how long after a period's end CloseDue waits before closing
	// it; default 72h. GraceByScheme overrides it per scheme id.
	Grace         time.Duration
	GraceByScheme map[string]time.Duration
	// Matching configures the matching rules: tolerance and date window
	// (its Schemes field is filled from Schemes). Default exact amounts,
	// 31 days either side.
	Matching matching.Config
	Now      func() time.Time // default time.Now
	Logger   *slog.Logger     // default slog.Default()
}

// Keeper keeps the books. It is safe for concurrent use.
type Keeper struct {
	cfg     Config
	log     *slog.Logger
	store   Store
	schemes map[string]*scheme // by scheme id
	byCode  map[string]*scheme
}

// scheme is a configured scheme, ready to state and reconcile.
type scheme struct {
	id     string
	cfg    Scheme
	gw     *gateway.Scheme
	build  statement.Scheme
	match  matching.Scheme
	sample *gateway.PlanVersion // a version, for period keys
}

// New checks the configuration and returns a Keeper. A scheme whose
// configuration is wrong (unknown calendar, unreadable rule, code used
// twice) is an EINVALID error.
func New(cfg Config) (*Keeper, error) {
	if cfg.Store == nil || cfg.Catalog == nil {
		return nil, gateway.Errorf(gateway.EINVALID, "books: a store and a catalog are required")
	}
	if cfg.Schemes == nil {
		cfg.Schemes = DefaultSchemes()
	}
	cfg.Grace = cmp.Or(cfg.Grace, 72*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	k := &Keeper{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()), store: cfg.Store,
		schemes: map[string]*scheme{}, byCode: map[string]*scheme{}}
	k.cfg.Matching.Schemes = map[string]matching.Scheme{}
	for _, gs := range cfg.Catalog.Schemes() {
		sc, ok := cfg.Schemes[gs.ID]
		if !ok {
			continue
		}
		s, err := newScheme(gs, sc)
		if err != nil {
			return nil, err
		}
		if prev, dup := k.byCode[s.cfg.Code]; dup {
			return nil, gateway.Errorf(gateway.EINVALID, "books: schemes %s and %s share the code %s", prev.id, s.id, s.cfg.Code)
		}
		k.schemes[gs.ID], k.byCode[s.cfg.Code] = s, s
		k.cfg.Matching.Schemes[s.cfg.Code] = s.match
	}
	return k, nil
}

func newScheme(gs *gateway.Scheme, sc Scheme) (*scheme, error) {
	bad := func(format string, args ...any) error {
		return gateway.Errorf(gateway.EINVALID, "books: scheme %s: %s", gs.ID, fmt.Sprintf(format, args...))
	}
	rule, err := calendar.ParseRule(sc.DueRule)
	if err != nil {
		return nil, bad("due rule: %s", gateway.ErrorMessage(err))
	}
	cal, err := calendar.Builtin(sc.Calendar)
	if err != nil {
		return nil, bad("calendar %q: %s", sc.Calendar, gateway.ErrorMessage(err))
	}
	if sc.Interest != nil {
		if err := sc.Interest.Validate(); err != nil {
			return nil, bad("interest: %s", err)
		}
	}
	if !codePattern.MatchString(sc.Code) {
		return nil, bad("code %q is not 1 to 4 capital letters or digits, a letter first", sc.Code)
	}
	if sc.Grace < 0 {
		return nil, bad("grace must not be negative")
	}
	s := &scheme{id: gs.ID, cfg: sc, gw: gs}
	for _, p := range gs.Plans {
		if len(p.Versions) > 0 {
			s.sample = p.Versions[len(p.Versions)-1]
			break
		}
	}
	if s.sample == nil {
		return nil, bad("no plan versions")
	}
	s.build = statement.Scheme{Code: sc.Code, Currency: gs.Currency, Location: gs.Location, Unit: s.sample.Period,
		YearStart: s.sample.YearStart, DueRule: rule, Calendar: cal}
	s.match = matching.Scheme{Interest: sc.Interest, Grace: sc.Grace, Location: gs.Location}
	return s, nil
}

// now is the Keeper's clock in UTC.
func (k *Keeper) now() time.Time { return k.cfg.Now().UTC() }

// SchemeCode returns the code of a configured scheme id, and false for a
// scheme that is not stated.
func (k *Keeper) SchemeCode(schemeID string) (string, bool) {
	if s, ok := k.schemes[schemeID]; ok {
		return s.cfg.Code, true
	}
	return "", false
}
