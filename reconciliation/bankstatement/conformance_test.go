package bankstatement

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// The conformance suite: every format's parser reads its fixture of the
// same bank day and must produce exactly these statements and receipts. The
// fixtures hold two accounts (MYR and KRW) with a batch entry of three
// transactions, a reversal, debits, a pending credit, RF references, an
// IBAN and domestic account numbers, and Hangul text.

const (
	stmtMY = "MY-564210002211-2026-11-16"
	stmtKR = "KR-1005903123456-2026-11-16"
)

var (
	nov13 = calendar.D(2026, 11, 13)
	nov16 = calendar.D(2026, 11, 16)
	nov17 = calendar.D(2026, 11, 17)
)

func myr(s string) gateway.Money { return gateway.MustParseMoney("MYR", s) }
func krw(s string) gateway.Money { return gateway.MustParseMoney("KRW", s) }

type wantStatement struct {
	id               string
	account          Account
	currency         gateway.Currency
	opening, closing *Balance
	credits, debits  gateway.Money
}

var wantStatements = []wantStatement{
	{stmtMY, Account{Other: "564210002211"}, "MYR",
		&Balance{myr("100000.00"), nov13}, &Balance{myr("117020.97"), nov16}, myr("17885.97"), myr("865.00")},
	{stmtKR, Account{Other: "1005903123456"}, "KRW",
		&Balance{krw("25000000"), nov13}, &Balance{krw("26629500"), nov16}, krw("1630500"), krw("1000")},
}

var wantReceipts = []Receipt{
	{StatementID: stmtMY, EntryRef: "NTRY-0001", BankRef: "MBB261116000101", EndToEndID: "LAJU-SOCSO-2026-10",
		Direction: Credit, Amount: myr("12345.67"), Status: Booked, BookingDate: nov16, ValueDate: nov16,
		CreditorRef: "RF67SOCS00000H2026100000", Remittance: "SOCSO contributions October 2026",
		DebtorName: "LajuRide Technologies Sdn Bhd", DebtorAccount: Account{Other: "514012345678"}},
	// Batch entry NTRY-0002 (MYR 4,560.30) split into its three transactions.
	{StatementID: stmtMY, EntryRef: "NTRY-0002", BankRef: "MBB261116000102-1", EndToEndID: "PAYHUB-88120-1",
		Direction: Credit, Amount: myr("2000.00"), Status: Booked, BookingDate: nov16, ValueDate: nov16,
		CreditorRef: "RF83SOCS00000N2026100000",
		DebtorName:  "Kedai Runner Sdn Bhd", DebtorAccount: Account{Other: "162011009988"}},
	{StatementID: stmtMY, EntryRef: "NTRY-0002", BankRef: "MBB261116000102-2", EndToEndID: "PAYHUB-88120-2",
		Direction: Credit, Amount: myr("1560.30"), Status: Booked, BookingDate: nov16, ValueDate: nov16,
		CreditorRef: "RF72SOCS00000V2026100000", Remittance: "Caruman Oktober 2026",
		DebtorName: "Jom Hantar Sdn Bhd", DebtorAccount: Account{Other: "800123456701"}},
	{StatementID: stmtMY, EntryRef: "NTRY-0002", BankRef: "MBB261116000102-3", EndToEndID: "PAYHUB-88120-3",
		Direction: Credit, Amount: myr("1000.00"), Status: Booked, BookingDate: nov16, ValueDate: nov16,
		CreditorRef: "RF14SOCS0000162026100001", Remittance: "Supplementary statement 1",
		DebtorName: "Tukang Cepat Sdn Bhd", DebtorAccount: Account{Other: "701099887766"}},
	// A returned credit: a debit with the reversal indicator.
	{StatementID: stmtMY, EntryRef: "NTRY-0003", BankRef: "MBB261116000103", EndToEndID: "SEWA-SOCSO-2026-09",
		Direction: Debit, Amount: myr("850.00"), Status: Booked, Reversal: true, BookingDate: nov16, ValueDate: nov16,
		Remittance: "Return of credit of 2026-11-12: account closed",
		DebtorName: "Sewa Motor Express Sdn Bhd", DebtorAccount: Account{Other: "398800112233"}},
	// A bank fee: an entry without transaction details.
	{StatementID: stmtMY, EntryRef: "NTRY-0004", BankRef: "MBB261116000104",
		Direction: Debit, Amount: myr("15.00"), Status: Booked, BookingDate: nov16, ValueDate: nov16},
	// Cross-border credit from an IBAN, value-dated before booking, end-to-end id NOTPROVIDED.
	{StatementID: stmtMY, EntryRef: "NTRY-0005", BankRef: "MBB261116000105",
		Direction: Credit, Amount: myr("980.00"), Status: Booked, BookingDate: nov16, ValueDate: nov13,
		Remittance: "SOCSO OCT 2026 PLATFORM 58",
		DebtorName: "Orbit Couriers Ltd", DebtorAccount: Account{IBAN: "GB29NWBK60161331926819"}},
	// Pending: not in the booked balance, no booking date.
	{StatementID: stmtMY, EntryRef: "NTRY-0006", BankRef: "MBB261116000106", EndToEndID: "LAJU-SOCSO-2026-10-ADJ",
		Direction: Credit, Amount: myr("500.00"), Status: Pending, ValueDate: nov17,
		CreditorRef: "RF67SOCS00000H2026100000",
		DebtorName:  "LajuRide Technologies Sdn Bhd", DebtorAccount: Account{Other: "514012345678"}},
	{StatementID: stmtKR, EntryRef: "NTRY-1001", BankRef: "WRB20261116A0001", EndToEndID: "BARO-IACI-202610",
		Direction: Credit, Amount: krw("1250000"), Status: Booked, BookingDate: nov16, ValueDate: nov16,
		CreditorRef: "RF86KRIA0000072026100000", Remittance: "산재보험료 2026년 10월",
		DebtorName: "바로배달 주식회사", DebtorAccount: Account{Other: "110123456789"}},
	{StatementID: stmtKR, EntryRef: "NTRY-1002", BankRef: "WRB20261116A0002", EndToEndID: "DDK-202610-0042",
		Direction: Credit, Amount: krw("380500"), Status: Booked, BookingDate: nov16, ValueDate: nov16,
		Remittance: "IACI 2026-10 RF97 KRIA 0000 0C20 2610 0000",
		DebtorName: "Ddingdong Quick Co., Ltd.", DebtorAccount: Account{Other: "3333012345678"}},
	{StatementID: stmtKR, EntryRef: "NTRY-1003", BankRef: "WRB20261116A0003",
		Direction: Debit, Amount: krw("1000"), Status: Booked, BookingDate: nov16, ValueDate: nov16},
}

