package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/xuri/excelize/v2"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/books"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/reconciliation/report"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
	"github.com/coverbridge/coverbridge/testing/banktest"
)

// reconciledOctober closes October 2026 of kr-ei and my-gig through the
// engine and the books, files advice and imports a bank statement, as of
// 20 November 2026:
//
//   - coupang (KRW): 16,000 due 10 November, 10,000 paid on time, advice of
//     16,000 naming a worker the statement does not have: underpaid, 40
//     accrued (6,000 × 10 days / 1,500);
//   - grab (MYR): RM1.25 due 16 November, RM6.25 paid: overpaid by RM5.00;
//   - kakao (KRW): 32,000 due 10 November, nothing paid: missing, 213
//     accrued;
//   - a receipt of KRW 777 with no reference: in suspense.
func reconciledOctober(t *testing.T) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	db := open(t)
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []postgres.Platform{
		{ID: "coupang", Name: "Delivery", Country: "KR", Currency: "KRW", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "kr-ei", PlanID: "platform-workers"}}},
		{ID: "grab", Name: "Ride", Country: "MY", Currency: "MYR", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}},
		{ID: "kakao", Name: "Taxi", Country: "KR", Currency: "KRW", ActiveFrom: since,
			Schemes: []postgres.PlatformScheme{{SchemeID: "kr-ei", PlanID: "platform-workers"}}},
	} {
		if err := db.CreatePlatform(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	catalog, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
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
	for i, e := range [][5]string{
		{"coupang", "c1", "w1", "2026-10-05T10:00:00+09:00", "1000000"},
		{"kakao", "k1", "t1", "2026-10-06T10:00:00+09:00", "2000000"},
		{"grab", "g1", "d1", "2026-10-03T10:00:00+08:00", "100.00"},
	} {
		cur := "KRW"
		if e[0] == "grab" {
			cur = "MYR"
		}
		v := fmt.Sprintf(`{"event_id":%q,"platform_id":%q,"worker_ref":%q,"occurred_at":%q,"gross":{"currency":%q,"value":%q}}`,
			e[1], e[0], e[2], e[3], cur, e[4])
		msgs = append(msgs, kafka.Message{Topic: "earnings", Offset: int64(i), Value: []byte(v)})
	}
	if err := eng.HandleBatch(ctx, claim, msgs); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"kr-ei", "my-gig"} {
		if _, err := keeper.ClosePeriod(ctx, s, "2026-10"); err != nil {
			t.Fatalf("close %s: %v", s, err)
		}
	}
	ref := func(platform string) statement.Statement {
		sts, err := db.Statements(ctx, postgres.StatementFilter{PlatformID: platform, Period: "2026-10"})
		if err != nil || len(sts) != 1 {
			t.Fatalf("statements of %s: %+v, %v", platform, sts, err)
		}
		return sts[0].Statement
	}
	coupang, grab, kakao := ref("coupang"), ref("grab"), ref("kakao")
	if coupang.Total.Amount != 16000 || grab.Total.Amount != 125 || kakao.Total.Amount != 32000 {
		t.Fatalf("statement totals %v, %v, %v", coupang.Total, grab.Total, kakao.Total)
	}
	krw := func(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: "KRW"} }
	_, err = keeper.SubmitAdvice(ctx, "adv-1", statement.Advice{Platform: "coupang", PaymentReference: coupang.Reference, Amount: krw(16000),
		ValueDate: calendar.D(2026, 11, 9), Lines: []statement.AdviceLine{{WorkerKey: "ghost", Amount: krw(16000)}}})
	if err != nil {
		t.Fatal(err)
	}

	now = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, s := range []bankstatement.Statement{
		{ID: "S-KRW", Account: bankstatement.Account{Other: "KR-COLLECT-01"}, Currency: "KRW", Receipts: []bankstatement.Receipt{
			banktest.Credit("KRW", 10000, calendar.D(2026, 11, 9), coupang.Reference, "110-222-333"),
			banktest.Credit("KRW", 777, calendar.D(2026, 11, 12), "", "999-000"),
		}},
		{ID: "S-MYR", Account: bankstatement.Account{Other: "MY-COLLECT-01"}, Currency: "MYR", Receipts: []bankstatement.Receipt{
			banktest.Credit("MYR", 625, calendar.D(2026, 11, 10), grab.Reference, "564-1"),
		}},
	} {
		var buf bytes.Buffer
		if err := banktest.Camt053(&buf, "MSG-"+s.ID, s); err != nil {
			t.Fatal(err)
		}
		if _, err := keeper.ImportBankFile(ctx, &buf, books.ImportOptions{Name: s.ID + ".xml", By: "finance"}); err != nil {
			t.Fatalf("import %s: %v", s.ID, err)
		}
	}
	return db
}

