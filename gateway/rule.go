package gateway

import (
	"math/bits"
	"slices"
	"sort"
	"strconv"
)

// RuleKind names one way of computing a contribution. Every number a rule
// uses is configuration in its RuleSpec.
type RuleKind string

// Rule kinds.
const (
	// RulePercentage takes a percentage of the earnings base (gross minus
	// configured exclusions) as worker and platform shares, with optional
	// per-transaction minimum and maximum, a per-period ceiling on insured
	// earnings, and a per-period minimum-earnings threshold below which
	// deductions are provisional and refunded at close (Korea EI, Malaysia
	// Gig Workers Act, Chile).
	RulePercentage RuleKind = "percentage"
	// RulePerOrder charges a fixed fee per order by category and region,
	// scaled by a platform-specific multiplier (China occupational injury).
	RulePerOrder RuleKind = "per_order"
	// RuleFixedPeriod withholds a fixed amount per period progressively from
	// each earning until the amount is met, never more than a share of any
	// one earning (Malaysia SESS plans).
	RuleFixedPeriod RuleKind = "fixed_period"
	// RuleTurnoverLevy is an entity-level levy on the platform's turnover in
	// the period, capped at a percentage of its payouts to workers, computed
	// at period close (India Code on Social Security s.114).
	RuleTurnoverLevy RuleKind = "turnover_levy"
	// RuleCappedPercentage takes a percentage of each transaction, capped per
	// transaction by a table keyed by category (Karnataka welfare fee).
	RuleCappedPercentage RuleKind = "capped_percentage"
)

// Bases of computation.
const (
	// BasisTransaction rounds each event on its own.
	BasisTransaction = "transaction"
	// BasisPeriod computes the contribution on the period's running total
	// and charges each event the difference, so the period total is rounded
	// once and does not depend on the order of events.
	BasisPeriod = "period"
)

// RuleSpec is a rule as written in a scheme pack. Amounts are decimal
// strings in the scheme's currency ("13.10"); rates are strings ParseRate
// reads ("1.25%", "1/1500"). Only the fields of the rule's kind may be set.
type RuleSpec struct {
	Kind         RuleKind `json:"kind"`
	Basis        string   `json:"basis,omitempty"`         // "transaction" (default) or "period"
	Rounding     string   `json:"rounding,omitempty"`      // half_up (default), half_even, down, up
	BaseExcludes []string `json:"base_excludes,omitempty"` // tips, incentives, expenses, commission

	// percentage and capped_percentage
	WorkerRate        string            `json:"worker_rate,omitempty"`
	PlatformRate      string            `json:"platform_rate,omitempty"`
	MinPerTransaction string            `json:"min_per_transaction,omitempty"` // on the total contribution
	MaxPerTransaction string            `json:"max_per_transaction,omitempty"` // on the total contribution; default cap for capped_percentage
	CeilingPerPeriod  string            `json:"ceiling_per_period,omitempty"`  // on insured earnings
	Threshold         *ThresholdSpec    `json:"threshold,omitempty"`
	PeriodTarget      *PeriodTargetSpec `json:"period_target,omitempty"`
	Caps              []CapSpec         `json:"caps,omitempty"` // capped_percentage

	// per_order
	Fees        []FeeSpec       `json:"fees,omitempty"`
	Regions     []string        `json:"regions,omitempty"` // allowed region codes; empty: any
	Multipliers *MultiplierSpec `json:"multipliers,omitempty"`

	// per_order and fixed_period: who pays, as weights (default all worker for
	// fixed_period, all platform for per_order).
	Split *SplitSpec `json:"split,omitempty"`

	// fixed_period
	Amount             string `json:"amount,omitempty"`
	MaxSharePerEarning string `json:"max_share_per_earning,omitempty"`

	// turnover_levy
	TurnoverRate  string `json:"turnover_rate,omitempty"`
	PayoutCapRate string `json:"payout_cap_rate,omitempty"`
}

// ThresholdSpec is a minimum of earnings per period below which nothing is
// due: deductions stay provisional and are refunded at close if the period
// ends below it.
type ThresholdSpec struct {
	Amount string `json:"amount"`
	// Combinable lets a worker who applies for it meet the threshold on
	// earnings from all platforms together; each platform is still charged
	// on its own share.
	Combinable bool `json:"combinable,omitempty"`
}

// PeriodTargetSpec is a month-end check of what was withheld against the
// contribution of the plan the worker selected elsewhere (Malaysia Gig
// Workers Act against SESS plans).
type PeriodTargetSpec struct {
	Amounts map[string]string `json:"amounts"`          // selected plan → amount per period
	Excess  string            `json:"excess,omitempty"` // "notify" (default): ask the worker; "refund": refund the excess
	// SelectedIn is the scheme whose registration carries the plan the
	// worker selected (its plan id is a key of Amounts), such as "my-sess";
	// empty: the check runs only where the caller supplies the plan.
	SelectedIn string `json:"selected_in,omitempty"`
}