// formats is every parser with its fixture of the bank day.
var formats = []struct {
	name     string
	file     string
	format   Format
	messages string
	balances bool
	parse    func(io.Reader) (*File, error)
}{
	{"camt.053 v2", "testdata/camt053_v2.xml", Camt053V2, "STMT-V2-20261116-001", true, camt},
	{"camt.053 v8", "testdata/camt053_v8.xml", Camt053V8, "STMT-V8-20261116-001", true, camt},
	{"camt.054 v2", "testdata/camt054_v2.xml", Camt054V2, "NTFCTN-V2-20261116-001", false, camt},
	{"camt.054 v8", "testdata/camt054_v8.xml", Camt054V8, "NTFCTN-V8-20261116-001", false, camt},
	{"CSV", "testdata/statement.csv", CSV, "", true, func(r io.Reader) (*File, error) { return ParseCSV(r, CSVMapping{}, Config{}) }},
	{"camt.053 v8 streamed", "testdata/camt053_v8.xml", Camt053V8, "STMT-V8-20261116-001", true, decodeAll},
}

func camt(r io.Reader) (*File, error) { return ParseCamt(r, Config{}) }

// decodeAll reads through Decode and puts the streamed receipts back into
// their statements, so the streaming path passes the same suite.
func decodeAll(r io.Reader) (*File, error) {
	var got []Receipt
	f, err := Decode(r, Config{}, func(rc Receipt) error { got = append(got, rc); return nil })
	if err != nil {
		return nil, err
	}
	for i := range f.Statements {
		if f.Statements[i].Receipts != nil {
			return nil, fmt.Errorf("Decode kept receipts in statement %d", i)
		}
		for _, rc := range got {
			if rc.StatementID == f.Statements[i].ID {
				f.Statements[i].Receipts = append(f.Statements[i].Receipts, rc)
			}
		}
	}
	return f, nil
}

