package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
	"github.com/coverbridge/coverbridge/testing/banktest"
	"github.com/coverbridge/coverbridge/testing/kafkatest"
	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// reconPlatform is a Korean delivery platform under employment insurance.
const reconPlatform = "baemin-e2e"

type reconStatement struct {
	ID        string        `json:"id"`
	Reference string        `json:"reference"`
	Period    string        `json:"period"`
	Total     gateway.Money `json:"total"`
	DueDate   string        `json:"due_date"`
	Lines     []struct {
		WorkerKey string        `json:"worker_key"`
		Total     gateway.Money `json:"total"`
	} `json:"lines"`
}

type reconOutcome struct {
	Status    string        `json:"status"`
	Late      bool          `json:"late"`
	Due       gateway.Money `json:"due"`
	Paid      gateway.Money `json:"paid"`
	Shortfall gateway.Money `json:"shortfall"`
	Interest  gateway.Money `json:"interest"`
}

// TestReconciliationEndToEnd follows one period of a platform through the
// running gateway: earnings over HTTP, the engine's deductions, the period
// closed by the operator command, the statement read over HTTP with its RF
// reference, then two camt.053 files from the insurer's bank imported by
// finance: a partial payment on time leaves the period underpaid, the rest
// paid ten days late makes it paid, late, with Korea's arrears charge on
// the late part.
//
// The period is the month that was 60 days ago in Seoul, so its due date
// plus grace has passed on the gateway's own clock.
func TestReconciliationEndToEnd(t *testing.T) {
	ctx := context.Background()
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(seoul)
	mid := now.AddDate(0, 0, -60)
	period := mid.Format("2006-01")
	occurred := time.Date(mid.Year(), mid.Month(), 10, 10, 0, 0, 0, seoul)

	dbURL := pgtest.New(t)
	brokers := kafkatest.Brokers(t)
	s := startServer(t, []string{"DATABASE_URL=" + dbURL, "KAFKA_BROKERS=" + strings.Join(brokers, ",")},
		"--consumer-group", "e2e-"+t.Name(), "--batch-wait", "5ms")
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &postgres.DB{Pool: pool}
	if err := db.CreatePlatform(ctx, postgres.Platform{ID: reconPlatform, Name: "Delivery", Country: "KR", Currency: "KRW",
		ActiveFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), RemittanceAccount: "110-222-333444",
		Schemes: []postgres.PlatformScheme{{SchemeID: "kr-ei", PlanID: "platform-workers"}}}); err != nil {
		t.Fatal(err)
	}
	keys := postgres.NewAccess(db, nil)
	platformKey, _, err := keys.IssueKey(ctx, postgres.NewKey{Role: access.RolePlatform, PlatformID: reconPlatform})
	if err != nil {
		t.Fatal(err)
	}
	financeKey, _, err := keys.IssueKey(ctx, postgres.NewKey{Role: access.RoleFinance})
	if err != nil {
		t.Fatal(err)
	}

	// Earnings: w1 earns KRW 1,000,000 (0.8% + 0.8% = 16,000); w2 earns
	// 500,000, under the 800,000 threshold: provisional, refunded at close.
	var events []string
	for i, e := range []struct{ worker, value string }{{"w1", "600000"}, {"w1", "400000"}, {"w2", "500000"}} {
		events = append(events, fmt.Sprintf(`{"event_id":"e2e-%d","worker_ref":%q,"occurred_at":%q,"gross":{"currency":"KRW","value":%q}}`,
			i, e.worker, occurred.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), e.value))
	}
	code, _, body := apiCall(t, http.MethodPost, s.base+"/v1/earnings", platformKey, "application/json", "["+strings.Join(events, ",")+"]")
	if code != http.StatusAccepted && code != http.StatusOK {
		t.Fatalf("POST /v1/earnings = %d %s", code, body)
	}
	waitFor(t, "three ledger entries", 30*time.Second, func() (bool, error) {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE platform_id = $1`, reconPlatform).Scan(&n)
		return n == 3, err
	})

	// The operator closes the period; closing it again changes nothing.
	for _, want := range []string{"is closed", "already closed"} {
		out, err := exec.Command(binary, "periods", "close", "--scheme", "kr-ei", "--period", period, "--database-url", dbURL).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("periods close: %v\n%s", err, out)
		}
	}

	// The platform reads its statement.
	code, _, body = apiCall(t, http.MethodGet, s.base+"/v1/statements?period="+period, platformKey, "", "")
	var list struct{ Statements []reconStatement }
	if err := json.Unmarshal(body, &list); err != nil || code != http.StatusOK || len(list.Statements) != 1 {
		t.Fatalf("GET /v1/statements = %d %s", code, body)
	}
	code, _, body = apiCall(t, http.MethodGet, s.base+"/v1/statements/"+list.Statements[0].ID, platformKey, "", "")
	var st reconStatement
	if err := json.Unmarshal(body, &st); err != nil || code != http.StatusOK {
		t.Fatalf("GET statement = %d %s", code, body)
	}
	if st.Total.Amount != 16000 || st.Total.Currency != "KRW" || !strings.HasPrefix(st.Reference, "RF") || len(st.Lines) != 2 {
		t.Fatalf("statement = %+v, want KRW 16,000 on two lines with an RF reference", st)
	}
	due, err := calendar.ParseDate(st.DueDate)
	if err != nil {
		t.Fatal(err)
	}

	// The bank's statements: 10,000 two days before the due date, then the
	// remaining 6,000 ten days after it.
	importCamt := func(id string, amount int64, valued calendar.Date) map[string]any {
		t.Helper()
		var buf bytes.Buffer
		err := banktest.Camt053(&buf, "MSG-"+id, bankstatement.Statement{ID: id, Account: bankstatement.Account{Other: "KR-COLLECT-001"},
			Currency: "KRW", Receipts: []bankstatement.Receipt{banktest.Credit("KRW", amount, valued, st.Reference, "110-222-333444")}})
		if err != nil {
			t.Fatal(err)
		}
		code, _, body := apiCall(t, http.MethodPost, s.base+"/v1/finance/bank-statements?file_name="+id+".xml", financeKey, "application/xml", buf.String())
		var rep map[string]any
		if err := json.Unmarshal(body, &rep); err != nil || code != http.StatusCreated {
			t.Fatalf("import %s = %d %s", id, code, body)
		}
		return rep
	}
	outcome := func() reconOutcome {
		t.Helper()
		code, _, body := apiCall(t, http.MethodGet, s.base+"/v1/finance/reconciliation?period="+period+"&platform_id="+reconPlatform, financeKey, "", "")
		var out struct{ Outcomes []reconOutcome }
		if err := json.Unmarshal(body, &out); err != nil || code != http.StatusOK || len(out.Outcomes) != 1 {
			t.Fatalf("GET /v1/finance/reconciliation = %d %s", code, body)
		}
		return out.Outcomes[0]
	}

	importCamt("STMT-A", 10000, due.AddDays(-2))
	if o := outcome(); o.Status != "underpaid" || o.Paid.Amount != 10000 || o.Shortfall.Amount != 6000 || o.Late {
		t.Errorf("after the partial payment: %+v, want underpaid by 6,000", o)
	}
	importCamt("STMT-B", 6000, due.AddDays(10))
	if o := outcome(); o.Status != "paid" || !o.Late || o.Paid.Amount != 16000 || o.Interest.Amount != 40 {
		t.Errorf("after the late payment: %+v, want paid late with KRW 40 interest (6,000 × 10/1,500)", o)
	}

	// The same file again stores nothing; a platform key reaches no
	// finance route.
	var buf bytes.Buffer
	if err := banktest.Camt053(&buf, "MSG-STMT-B", bankstatement.Statement{ID: "STMT-B", Account: bankstatement.Account{Other: "KR-COLLECT-001"},
		Currency: "KRW", Receipts: []bankstatement.Receipt{banktest.Credit("KRW", 6000, due.AddDays(10), st.Reference, "110-222-333444")}}); err != nil {
		t.Fatal(err)
	}
	if code, _, body := apiCall(t, http.MethodPost, s.base+"/v1/finance/bank-statements", financeKey, "application/xml", buf.String()); code != http.StatusOK ||
		!strings.Contains(string(body), `"duplicate":true`) {
		t.Errorf("the same file again = %d %s", code, body)
	}
	if code, _, _ := apiCall(t, http.MethodGet, s.base+"/v1/finance/reconciliation", platformKey, "", ""); code != http.StatusForbidden {
		t.Errorf("platform key on finance = %d, want 403", code)
	}
	s.stop(t)
}