// CapSpec is one row of a per-transaction cap table. Empty or "*" matches any
// value; the most specific matching row wins, the first one on a tie.
type CapSpec struct {
	Sector  string `json:"sector,omitempty"`
	Vehicle string `json:"vehicle,omitempty"`
	Max     string `json:"max"`
}

// FeeSpec is one row of a per-order fee table, matched like CapSpec.
type FeeSpec struct {
	Sector  string `json:"sector,omitempty"`
	Vehicle string `json:"vehicle,omitempty"`
	Region  string `json:"region,omitempty"`
	Fee     string `json:"fee"`
}

// MultiplierSpec bounds the platform-specific multipliers of a per-order fee
// and lists them. A platform not listed pays 100%.
type MultiplierSpec struct {
	Min       string            `json:"min"`
	Max       string            `json:"max"`
	Step      string            `json:"step,omitempty"`
	Platforms map[string]string `json:"platforms,omitempty"`
}

// SplitSpec divides an amount between worker and platform in proportion to
// the weights (largest remainder, worker first on a tie).
type SplitSpec struct {
	Worker   int64 `json:"worker"`
	Platform int64 `json:"platform"`
}

// rule is a RuleSpec compiled: exact numbers and lookup tables.
type rule struct {
	kind     RuleKind
	period   bool // BasisPeriod
	mode     RoundingMode
	excludes ExclusionSet

	workerRate, platformRate Rate
	split                    [2]int64 // worker, platform weights

	minTx, maxTx int64 // 0: none
	ceiling      int64 // 0: none
	threshold    int64 // 0: none
	combinable   bool
	targets      map[string]int64
	selectedIn   string // scheme of the registration that selects the target
	refundExcess bool
	caps         []capRow

	fees        []feeRow
	regions     map[string]bool
	multipliers map[string]Rate

	amount   int64
	maxShare Rate

	turnoverRate, payoutCapRate Rate
}

type capRow struct {
	sector, vehicle string
	max             int64
}

type feeRow struct {
	sector, vehicle, region string
	fee                     int64
}

// ruleCompiler collects every problem in a rule with its JSON path.
type ruleCompiler struct {
	path     string
	currency Currency
	details  []Detail
}

func (c *ruleCompiler) bad(field, code, msg string) {
	c.details = append(c.details, Detail{Field: c.path + "." + field, Code: code, Message: msg})
}

func (c *ruleCompiler) rate(field, s string, required bool) Rate {
	if s == "" {
		if required {
			c.bad(field, "required", field+" is required")
		}
		return Rate{}
	}
	r, err := ParseRate(s)
	if err != nil {
		c.bad(field, detailCodeOf(err), field+": "+detailMessageOf(err))
	}
	return r
}

func (c *ruleCompiler) amount(field, s string, required bool) int64 {
	if s == "" {
		if required {
			c.bad(field, "required", field+" is required")
		}
		return 0
	}
	m, err := ParseMoney(string(c.currency), s)
	if err != nil {
		c.bad(field, detailCodeOf(err), field+": "+detailMessageOf(err))
		return 0
	}
	if m.Amount < 0 {
		c.bad(field, "negative", field+" cannot be negative")
	}
	return m.Amount
}

func (c *ruleCompiler) forbid(field string, set bool, kind RuleKind) {
	if set {
		c.bad(field, "not_allowed", field+" does not apply to a "+string(kind)+" rule")
	}
}

func detailCodeOf(err error) string {
	if e, ok := err.(*Error); ok && len(e.Details) > 0 {
		return e.Details[0].Code
	}
	return "invalid"
}

func detailMessageOf(err error) string {
	if e, ok := err.(*Error); ok && len(e.Details) > 0 {
		return e.Details[0].Message
	}
	return err.Error()
}

