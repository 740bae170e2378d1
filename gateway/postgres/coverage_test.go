package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/coverage"
	"github.com/coverbridge/coverbridge/testing/banktest"
)

// coverWorld is a database where October 2026 of Malaysia's SESS and Gig
// Workers Act went through the real path: registrations, the engine,
// period close, a bank file and matching.
//
//   - w1 (grab ref g-1, SESS plan 2: RM19.40) earns enough in October for
//     the whole RM19.40; w2 (grab ref g-2) earns RM10.00, so RM5.00 is
//     withheld and close issues a shortfall notice of RM14.40. Both also
//     contribute 1.25% under the Gig Workers Act.
//   - Both earn again in November (not closed).
//   - grab pays the October SESS statement in full, valued 9 November.
//   - w3 is registered with foodpanda only and earns nothing.
type coverWorld struct {
	db      *postgres.DB
	catalog *gateway.Catalog
	keys    map[string]string // ref → worker key
	sess    postgres.IssuedStatement
}

func newCoverWorld(t *testing.T) *coverWorld {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"grab", "foodpanda"} {
		err := db.CreatePlatform(ctx, postgres.Platform{ID: id, Name: id, Country: "MY", Currency: "MYR", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "1"}, {SchemeID: "my-gig", PlanID: "s83"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	w := &coverWorld{db: db, catalog: catalog, keys: map[string]string{}}
	register := func(platform, ref, scheme, plan, sector string) {
		key := fmt.Sprintf("wk-%x", sha256.Sum256([]byte(ref)))[:20]
		w.keys[ref] = key
		r := postgres.Registration{PlatformID: platform, WorkerRef: ref, WorkerKey: key, SchemeID: scheme, Change: postgres.RegistrationStart,
			PlanID: plan, Sector: sector, Effective: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}
		h := sha256.Sum256([]byte(platform + ref + scheme))
		if _, _, err := db.Register(ctx, postgres.NewWorker{WorkerKey: key, Country: "MY", Sealed: []byte("sealed")}, r, h); err != nil {
			t.Fatal(err)
		}
	}
	register("grab", "g-1", "my-sess", "2", "food_delivery")
	register("grab", "g-1", "my-gig", "", "food_delivery")
	register("grab", "g-2", "my-sess", "2", "ride_hailing")
	register("grab", "g-2", "my-gig", "", "ride_hailing")
	register("foodpanda", "f-3", "my-sess", "1", "food_delivery")

	now := time.Date(2026, 11, 5, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	eng := engine.New(engine.Config{Store: db, Catalog: catalog, Now: clock})
	keeper, err := books.New(books.Config{Store: db, Catalog: catalog, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	claim := kafkabus.Claim{Group: "g", Topic: "earnings", Partition: 0, Generation: 1}
	if claim.Epoch, _, err = eng.ClaimPartition(ctx, claim); err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for i, e := range [][3]string{
		{"g-1", "2026-10-05T10:00:00+08:00", "100.00"},
		{"g-2", "2026-10-06T10:00:00+08:00", "10.00"},
		{"g-1", "2026-11-03T10:00:00+08:00", "100.00"},
		{"g-2", "2026-11-04T10:00:00+08:00", "100.00"},
	} {
		v := fmt.Sprintf(`{"event_id":"e%d","platform_id":"grab","worker_ref":%q,"occurred_at":%q,"gross":{"currency":"MYR","value":%q}}`,
			i, e[0], e[1], e[2])
		msgs = append(msgs, kafka.Message{Topic: "earnings", Offset: int64(i), Value: []byte(v)})
	}
	if err := eng.HandleBatch(ctx, claim, msgs); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"my-sess", "my-gig"} {
		if _, err := keeper.ClosePeriod(ctx, s, "2026-10"); err != nil {
			t.Fatalf("close %s: %v", s, err)
		}
	}
	sts, err := db.Statements(ctx, postgres.StatementFilter{PlatformID: "grab", SchemeID: "my-sess", Period: "2026-10"})
	if err != nil || len(sts) != 1 || sts[0].Total.Amount != 2440 {
		t.Fatalf("SESS statements = %+v, %v; want RM24.40", sts, err)
	}
	w.sess = sts[0]
	now = time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	bs := bankstatement.Statement{ID: "S-1109", Account: bankstatement.Account{Other: "MY-COLLECT-01"}, Currency: "MYR",
		Receipts: []bankstatement.Receipt{banktest.Credit("MYR", 2440, calendar.D(2026, 11, 9), w.sess.Reference, "GRAB-01")}}
	if err := banktest.Camt053(&buf, "MSG-1", bs); err != nil {
		t.Fatal(err)
	}
	if _, err := keeper.ImportBankFile(ctx, &buf, books.ImportOptions{Name: "s.xml", By: "finance"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *coverWorld) decide(t *testing.T, ref, platform, date string) map[string]coverage.Answer {
	t.Helper()
	d, err := calendar.ParseDate(date)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := w.db.CoverageFacts(context.Background(), w.catalog, w.keys[ref], platform, d)
	if err != nil {
		t.Fatalf("coverage facts of %s: %v", ref, err)
	}
	out := map[string]coverage.Answer{}
	for _, in := range ins {
		out[in.Scheme.ID] = coverage.Decide(in)
	}
	return out
}

// TestCoverageFacts answers coverage from what the real close and
// matching wrote.
func TestCoverageFacts(t *testing.T) {
	w := newCoverWorld(t)
	tests := []struct {
		ref, platform, date, scheme string
		covered                     bool
		reason, deciding            string
	}{
		{"g-1", "", "2026-11-09", "my-sess", true, coverage.ReasonPaid, "2026-10"},
		{"g-1", "", "2026-11-08", "my-sess", false, coverage.ReasonPaidLater, "2026-10"},
		{"g-1", "", "2026-12-08", "my-sess", true, coverage.ReasonPaid, "2026-10"},
		{"g-1", "grab", "2026-12-09", "my-sess", false, coverage.ReasonCoverEnded, "2026-10"},
		{"g-1", "", "2026-10-20", "my-sess", false, coverage.ReasonNothingWithheld, "2026-09"},
		{"g-2", "", "2026-11-20", "my-sess", false, coverage.ReasonShortfall, "2026-10"},
		{"g-2", "", "2026-12-20", "my-sess", false, coverage.ReasonNotStated, "2026-11"},
		{"g-1", "", "2026-10-01", "my-gig", true, coverage.ReasonWithheld, "2026-10"},
		{"g-2", "grab", "2026-10-31", "my-gig", true, coverage.ReasonWithheld, "2026-10"},
		{"g-1", "", "2026-09-30", "my-gig", false, coverage.ReasonNothingWithheld, "2026-09"},
		{"f-3", "", "2026-11-20", "my-sess", false, coverage.ReasonNothingWithheld, "2026-10"},
	}
	for _, tt := range tests {
		a, ok := w.decide(t, tt.ref, tt.platform, tt.date)[tt.scheme]
		if !ok || a.Covered != tt.covered || a.Reason != tt.reason || a.Deciding != tt.deciding {
			t.Errorf("%s on %s under %s = %v, %s, %s (%s); want %v, %s, %s", tt.ref, tt.date, tt.scheme, a.Covered, a.Reason,
				a.Deciding, a.Why, tt.covered, tt.reason, tt.deciding)
		}
	}
	a := w.decide(t, "g-1", "", "2026-11-09")["my-sess"]
	if len(a.Contributions) != 1 || a.Contributions[0].Total().Amount != 1940 || len(a.Contributions[0].Statements) != 1 {
		t.Fatalf("contributions = %+v", a.Contributions)
	}
	st := a.Contributions[0].Statements[0]
	if st.ID != w.sess.ID || !st.Paid || st.Outcome != "paid" || st.RecognisedOn.String() != "2026-11-09" || st.Line.Amount != 1940 {
		t.Errorf("statement = %+v", st)
	}
	if len(a.Registrations) != 1 || !a.Registrations[0].Active || a.Registrations[0].PlanID != "2" || a.Registrations[0].WorkerRef != "g-1" {
		t.Errorf("registrations = %+v", a.Registrations)
	}
	if g2 := w.decide(t, "g-2", "", "2026-11-20")["my-sess"]; g2.Contributions[0].Shortfall.Amount != 1440 {
		t.Errorf("g-2 shortfall = %+v", g2.Contributions)
	}

	ctx := context.Background()
	day := calendar.D(2026, 11, 9)
	if _, err := w.db.CoverageFacts(ctx, w.catalog, w.keys["g-1"], "foodpanda", day); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("another platform's worker: %v, want not_found", err)
	}
	if _, err := w.db.CoverageFacts(ctx, w.catalog, "nobody", "", day); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("unknown worker: %v, want not_found", err)
	}
	if key, err := w.db.CoverageWorkerKey(ctx, "grab", "g-2"); err != nil || key != w.keys["g-2"] {
		t.Errorf("worker key of g-2 = %q, %v", key, err)
	}
	if _, err := w.db.CoverageWorkerKey(ctx, "foodpanda", "g-2"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("worker key of another platform's ref: %v", err)
	}
}

// TestCoverageStatistics counts active and covered workers and money by
// month over the same world.
func TestCoverageStatistics(t *testing.T) {
	w := newCoverWorld(t)
	ctx := context.Background()
	rows, err := w.db.CoverageStatistics(ctx, w.catalog, postgres.StatisticsQuery{From: calendar.D(2026, 10, 1), To: calendar.D(2026, 11, 1), ByScheme: true})
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		active, covered int64
		due, collected  string
	}
	by := map[string]got{}
	for _, r := range rows {
		g := got{active: r.Active, covered: r.Covered}
		if len(r.Due) > 0 {
			g.due = string(r.Due[0].Currency) + " " + r.Due[0].String()
			g.collected = string(r.Collected[0].Currency) + " " + r.Collected[0].String()
		}
		by[r.Month+" "+r.SchemeID] = g
	}
	want := map[string]got{
		// October: SESS withheld, covers nothing in its own month.
		"2026-10 my-sess": {2, 0, "MYR 24.40", "MYR 24.40"},
		// November: w1 covered from 9 November; w2 short of the plan.
		"2026-11 my-sess": {2, 1, "", ""},
		"2026-10 my-gig":  {2, 2, "MYR 1.38", "MYR 0.00"},
		"2026-11 my-gig":  {2, 2, "", ""},
	}
	for k, v := range want {
		if by[k] != v {
			t.Errorf("%s = %+v, want %+v", k, by[k], v)
		}
	}
	if len(by) != len(want) {
		t.Errorf("rows = %+v", rows)
	}

	rows, err = w.db.CoverageStatistics(ctx, w.catalog, postgres.StatisticsQuery{From: calendar.D(2026, 11, 1), To: calendar.D(2026, 11, 1),
		ByScheme: true, BySector: true, ByPlatform: true})
	if err != nil {
		t.Fatal(err)
	}
	var sess []string
	for _, r := range rows {
		if r.Due != nil {
			t.Errorf("a row by sector carries money: %+v", r)
		}
		if r.SchemeID == "my-sess" {
			sess = append(sess, fmt.Sprintf("%s %s %d/%d", r.PlatformID, r.Sector, r.Covered, r.Active))
		}
	}
	if fmt.Sprint(sess) != "[grab food_delivery 1/1 grab ride_hailing 0/1]" {
		t.Errorf("SESS November by platform and sector = %v", sess)
	}

	rows, err = w.db.CoverageStatistics(ctx, w.catalog, postgres.StatisticsQuery{From: calendar.D(2026, 11, 1), To: calendar.D(2026, 11, 1)})
	if err != nil || len(rows) != 1 || rows[0].Active != 2 || rows[0].Covered != 2 {
		t.Errorf("November, all schemes = %+v, %v; want both workers, covered under one scheme or another", rows, err)
	}
}
