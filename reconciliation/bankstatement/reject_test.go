package bankstatement

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

// Every rejection kind, each with a fixture in testdata/invalid (or a
// limit in Config), the error code, detail code, line, element path and
// a part of the message.
func TestReject(t *testing.T) {
	stmt1 := "Document/BkToCstmrStmt/Stmt[1]"
	tests := []struct {
		file   string
		cfg    Config
		code   string // gateway error code
		detail string
		line   int
		field  string
		msg    string
	}{
		{"namespace_camt052.xml", Config{}, gateway.EINVALID, CodeNamespace, 2, "Document",
			`namespace "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"; want <Document> of camt.053 or camt.054`},
		{"namespace_foreign_element.xml", Config{}, gateway.EINVALID, CodeNamespace, 58, stmt1 + "/Ntry[2]/Note",
			`element <Note> is in namespace "urn:example:notes", not the document's "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"`},
		{"missing_entry_amount.xml", Config{}, gateway.EINVALID, CodeMissing, 151, stmt1 + "/Ntry[5]/Amt",
			"the entry has no amount"},
		{"missing_batch_amount.xml", Config{}, gateway.EINVALID, CodeMissing, 82, stmt1 + "/Ntry[2]/NtryDtls/TxDtls[2]/Amt",
			"transaction 2 of 3 in a batch entry has no amount (Amt)"},
		{"missing_closing_balance.xml", Config{}, gateway.EINVALID, CodeMissing, 9, stmt1 + "/Bal",
			"no closing booked balance"},
		{"amount_malformed.xml", Config{}, gateway.EINVALID, CodeAmount, 33, stmt1 + "/Ntry[1]/Amt",
			`amount "12,345.67" is not an exact MYR amount`},
		{"amount_too_many_decimals.xml", Config{}, gateway.EINVALID, CodeAmount, 33, stmt1 + "/Ntry[1]/Amt",
			`has 3 decimals; the currency has 2`},
		{"amount_krw_fraction.xml", Config{}, gateway.EINVALID, CodeAmount, 248, "Document/BkToCstmrStmt/Stmt[2]/Ntry[2]/Amt",
			`amount "380500.50" is not an exact KRW amount`},
		{"batch_sum.xml", Config{}, gateway.EINVALID, CodeBatchSum, 56, stmt1 + "/Ntry[2]/NtryDtls",
			"the 3 transaction amounts add up to 4560.03 MYR, but the entry amount is 4560.30 MYR"},
		{"balance_mismatch.xml", Config{}, gateway.EINVALID, CodeBalanceMismatch, 25, stmt1 + "/Bal/Tp/CdOrPrtry/Cd=CLBD",
			"opening balance 100000.00 + credits 17885.97 - debits 865.00 = 117020.97 MYR, but the closing balance is 117070.97 MYR (difference 50.00)"},
		{"status_v8_form_in_v2.xml", Config{}, gateway.EINVALID, CodeMissing, 179, stmt1 + "/Ntry[6]/Sts",
			"camt.053.001.02 writes it as <Sts>BOOK</Sts>"},
		{"status_unknown.xml", Config{}, gateway.EINVALID, CodeValue, 35, stmt1 + "/Ntry[1]/Sts/Cd",
			`status "DONE" is not BOOK, PDNG, INFO or FUTR`},
		{"currency_mismatch.xml", Config{}, gateway.EINVALID, CodeCurrency, 199, "Document/BkToCstmrDbtCdtNtfctn/Ntfctn[2]/Ntry[1]/Amt/@Ccy",
			"currency USD differs from the statement's KRW"},
		{"date_invalid.xml", Config{}, gateway.EINVALID, CodeValue, 160, stmt1 + "/Ntry[5]/ValDt",
			`value date "2026-11-31" is not an ISO date`},
		{"doctype_xxe.xml", Config{}, gateway.EINVALID, CodeDoctype, 2, "!DOCTYPE",
			"must not declare a DOCTYPE or entities"},
		{"doctype_billion_laughs.xml", Config{}, gateway.EINVALID, CodeDoctype, 2, "!DOCTYPE",
			"must not declare a DOCTYPE or entities"},
		{"entity_undeclared.xml", Config{}, gateway.EINVALID, CodeDoctype, 92, stmt1 + "/Ntry[2]/NtryDtls/TxDtls[2]/RmtInf/Ustrd",
			"invalid character entity &lol2;"},
		{"syntax_mismatched_tag.xml", Config{}, gateway.EINVALID, CodeSyntax, 150, stmt1 + "/Ntry[4]",
			"element <AcctSvcrRef> closed by </AcctSvcrReff>"},
		{"syntax_truncated.xml", Config{}, gateway.EINVALID, CodeSyntax, 152, stmt1 + "/Ntry[5]",
			"the file ends inside element <Ntry>"},
		{"syntax_trailing_element.xml", Config{}, gateway.EINVALID, CodeSyntax, 284, "",
			"element <Document> after the end of the document element"},
		{"depth.xml", Config{}, gateway.EINVALID, CodeDepth, 149, stmt1 + "/Ntry[4]/Nest/Nest/...",
			"elements nest deeper than 64 levels"},
		// Limits set by Config on a valid file.
		{"../camt053_v8.xml", Config{MaxBytes: 4096}, gateway.ETOOLARGE, CodeTooLarge, 95, stmt1 + "/Ntry[2]/NtryDtls/TxDtls[2]/RmtInf/Strd/CdtrRefInf",
			"the file is larger than the limit of 4096 bytes"},
		{"../camt053_v8.xml", Config{MaxDepth: 6}, gateway.EINVALID, CodeDepth, 15, "Document/BkToCstmrStmt/Stmt[1]/Acct/Id/Othr/Id",
			"elements nest deeper than 6 levels"},
		{"../camt053_v8.xml", Config{MaxElements: 100}, gateway.EINVALID, CodeElementCount, 67, stmt1 + "/Ntry[2]/NtryDtls/TxDtls[1]",
			"the file has more than 100 elements"},
		{"../camt053_v8.xml", Config{MaxEntryElements: 40}, gateway.EINVALID, CodeElementCount, 79, stmt1 + "/Ntry[2]/NtryDtls/TxDtls[1]/RmtInf/Strd/CdtrRefInf/Tp/CdOrPrtry/Cd",
			"the entry has more than 40 elements"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := open(t, "testdata/invalid/"+tt.file)
			defer f.Close()
			file, err := ParseCamt(f, tt.cfg)
			assertRejected(t, file, err, tt.code, tt.detail, tt.line, tt.field, tt.msg)
		})
	}
}