func TestReconciliationReport(t *testing.T) {
	ctx := context.Background()
	db := reconciledOctober(t)
	var run postgres.ReportRun
	var lines []report.Line
	start := func(r postgres.ReportRun) error { run = r; return nil }
	if err := db.ReconciliationReport(ctx, postgres.ReportFilter{Period: "2026-10"}, start, func(l report.Line) error {
		lines = append(lines, l)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 || !run.AsOf.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("run = %+v", run)
	}
	if len(lines) != 3 || lines[0].PlatformID != "coupang" || lines[1].PlatformID != "grab" || lines[2].PlatformID != "kakao" {
		t.Fatalf("lines = %+v", lines)
	}
	money := func(m gateway.Money, err error) gateway.Money {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	c, g, k := lines[0], lines[1], lines[2]
	if c.PlatformName != "Delivery" || c.SchemeID != "kr-ei" || c.Currency != "KRW" || c.Expected != 16000 || c.Advised != 16000 ||
		money(c.Received()) != (gateway.Money{Amount: 10000, Currency: "KRW"}) || money(c.Variance()).Amount != -6000 ||
		c.InterestAccrued != 40 || money(c.Interest()).Amount != 40 || c.Status != "underpaid" || c.Late ||
		c.DueDate != calendar.D(2026, 11, 10) || len(c.References) != 1 || c.References[0][:2] != "RF" || c.Mismatches != 2 {
		t.Errorf("coupang = %+v", c)
	}
	if g.Currency != "MYR" || g.Expected != 125 || money(g.Received()).Amount != 625 || money(g.Variance()).Amount != 500 ||
		g.Status != "overpaid" || g.DueDate != calendar.D(2026, 11, 16) {
		t.Errorf("grab = %+v", g)
	}
	if k.Expected != 32000 || money(k.Variance()).Amount != -32000 || k.Status != "missing" || k.InterestAccrued <= 0 {
		t.Errorf("kakao = %+v", k)
	}

	// Filters.
	var n int
	count := func(report.Line) error { n++; return nil }
	for _, c := range []struct {
		f    postgres.ReportFilter
		want int
	}{
		{postgres.ReportFilter{Period: "2026-10", SchemeID: "kr-ei"}, 2},
		{postgres.ReportFilter{Period: "2026-10", PlatformID: "grab"}, 1},
		{postgres.ReportFilter{Period: "2026-09"}, 0},
	} {
		n = 0
		if err := db.ReconciliationReport(ctx, c.f, start, count); err != nil || n != c.want {
			t.Errorf("%+v: %d lines, %v; want %d", c.f, n, err, c.want)
		}
	}

	// The XLSX workbook through the store, read back.
	var buf bytes.Buffer
	var rep *report.Reconciliation
	err := db.ReconciliationReport(ctx, postgres.ReportFilter{Period: "2026-10"}, func(r postgres.ReportRun) error {
		rep = report.NewReconciliation(report.NewWriter(report.XLSX, &buf, []report.Field{{Key: "run_id", Value: report.Int(r.ID)}}))
		return nil
	}, func(l report.Line) error { return rep.Add(l) })
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for ref, want := range map[string]string{"A2": "coupang", "I2": "-6,000", "A3": "grab", "I3": "5.00", "F4": "32,000", "O3": "overpaid"} {
		if got, err := f.GetCellValue("lines", ref); err != nil || got != want {
			t.Errorf("lines!%s = %q, %v; want %q", ref, got, err, want)
		}
	}
	for ref, want := range map[string]string{"A2": "KRW", "C2": "48,000", "E2": "10,000", "A3": "MYR", "F3": "5.00"} {
		if got, err := f.GetCellValue("totals", ref); err != nil || got != want {
			t.Errorf("totals!%s = %q, %v; want %q", ref, got, err, want)
		}
	}
}

func TestAgingAndSuspenseReports(t *testing.T) {
	ctx := context.Background()
	db := reconciledOctober(t)
	var items []report.OpenItem
	nop := func(postgres.ReportRun) error { return nil }
	if err := db.AgingReport(ctx, postgres.ReportFilter{}, nop, func(it report.OpenItem) error {
		items = append(items, it)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].PlatformID != "coupang" || items[0].Open != 6000 || items[0].DueDate != calendar.D(2026, 11, 10) ||
		items[1].PlatformID != "kakao" || items[1].Open != 32000 || items[0].StatementID == "" {
		t.Fatalf("open items = %+v", items)
	}
	// As of 20 December both are 40 days past due.
	var buf bytes.Buffer
	a := report.NewAging(report.NewWriter(report.CSV, &buf, nil), calendar.D(2026, 12, 20))
	for _, it := range items {
		if err := a.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	tot := a.Totals()
	if len(tot) != 1 || tot[0].Buckets[report.Days31To60].Amount != 38000 || tot[0].Total.Amount != 38000 {
		t.Errorf("aging totals = %+v", tot)
	}

	var sus []report.SuspenseLine
	if err := db.SuspenseReport(ctx, nop, func(l report.SuspenseLine) error { sus = append(sus, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(sus) != 1 || sus[0].Reason != "unidentified" || sus[0].Amount != (gateway.Money{Amount: 777, Currency: "KRW"}) ||
		sus[0].DebtorAccount != "999-000" || sus[0].ValueDate != calendar.D(2026, 11, 12) || sus[0].Account != "KR-COLLECT-01" {
		t.Errorf("suspense = %+v", sus)
	}
}
