// Package banktest writes bank files for tests: ISO 20022 camt.053
// statements (version 001.02) made from bankstatement values, each receipt
// an entry of its own, with balances that add up. Tests generate the file
// that pays a statement from the statement's own reference and amount.
package banktest

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/bankstatement"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// Camt053 writes a camt.053.001.02 file with one statement: s's account,
// currency and receipts, and booked balances from s.Opening (zero on the
// first receipt's booking date when nil) to the closing balance the booked
// receipts make. Receipts without a status are booked; without a booking
// date, booked on the value date.
func Camt053(w io.Writer, msgID string, s bankstatement.Statement) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	esc := func(v string) string {
		var b []byte
		b, _ = appendEscaped(b, v)
		return string(b)
	}
	amount := func(a int64) string { return gateway.Money{Amount: a, Currency: s.Currency}.String() }
	var first calendar.Date
	opening := int64(0)
	if s.Opening != nil {
		opening, first = s.Opening.Amount.Amount, s.Opening.Date
	}
	closing := opening
	last := first
	for i := range s.Receipts {
		r := &s.Receipts[i]
		if r.BookingDate.IsZero() {
			r.BookingDate = r.ValueDate
		}
		if r.Status == "" {
			r.Status = bankstatement.Booked
		}
		if first.IsZero() {
			first = r.BookingDate
		}
		if r.BookingDate.Compare(last) > 0 {
			last = r.BookingDate
		}
		if r.Status == bankstatement.Booked {
			closing += r.Signed().Amount
		}
	}
	if last.IsZero() {
		last = first
	}
	balance := func(code string, a int64, d calendar.Date) {
		ind := "CRDT"
		if a < 0 {
			ind, a = "DBIT", -a
		}
		p("<Bal><Tp><CdOrPrtry><Cd>%s</Cd></CdOrPrtry></Tp><Amt Ccy=%q>%s</Amt><CdtDbtInd>%s</CdtDbtInd><Dt><Dt>%s</Dt></Dt></Bal>\n",
			code, s.Currency, amount(a), ind, d)
	}
	p(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	p(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>` + "\n")
	p("<GrpHdr><MsgId>%s</MsgId><CreDtTm>%sT18:00:00Z</CreDtTm></GrpHdr>\n", esc(msgID), last)
	p("<Stmt><Id>%s</Id><CreDtTm>%sT18:00:00Z</CreDtTm>\n", esc(s.ID), last)
	if s.Account.IBAN != "" {
		p("<Acct><Id><IBAN>%s</IBAN></Id><Ccy>%s</Ccy></Acct>\n", esc(s.Account.IBAN), s.Currency)
	} else {
		p("<Acct><Id><Othr><Id>%s</Id></Othr></Id><Ccy>%s</Ccy></Acct>\n", esc(s.Account.Other), s.Currency)
	}
	balance("OPBD", opening, first)
	balance("CLBD", closing, last)
	for i, r := range s.Receipts {
		p("<Ntry><NtryRef>%s</NtryRef><Amt Ccy=%q>%s</Amt><CdtDbtInd>%s</CdtDbtInd>", esc(orDefault(r.EntryRef, fmt.Sprintf("E%06d", i+1))),
			s.Currency, amount(r.Amount.Amount), r.Direction)
		if r.Reversal {
			p("<RvslInd>true</RvslInd>")
		}
		p("<Sts>%s</Sts><BookgDt><Dt>%s</Dt></BookgDt>", r.Status, r.BookingDate)
		if !r.ValueDate.IsZero() {
			p("<ValDt><Dt>%s</Dt></ValDt>", r.ValueDate)
		}
		p("<AcctSvcrRef>%s</AcctSvcrRef>", esc(orDefault(r.BankRef, fmt.Sprintf("B%06d", i+1))))
		p("<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>\n<NtryDtls><TxDtls>")
		if r.EndToEndID != "" {
			p("<Refs><EndToEndId>%s</EndToEndId></Refs>", esc(r.EndToEndID))
		}
		if r.DebtorName != "" || !r.DebtorAccount.IsZero() {
			p("<RltdPties>")
			if r.DebtorName != "" {
				p("<Dbtr><Nm>%s</Nm></Dbtr>", esc(r.DebtorName))
			}
			switch {
			case r.DebtorAccount.IBAN != "":
				p("<DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct>", esc(r.DebtorAccount.IBAN))
			case r.DebtorAccount.Other != "":
				p("<DbtrAcct><Id><Othr><Id>%s</Id></Othr></Id></DbtrAcct>", esc(r.DebtorAccount.Other))
			}
			p("</RltdPties>")
		}
		if r.Remittance != "" || r.CreditorRef != "" {
			p("<RmtInf>")
			if r.Remittance != "" {
				p("<Ustrd>%s</Ustrd>", esc(r.Remittance))
			}
			if r.CreditorRef != "" {
				p("<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>%s</Ref></CdtrRefInf></Strd>", esc(r.CreditorRef))
			}
			p("</RmtInf>")
		}
		p("</TxDtls></NtryDtls></Ntry>\n")
	}
	p("</Stmt></BkToCstmrStmt></Document>\n")
	return bw.Flush()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// appendEscaped appends v escaped as XML character data.
func appendEscaped(b []byte, v string) ([]byte, error) {
	w := &sliceWriter{b: b}
	err := xml.EscapeText(w, []byte(v))
	return w.b, err
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// Credit is a booked credit of amount minor units of ccy, valued on date,
// paying the creditor reference ref from the debtor account.
func Credit(ccy gateway.Currency, amount int64, date calendar.Date, ref, debtorAccount string) bankstatement.Receipt {
	return bankstatement.Receipt{Direction: bankstatement.Credit, Amount: gateway.Money{Amount: amount, Currency: ccy},
		Status: bankstatement.Booked, BookingDate: date, ValueDate: date, CreditorRef: ref,
		DebtorAccount: bankstatement.Account{Other: debtorAccount}}
}
