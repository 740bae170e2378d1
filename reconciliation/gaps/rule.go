package gaps

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// Config tunes the rules. The zero value is the defaults.
type Config struct {
	// SilentDays is the quiet window of silent_platform; default 7.
	SilentDays int
	// TrailingDays is the window before it the platform's usual rate is
	// taken from; default 28.
	TrailingDays int
	// DropPercent: a daily rate in the quiet window more than this many
	// percent below the trailing one is a drop; default 50.
	DropPercent int
	// Large is the amount, per currency in minor units, from which an
	// amount adds to severity; a currency not listed uses 1,000 major
	// units. Default: DefaultLarge.
	Large map[gateway.Currency]int64
}

// DefaultLarge is where amounts start to weigh, for currencies whose
// 1,000 major units are little.
var DefaultLarge = map[gateway.Currency]int64{
	"KRW": 1_000_000,
	"CLP": 1_000_000,
	"INR": 50_000_00,
	"CNY": 5_000_00,
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.SilentDays = cmp.Or(c.SilentDays, 7)
	c.TrailingDays = cmp.Or(c.TrailingDays, 28)
	c.DropPercent = cmp.Or(c.DropPercent, 50)
	if c.Large == nil {
		c.Large = DefaultLarge
	}
	return c
}

// Validate reports a setting out of range as an EINVALID error naming it.
func (c Config) Validate() error {
	switch {
	case c.SilentDays < 0 || c.SilentDays > 366:
		return gateway.Invalid("silent_days", "out_of_range", "silent days are 1 to 366")
	case c.TrailingDays < 0 || c.TrailingDays > 366:
		return gateway.Invalid("trailing_days", "out_of_range", "trailing days are 1 to 366")
	case c.DropPercent < 0 || c.DropPercent > 100:
		return gateway.Invalid("drop_percent", "out_of_range", "the drop is 1 to 100 percent")
	}
	return nil
}

// large is where amounts of currency cur start to weigh.
func (c Config) large(cur gateway.Currency) int64 {
	if l, ok := c.Large[cur]; ok && l > 0 {
		return l
	}
	l := int64(1000)
	for range max(cur.Exponent(), 0) {
		l *= 10
	}
	return l
}

// Severity rates a finding as of now (see the package documentation).
func (c Config) Severity(f *Finding, now time.Time) Severity {
	points := 0
	switch f.Kind {
	case WithheldNotRemitted, Missing:
		points += 2
	case Underpaid, UnregisteredWorker, SilentPlatform:
		points++
	}
	at, l := f.Amount+f.Interest, c.large(f.Currency)
	switch {
	case at >= 10*l:
		points += 2
	case at >= l:
		points++
	}
	age := now.Sub(f.Since)
	switch {
	case age >= 90*24*time.Hour:
		points += 2
	case age >= 30*24*time.Hour:
		points++
	}
	switch {
	case points >= 5:
		return Critical
	case points >= 3:
		return High
	case points >= 1:
		return Medium
	}
	return Low
}

// Outcome is a platform's reconciliation of one scheme period, from the
// latest matching run.
type Outcome struct {
	PlatformID, SchemeID, Period string
	Currency                     gateway.Currency
	Status                       string // paid, overpaid, open, underpaid or missing
	Due, Paid, Shortfall         int64
	DueDate                      time.Time
	Late                         bool  // some part was paid after its due date
	Interest                     int64 // on the parts paid late
	Accrued                      int64 // on what is still open past the due date
	Statements                   []string
	RunID                        int64
	// Advice mismatches: how many workers, the sum of |stated - advised|,
	// a sample of worker keys and the advices.
	Mismatches      int
	MismatchAmount  int64
	MismatchWorkers []string
	MismatchAdvices []string
}