// compileRule checks spec and compiles it. Problems are reported as details
// with field names under path ("plans[0].versions[1].rule").
func compileRule(spec RuleSpec, cur Currency, path string) (rule, []Detail) {
	c := &ruleCompiler{path: path, currency: cur}
	r := rule{kind: spec.Kind}

	switch spec.Basis {
	case "", BasisTransaction:
	case BasisPeriod:
		r.period = true
	default:
		c.bad("basis", "unknown_basis", "basis "+quote(spec.Basis)+" is not transaction or period")
	}
	mode, err := ParseRoundingMode(spec.Rounding)
	if err != nil {
		c.bad("rounding", "unknown_rounding", detailMessageOf(err))
	}
	r.mode = mode
	for i, x := range spec.BaseExcludes {
		switch x {
		case "tips":
			r.excludes |= ExcludeTips
		case "incentives":
			r.excludes |= ExcludeIncentives
		case "expenses":
			r.excludes |= ExcludeExpenses
		case "commission":
			r.excludes |= ExcludeCommission
		default:
			c.bad("base_excludes["+itoa(i)+"]", "unknown_exclusion", quote(x)+" is not tips, incentives, expenses or commission")
		}
	}

	k := spec.Kind
	percentFields := func(allowed bool) {
		if allowed {
			return
		}
		c.forbid("worker_rate", spec.WorkerRate != "", k)
		c.forbid("platform_rate", spec.PlatformRate != "", k)
		c.forbid("min_per_transaction", spec.MinPerTransaction != "", k)
		c.forbid("max_per_transaction", spec.MaxPerTransaction != "", k)
		c.forbid("ceiling_per_period", spec.CeilingPerPeriod != "", k)
		c.forbid("threshold", spec.Threshold != nil, k)
		c.forbid("period_target", spec.PeriodTarget != nil, k)
	}
	switch k {
	case RulePercentage, RuleCappedPercentage:
		percentFields(true)
		c.compilePercentage(&r, spec)
		c.forbid("fees", spec.Fees != nil, k)
		c.forbid("regions", spec.Regions != nil, k)
		c.forbid("multipliers", spec.Multipliers != nil, k)
		c.forbid("split", spec.Split != nil, k)
		c.forbid("amount", spec.Amount != "", k)
		c.forbid("max_share_per_earning", spec.MaxSharePerEarning != "", k)
		c.forbid("turnover_rate", spec.TurnoverRate != "", k)
		c.forbid("payout_cap_rate", spec.PayoutCapRate != "", k)
		if k == RulePercentage {
			c.forbid("caps", spec.Caps != nil, k)
		}
	case RulePerOrder:
		percentFields(false)
		c.compilePerOrder(&r, spec)
		c.forbid("caps", spec.Caps != nil, k)
		c.forbid("amount", spec.Amount != "", k)
		c.forbid("max_share_per_earning", spec.MaxSharePerEarning != "", k)
		c.forbid("turnover_rate", spec.TurnoverRate != "", k)
		c.forbid("payout_cap_rate", spec.PayoutCapRate != "", k)
		c.forbid("base_excludes", spec.BaseExcludes != nil, k)
	case RuleFixedPeriod:
		percentFields(false)
		c.compileFixedPeriod(&r, spec)
		c.forbid("caps", spec.Caps != nil, k)
		c.forbid("fees", spec.Fees != nil, k)
		c.forbid("regions", spec.Regions != nil, k)
		c.forbid("multipliers", spec.Multipliers != nil, k)
		c.forbid("turnover_rate", spec.TurnoverRate != "", k)
		c.forbid("payout_cap_rate", spec.PayoutCapRate != "", k)
		c.forbid("basis", spec.Basis != "", k)
	case RuleTurnoverLevy:
		percentFields(false)
		c.compileLevy(&r, spec)
		c.forbid("caps", spec.Caps != nil, k)
		c.forbid("fees", spec.Fees != nil, k)
		c.forbid("regions", spec.Regions != nil, k)
		c.forbid("multipliers", spec.Multipliers != nil, k)
		c.forbid("split", spec.Split != nil, k)
		c.forbid("amount", spec.Amount != "", k)
		c.forbid("max_share_per_earning", spec.MaxSharePerEarning != "", k)
		c.forbid("basis", spec.Basis != "", k)
	case "":
		c.bad("kind", "required", "kind is required")
	default:
		c.bad("kind", "unknown_kind", "kind "+quote(string(k))+" is not percentage, per_order, fixed_period, turnover_levy or capped_percentage")
	}
	return r, c.details
}

func (c *ruleCompiler) split(spec *SplitSpec, def [2]int64) [2]int64 {
	if spec == nil {
		return def
	}
	switch {
	case spec.Worker < 0 || spec.Platform < 0:
		c.bad("split", "negative", "split weights cannot be negative")
	case spec.Worker == 0 && spec.Platform == 0:
		c.bad("split", "zero", "split weights cannot both be zero")
	case spec.Worker > 1<<40 || spec.Platform > 1<<40:
		c.bad("split", "overflow", "split weights are too large")
	}
	return [2]int64{spec.Worker, spec.Platform}
}

// rateWeights returns integer weights proportional to two rates, so a capped
// total can be divided between the shares in the rates' proportion.
func rateWeights(a, b Rate) ([2]int64, bool) {
	if a.IsZero() && b.IsZero() {
		return [2]int64{1, 0}, true
	}
	hi1, w1 := bits.Mul64(uint64(a.num), uint64(b.Den()))
	hi2, w2 := bits.Mul64(uint64(b.num), uint64(a.Den()))
	if hi1 != 0 || hi2 != 0 || w1 > 1<<62 || w2 > 1<<62 {
		return [2]int64{}, false
	}
	return [2]int64{int64(w1), int64(w2)}, true
}

// matches reports whether a table value matches an event's value: empty and
// "*" match anything. score counts the exact matches.
func matches(want, got string, score *int) bool {
	switch {
	case want == "" || want == "*":
		return true
	case want == got:
		*score++
		return true
	default:
		return false
	}
}

// sortedKeys returns m's keys in order, for deterministic error lists.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return slices.Clip(keys)
}

func itoa(i int) string { return strconv.Itoa(i) }