func TestConformance(t *testing.T) {
	for _, tt := range formats {
		t.Run(tt.name, func(t *testing.T) {
			f := open(t, tt.file)
			defer f.Close()
			file, err := tt.parse(f)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if file.Format != tt.format || file.MessageID != tt.messages {
				t.Errorf("format %q message %q, want %q %q", file.Format, file.MessageID, tt.format, tt.messages)
			}
			if len(file.Statements) != len(wantStatements) {
				t.Fatalf("%d statements, want %d", len(file.Statements), len(wantStatements))
			}
			for i, w := range wantStatements {
				s := file.Statements[i]
				if s.ID != w.id || s.Account != w.account || s.Currency != w.currency || s.Credits != w.credits || s.Debits != w.debits {
					t.Errorf("statement %d = %s %v %s credits %v debits %v; want %s %v %s %v %v",
						i, s.ID, s.Account, s.Currency, s.Credits, s.Debits, w.id, w.account, w.currency, w.credits, w.debits)
				}
				wantOpen, wantClose := w.opening, w.closing
				if !tt.balances {
					wantOpen, wantClose = nil, nil
				}
				if !reflect.DeepEqual(s.Opening, wantOpen) || !reflect.DeepEqual(s.Closing, wantClose) {
					t.Errorf("statement %d balances %v %v, want %v %v", i, s.Opening, s.Closing, wantOpen, wantClose)
				}
				if s.Line <= 0 {
					t.Errorf("statement %d has no line", i)
				}
			}
			got := file.Receipts()
			if len(got) != len(wantReceipts) {
				t.Fatalf("%d receipts, want %d", len(got), len(wantReceipts))
			}
			for i, w := range wantReceipts {
				g := got[i]
				if g.Line <= 0 {
					t.Errorf("receipt %d has no line", i)
				}
				g.Line = 0 // evidence, differs per format
				if !reflect.DeepEqual(g, w) {
					t.Errorf("receipt %d differs:\n%s", i, diffFields(g, w))
				}
			}
		})
	}
}

// TestBatchLines checks that a split batch keeps the line of each
// transaction, for evidence.
func TestBatchLines(t *testing.T) {
	f := open(t, "testdata/camt053_v2.xml")
	defer f.Close()
	file, err := ParseCamt(f, Config{})
	if err != nil {
		t.Fatal(err)
	}
	lines := fixtureLines(t, "testdata/camt053_v2.xml")
	for _, r := range file.Receipts()[1:4] {
		if !strings.Contains(lines[r.Line-1], "<TxDtls>") {
			t.Errorf("receipt %s line %d is %q, want a <TxDtls> start", r.BankRef, r.Line, lines[r.Line-1])
		}
	}
	if r := file.Receipts()[5]; !strings.Contains(lines[r.Line-1], "<Ntry>") {
		t.Errorf("entry without details: line %d is %q", r.Line, lines[r.Line-1])
	}
}

func TestSignedAndAccount(t *testing.T) {
	r := Receipt{Direction: Debit, Amount: myr("15.00")}
	if got := r.Signed(); got != myr("-15.00") {
		t.Errorf("Signed = %v", got)
	}
	if (Account{Other: "1"}).String() != "1" || (Account{IBAN: "GB29NWBK60161331926819", Other: "x"}).String() != "GB29NWBK60161331926819" || !(Account{}).IsZero() {
		t.Error("Account")
	}
	for s, want := range map[string]bool{"GB29NWBK60161331926819": true, "GB29NWBK60161331926818": false, "564210002211": false, "gb29NWBK60161331926819": false, "DE89370400440532013000": true} {
		if isIBAN(s) != want {
			t.Errorf("isIBAN(%s) != %v", s, want)
		}
	}
}

func diffFields(got, want Receipt) string {
	var b strings.Builder
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			fmt.Fprintf(&b, "  %s: got %v, want %v\n", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
	return b.String()
}

func open(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fixtureLines(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

// Bank exports in ISO-8859-1 are read as such.
func TestLatin1(t *testing.T) {
	doc := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" +
		`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn>` +
		`<GrpHdr><MsgId>L1</MsgId><CreDtTm>2026-11-16T10:00:00</CreDtTm></GrpHdr>` +
		`<Ntfctn><Id>N1</Id><CreDtTm>2026-11-16T10:00:00</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>` +
		`<Ntry><Amt Ccy="EUR">10.5</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><DtTm>2026-11-16T23:30:00+09:00</DtTm></BookgDt>` +
		`<BkTxCd/><NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Soci` + "\xe9t\xe9" + ` G` + "\xe9n\xe9" + `rale</Nm></Dbtr></RltdPties></TxDtls></NtryDtls></Ntry>` +
		`</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`
	file, err := ParseCamt(strings.NewReader(doc), Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := file.Receipts()[0]
	if r.DebtorName != "Société Générale" || r.Amount != gateway.MustParseMoney("EUR", "10.50") || r.BookingDate != calendar.D(2026, 11, 16) {
		t.Errorf("receipt %+v", r)
	}
	if s := file.Statements[0]; s.Account.IBAN != "DE89370400440532013000" || s.Opening != nil {
		t.Errorf("statement %+v", s)
	}
}