// FromOutcome returns the missing, underpaid, late and advice_mismatch
// findings of an outcome.
func FromOutcome(o *Outcome) []Finding {
	base := Finding{Key: Key{PlatformID: o.PlatformID, SchemeID: o.SchemeID, Period: o.Period}, Currency: o.Currency, Since: o.DueDate,
		Evidence: Evidence{RunID: o.RunID, Statements: o.Statements, DueDate: o.DueDate.Format(time.DateOnly)}}
	m := func(a int64) string { return gateway.Money{Amount: a, Currency: o.Currency}.String() }
	var out []Finding
	switch o.Status {
	case "missing", "underpaid":
		f := base
		f.Kind, f.Amount, f.Interest = Missing, o.Shortfall, o.Accrued
		f.Evidence.Detail = fmt.Sprintf("nothing of %s %s paid", m(o.Due), o.Currency)
		if o.Status == "underpaid" {
			f.Kind = Underpaid
			f.Evidence.Detail = fmt.Sprintf("%s of %s %s paid, %s open", m(o.Paid), m(o.Due), o.Currency, m(o.Shortfall))
		}
		out = append(out, f)
	}
	if o.Late {
		f := base
		f.Kind, f.Interest = Late, o.Interest
		f.Evidence.Detail = fmt.Sprintf("paid after the due date %s; interest %s %s", o.DueDate.Format(time.DateOnly), m(o.Interest), o.Currency)
		out = append(out, f)
	}
	if o.Mismatches > 0 {
		f := base
		f.Kind, f.Amount = AdviceMismatch, o.MismatchAmount
		f.Evidence.Workers, f.Evidence.Advices = o.MismatchWorkers, o.MismatchAdvices
		f.Evidence.Detail = fmt.Sprintf("the advice disagrees with the statements on %d workers by %s %s", o.Mismatches, m(o.MismatchAmount), o.Currency)
		out = append(out, f)
	}
	return out
}

// Suspense is money received that pays no statement.
type Suspense struct {
	ReceiptID   string
	Currency    gateway.Currency
	Amount      int64
	Reason      string // unidentified, unmatched, manual_remainder or undated
	Date        time.Time
	CreditorRef string
	DebtorName  string
	RunID       int64
}

// FromSuspense returns the unmatched_receipt finding of money in suspense.
func FromSuspense(s *Suspense) Finding {
	detail := fmt.Sprintf("%s %s in suspense (%s)", gateway.Money{Amount: s.Amount, Currency: s.Currency}, s.Currency, s.Reason)
	if s.CreditorRef != "" {
		detail += ", reference " + s.CreditorRef
	}
	if s.DebtorName != "" {
		detail += ", from " + s.DebtorName
	}
	return Finding{Key: Key{Kind: UnmatchedReceipt, Subject: s.ReceiptID}, Currency: s.Currency, Amount: s.Amount, Since: s.Date,
		Evidence: Evidence{RunID: s.RunID, Receipts: []string{s.ReceiptID}, Detail: detail}}
}

// Unregistered is the earnings of one worker a platform had not
// registered, per scheme and period.
type Unregistered struct {
	PlatformID, SchemeID, Period string
	Worker                       string // the ledger's worker id: "ref:<platform>:<reference>" or a worker key
	Currency                     gateway.Currency
	Amount                       int64 // contributions of the entries
	Entries                      int64
	First                        time.Time // the first entry recorded
	Events                       []string  // a sample
	Registered                   bool      // a registration exists now
}

// FromUnregistered returns the unregistered_worker finding, or false
// when the worker is registered now or the entries net to nothing.
func FromUnregistered(u *Unregistered) (Finding, bool) {
	if u.Registered || u.Amount <= 0 {
		return Finding{}, false
	}
	return Finding{Key: Key{Kind: UnregisteredWorker, PlatformID: u.PlatformID, SchemeID: u.SchemeID, Period: u.Period, Subject: u.Worker},
		Currency: u.Currency, Amount: u.Amount, Since: u.First,
		Evidence: Evidence{Events: u.Events, Entries: u.Entries,
			Detail: fmt.Sprintf("%d entries of worker %s, not registered with the platform", u.Entries, WorkerRef(u.PlatformID, u.Worker))}}, true
}

