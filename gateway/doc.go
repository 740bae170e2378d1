// Package gateway is the domain of Coverbridge: exact money, earnings events,
// contribution schemes and the pure rules that turn an earnings event into a
// deduction. It imports only the standard library and does no I/O beyond
// reading scheme-pack files; adapters (gateway/postgres, gateway/kafkabus,
// gateway/httpapi) and the engine depend on it, never the reverse.
//
// # Money
//
// [Money] is int64 minor units plus an ISO 4217 [Currency] whose exponent the
// package knows (KRW and CLP 0, MYR and INR 2). [ParseMoney] reads exact
// decimal strings and refuses more decimals than the currency has; JSON is
// {"currency":"MYR","value":"23.50"} with the value always a string.
// Arithmetic refuses to mix currencies and reports int64 overflow. A [Rate]
// is an exact rational (0.8% is 1/125, "1/1500" per day is 1/1500).
// [ApplyRate] is the one function that multiplies money by a rate; it forms
// the product in 128 bits and rounds with a named [RoundingMode] (half up,
// half even, down, up), each symmetric about zero, so a reversal rounds to
// the exact negative. [Allocate] splits an amount by weights with the largest
// remainder method; the parts always add up to the whole. A test type-checks
// the package and fails on any floating-point value.
//
// # Schemes, plans and versions
//
// A scheme pack (gateway/schemes/*.json, embedded; [BuiltinPacks] or
// [LoadPacks] for a folder) describes one [Scheme]: currency, IANA time zone,
// the source its numbers come from, and [Plan]s. A plan has [PlanVersion]s
// valid from a date (midnight in the scheme's zone) until an optional
// valid_to (exclusive). [Plan.VersionAt] picks the version in force at the
// event's occurred-at. Each version has a period (month, quarter, year),
// computed in the scheme's zone ([PeriodOf]: October 2026 in Kuala Lumpur
// starts at 2026-09-30T16:00Z; years and quarters may start in another
// month, as India's financial year from April, keyed "FY2026"), and one rule
// ([RuleSpec]). Loading is all or
// nothing; a bad file is reported with its name, line and field.
//
// # The flow for one event
//
//  1. The platform reports an [Earning]; [Earning.Validate] lists every bad
//     field by its JSON path.
//  2. The engine picks the plan the worker is on and the version in force,
//     loads the worker's [PeriodState] for (platform, plan, period) and calls
//     [PlanVersion.Deduct], a pure function: (version, event, state before)
//     → ([Deduction], state after). It does not allocate and is deterministic.
//  3. The [Deduction] carries the worker share (withheld), the platform share
//     (paid on top), their total, the plan, version and period key, the
//     event's effect on the period totals, and [Flags] (provisional, capped,
//     share-limited, …). The engine appends it to the ledger and stores the
//     new state in the same transaction.
//  4. A reversal names the original event; [PlanVersion.Reverse] takes the
//     original's deduction and the state of its period and returns the exact
//     negative, changing every period total back by what the original added.
//     Reversing the latest event restores the state before it exactly.
//  5. At period end plus grace, [PlanVersion.Close] applies period-level
//     checks to each worker's state and returns a [Settlement]: explicit
//     [Adjustment]s (refund of provisional deductions below a threshold,
//     true-up of rounding after reversals, refund of excess over a target)
//     and [Notice]s (shortfall against the selected plan, excess to choose
//     about). It never edits a deduction; it records what it settled in the
//     state, so closing again after late events settles only the difference.
//     Entity levies are computed once per platform with [PlanVersion.Levy].
//
// # Rule kinds
//
//   - percentage: worker and platform rates of the base (gross minus the
//     configured exclusions), optional per-transaction minimum and maximum,
//     per-period ceiling on insured earnings, per-period threshold (Korea EI,
//     combinable across platforms at close), month-end target by selected
//     plan (Malaysia Gig Workers Act against SESS). Basis "transaction"
//     rounds each event; basis "period" charges each event the difference
//     between the contribution on the period's running total and what was
//     charged, so the period is rounded once.
//   - capped_percentage: a percentage per transaction capped by a table keyed
//     by sector and vehicle (Karnataka welfare fee).
//   - per_order: a fee per order by sector, vehicle and region, times a
//     platform multiplier within configured bounds and steps (China).
//   - fixed_period: a fixed amount per period withheld progressively, never
//     more than the amount and never more than a share of any one earning
//     (Malaysia SESS plans 1-4).
//   - turnover_levy: a percentage of the platform's turnover capped at a
//     percentage of its payouts, at close (India CoSS s.114).
//
// # Which period totals depend on the order of events
//
// After Close, the worker's and the platform's period totals do not depend on
// the order in which events arrived, reversals and adjustments included, for:
// period-basis percentage and per-order rules (the contribution is a function
// of the period's totals and Close trues up what reversals leave over);
// transaction-basis rules without a period ceiling, capped_percentage and
// transaction-basis per_order (each event's amount depends on that event
// alone); turnover levies (nothing per event). fixed_period totals are
// order-independent for earnings without reversals (the total is the lesser
// of the amount and the sum of each earning's share; the split between worker
// and platform is taken on the running total); a reversal can leave a
// shortfall that later earnings or the close notice make up. Order-dependent:
// the rounding of the event that crosses a per-period ceiling on a
// transaction basis, and which events carry a progressive amount. Between
// events, period-basis deductions may differ by a minor unit from the
// rounded contribution after a reversal; Close settles it. FuzzOrderIndependence
// checks these claims.
//
// Version boundaries of a period-basis rule must fall on period starts (the
// loader rejects anything else), so one period never mixes two rates; a
// transaction-basis rule may change on any day and each event uses the rate in
// force when it occurred.
package gateway