func TestRejectCSV(t *testing.T) {
	tests := []struct {
		file   string
		cfg    Config
		code   string
		detail string
		line   int
		field  string
		msg    string
	}{
		{"csv_missing_column.csv", Config{}, gateway.EINVALID, CodeMissing, 1, "direction", `the header has no "direction" column`},
		{"csv_amount_malformed.csv", Config{}, gateway.EINVALID, CodeAmount, 4, "amount", `amount "1560.3O" is not an exact MYR amount`},
		{"csv_balance_mismatch.csv", Config{}, gateway.EINVALID, CodeBalanceMismatch, 10, "closing_balance",
			"statement KR-1005903123456-2026-11-16: opening balance 25000000 + credits 1630500 - debits 1000 = 26629500 KRW, but the closing balance is 26629000 KRW (difference -500)"},
		{"csv_statement_mismatch.csv", Config{}, gateway.EINVALID, CodeMismatch, 6, "account", `has account "564210002211" on line 2 but "564210002212" here`},
		{"csv_direction_unknown.csv", Config{}, gateway.EINVALID, CodeValue, 7, "direction", `direction "DR" is neither "CRDT" nor "DBIT"`},
		{"csv_syntax_quote.csv", Config{}, gateway.EINVALID, CodeSyntax, 4, "", `bare " in non-quoted-field`},
		{"../statement.csv", Config{MaxBytes: 1000}, gateway.ETOOLARGE, CodeTooLarge, 0, "", "larger than the limit of 1000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := open(t, "testdata/invalid/"+tt.file)
			defer f.Close()
			file, err := ParseCSV(f, CSVMapping{}, tt.cfg)
			assertRejected(t, file, err, tt.code, tt.detail, tt.line, tt.field, tt.msg)
		})
	}
}