// WorkerRef is how a platform knows a worker of the ledger: its own
// reference for an unregistered worker, else the worker key.
func WorkerRef(platformID, worker string) string {
	if p := "ref:" + platformID + ":"; len(worker) > len(p) && worker[:len(p)] == p {
		return worker[len(p):]
	}
	return worker
}

// Activity is a platform's ledger entries around now.
type Activity struct {
	PlatformID string
	Currency   gateway.Currency
	Earned     bool   // the platform has ever had entries
	LastPeriod string // the latest period with entries
	// Entries and contributions in the quiet window (the last SilentDays
	// days) and in the trailing window before it.
	Recent, Trailing             int64
	RecentAmount, TrailingAmount int64
}

// Windows returns the start of the trailing window and of the quiet
// window: the quiet window is the SilentDays whole UTC days before now's
// day and now's day so far; the trailing window the TrailingDays before.
func (c Config) Windows(now time.Time) (trailing, recent time.Time) {
	c = c.WithDefaults()
	recent = now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -c.SilentDays)
	return recent.AddDate(0, 0, -c.TrailingDays), recent
}

// FromActivity returns the silent_platform finding of a platform, or
// false.
func (c Config) FromActivity(a *Activity, now time.Time) (Finding, bool) {
	c = c.WithDefaults()
	_, recent := c.Windows(now)
	if !a.Earned {
		return Finding{}, false
	}
	n, t := int64(c.SilentDays), int64(c.TrailingDays)
	f := Finding{Key: Key{Kind: SilentPlatform, PlatformID: a.PlatformID}, Currency: a.Currency, Since: recent}
	// What the trailing rate would have brought in the quiet window.
	expected := a.TrailingAmount * n / t
	f.Amount = max(expected-a.RecentAmount, 0)
	switch {
	case a.Recent == 0:
		f.Evidence.Detail = fmt.Sprintf("no earnings reported in the %d days since %s", n, recent.Format(time.DateOnly))
		if a.Trailing == 0 && a.LastPeriod != "" {
			f.Evidence.Detail += "; the last were in " + a.LastPeriod
		}
	case a.Trailing > 0 && a.Recent*t*100 < a.Trailing*n*int64(100-c.DropPercent):
		f.Evidence.Detail = fmt.Sprintf("%s entries a day in the %d days since %s against %s in the %d days before, a drop of more than %d%%",
			rate(a.Recent, n), n, recent.Format(time.DateOnly), rate(a.Trailing, t), t, c.DropPercent)
	default:
		return Finding{}, false
	}
	return f, true
}

// rate is entries over days with one decimal, for people.
func rate(entries, days int64) string {
	tenths := (entries*10 + days/2) / days
	return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10)
}

// Withheld is what was withheld for one worker in a period whose
// statements are underpaid or missing past their due date, and is not
// covered by what was paid.
type Withheld struct {
	PlatformID, SchemeID, Period string
	WorkerKey                    string
	Currency                     gateway.Currency
	Amount                       int64 // the worker's withheld share not covered
	Statements                   []string
	DueDate                      time.Time
	RunID                        int64
}

// FromWithheld returns the withheld_not_remitted finding, or false when
// nothing is at stake.
func FromWithheld(w *Withheld) (Finding, bool) {
	if w.Amount <= 0 {
		return Finding{}, false
	}
	return Finding{Key: Key{Kind: WithheldNotRemitted, PlatformID: w.PlatformID, SchemeID: w.SchemeID, Period: w.Period, Subject: w.WorkerKey},
		Currency: w.Currency, Amount: w.Amount, Since: w.DueDate,
		Evidence: Evidence{RunID: w.RunID, Statements: w.Statements, DueDate: w.DueDate.Format(time.DateOnly),
			Detail: fmt.Sprintf("%s %s withheld from the worker and not remitted; the worker's cover is at risk",
				gateway.Money{Amount: w.Amount, Currency: w.Currency}, w.Currency)}}, true
}