// Small documents for the cases a fixture file would only obscure.
func TestRejectInline(t *testing.T) {
	const ns = `xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"`
	tests := []struct {
		name, doc    string
		detail, path string
		line         int
		msg          string
	}{
		{"empty", "", CodeSyntax, "", 1, "the file is empty"},
		{"only a declaration", `<?xml version="1.0"?>`, CodeSyntax, "", 1, "the file is empty"},
		{"text before root", "junk<Document/>", CodeSyntax, "", 1, "text outside the document element"},
		{"wrong root", `<Statement ` + ns + `/>`, CodeNamespace, "Statement", 1, "the root element is <Statement>"},
		{"no namespace", `<Document><BkToCstmrStmt/></Document>`, CodeNamespace, "Document", 1, `in namespace ""`},
		{"camt.054 body in camt.053", `<Document ` + ns + `><BkToCstmrDbtCdtNtfctn/></Document>`, CodeNamespace, "Document/BkToCstmrDbtCdtNtfctn", 1, "a camt.053.001.08 document holds one <BkToCstmrStmt>"},
		{"no message", `<Document ` + ns + `></Document>`, CodeMissing, "", 1, "<Document> has no <BkToCstmrStmt>"},
		{"no statement", `<Document ` + ns + `><BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr></BkToCstmrStmt></Document>`, CodeMissing, "Document/BkToCstmrStmt/Stmt", 0, "the file has no <Stmt>"},
		{"undeclared prefix", `<Document ` + ns + `><p:BkToCstmrStmt/></Document>`, CodeNamespace, "Document/BkToCstmrStmt", 1, "<p:BkToCstmrStmt> uses an undeclared prefix"},
		{"prefixed document", `<c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><c:BkToCstmrDbtCdtNtfctn><c:Ntfctn><c:Id>N</c:Id></c:Ntfctn></c:BkToCstmrDbtCdtNtfctn></c:Document>`, CodeMissing, "Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Acct/Ccy", 1, "names no currency"},
		{"unsupported encoding", `<?xml version="1.0" encoding="EBCDIC"?><Document ` + ns + `/>`, CodeSyntax, "", 1, "unsupported encoding"},
		{"entry before statement id", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Ntry/></Stmt></BkToCstmrStmt></Document>`, CodeMissing, "Document/BkToCstmrStmt/Stmt[1]/Id", 1, "the Stmt has no Id"},
		{"unknown currency", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Acct><Ccy>XYZ</Ccy></Acct></Stmt></BkToCstmrStmt></Document>`, CodeCurrency, "Document/BkToCstmrStmt/Stmt[1]/Acct/Ccy", 1, `unknown currency "XYZ"`},
		{"negative amount", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt Ccy="MYR">-1.00</Amt></Ntry></Stmt></BkToCstmrStmt></Document>`, CodeAmount, "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt", 1, "is negative"},
		{"bad direction", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt Ccy="MYR">1.00</Amt><CdtDbtInd>CR</CdtDbtInd></Ntry></Stmt></BkToCstmrStmt></Document>`, CodeValue, "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/CdtDbtInd", 1, `CdtDbtInd "CR" is not CRDT or DBIT`},
		{"bad reversal flag", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt Ccy="MYR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>maybe</RvslInd></Ntry></Stmt></BkToCstmrStmt></Document>`, CodeValue, "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/RvslInd", 1, `RvslInd "maybe"`},
		{"v2 status in v8", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt Ccy="MYR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry></Stmt></BkToCstmrStmt></Document>`, CodeMissing, "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Sts/Cd", 1, "<Sts><Cd>BOOK</Cd></Sts>"},
		{"transaction direction differs", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt Ccy="MYR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><NtryDtls><TxDtls><Amt Ccy="MYR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>`, CodeValue, "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/NtryDtls/TxDtls[1]/CdtDbtInd", 1, "differs from the entry's CRDT"},
		{"transaction currency differs", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt Ccy="MYR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><NtryDtls><TxDtls><Amt Ccy="SGD">1.00</Amt></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>`, CodeCurrency, "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/NtryDtls/TxDtls[1]/Amt/@Ccy", 1, "differs from the entry's MYR"},
		{"single transaction amount differs", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt Ccy="MYR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><NtryDtls><TxDtls><Amt Ccy="MYR">2.00</Amt></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>`, CodeBatchSum, "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/NtryDtls", 1, "add up to 2.00 MYR, but the entry amount is 1.00 MYR"},
		{"no opening balance", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Acct><Ccy>MYR</Ccy></Acct></Stmt></BkToCstmrStmt></Document>`, CodeMissing, "Document/BkToCstmrStmt/Stmt[1]/Bal", 1, "no opening booked balance"},
		{"no currency", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id></Stmt></BkToCstmrStmt></Document>`, CodeMissing, "Document/BkToCstmrStmt/Stmt[1]/Acct/Ccy", 1, "names no currency"},
		{"balance without amount", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp></Bal></Stmt></BkToCstmrStmt></Document>`, CodeMissing, "Document/BkToCstmrStmt/Stmt[1]/Bal[1]/Amt", 1, "the OPBD balance has no amount"},
		{"balance bad date", `<Document ` + ns + `><BkToCstmrStmt><Stmt><Id>S</Id><Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="MYR">1</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>yesterday</Dt></Dt></Bal></Stmt></BkToCstmrStmt></Document>`, CodeValue, "Document/BkToCstmrStmt/Stmt[1]/Bal[1]/Dt", 1, `date "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, err := ParseCamt(strings.NewReader(tt.doc), Config{})
			assertRejected(t, file, err, gateway.EINVALID, tt.detail, tt.line, tt.path, tt.msg)
		})
	}
}

// A reader error (not a size or syntax problem) is still a rejection.
func TestRejectReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>`), errReader{})
	_, err := ParseCamt(r, Config{})
	var e *gateway.Error
	if !errors.As(err, &e) || e.Details[0].Code != CodeSyntax || !strings.Contains(e.Details[0].Message, "disk on fire") {
		t.Fatalf("err = %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func assertRejected(t *testing.T, file *File, err error, code, detail string, line int, field, msg string) {
	t.Helper()
	if file != nil {
		t.Errorf("a rejected file returned %d statements", len(file.Statements))
	}
	var e *gateway.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *gateway.Error", err, err)
	}
	if len(e.Details) != 1 {
		t.Fatalf("error %v has %d details", e, len(e.Details))
	}
	d := e.Details[0]
	fieldOK := d.Field == field
	if prefix, ok := strings.CutSuffix(field, "..."); ok {
		fieldOK = strings.HasPrefix(d.Field, prefix)
	}
	if e.Code != code || d.Code != detail || d.Line != line || !fieldOK || !strings.Contains(d.Message, msg) {
		t.Errorf("got   %s/%s line %d %q: %s\nwant  %s/%s line %d %q: ...%s...", e.Code, d.Code, d.Line, d.Field, d.Message, code, detail, line, field, msg)
	}
	if !strings.HasPrefix(e.Message, "bank statement rejected: ") {
		t.Errorf("message %q", e.Message)
	}
}

// TestInvalidFixturesCovered keeps every negative fixture in a table.
func TestInvalidFixturesCovered(t *testing.T) {
	ents, err := os.ReadDir("testdata/invalid")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile("reject_test.go")
	for _, e := range ents {
		if !strings.Contains(string(src), `"`+e.Name()+`"`) {
			t.Errorf("testdata/invalid/%s is not in a rejection table", e.Name())
		}
	}
}
