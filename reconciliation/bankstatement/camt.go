package bankstatement

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/calendar"
)

// message describes one supported ISO 20022 message.
type message struct {
	format Format
	root   string // child of Document
	item   string // repeated statement element
}

var messages = map[string]message{
	"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02": {Camt053V2, "BkToCstmrStmt", "Stmt"},
	"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": {Camt053V8, "BkToCstmrStmt", "Stmt"},
	"urn:iso:std:iso:20022:tech:xsd:camt.054.001.02": {Camt054V2, "BkToCstmrDbtCdtNtfctn", "Ntfctn"},
	"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08": {Camt054V8, "BkToCstmrDbtCdtNtfctn", "Ntfctn"},
}

func (m message) v8() bool        { return m.format == Camt053V8 || m.format == Camt054V8 }
func (m message) statement() bool { return m.format == Camt053V2 || m.format == Camt053V8 }

// ParseCamt reads a camt.053 or camt.054 file (version 001.02 or 001.08,
// told apart by the namespace) into a File with every receipt. Any error is
// a *gateway.Error rejecting the whole file; see the package comment.
func ParseCamt(r io.Reader, cfg Config) (*File, error) {
	p := newCamtParser(r, cfg)
	p.keep = true
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.file, nil
}

// Decode reads a camt.053 or camt.054 file like ParseCamt, but hands each
// receipt to emit as soon as its entry is read instead of keeping it, so a
// file of any number of entries is read in the memory of one entry. The
// returned statements have no Receipts.
//
// A statement is only known to balance at its end, and a later statement
// may fail, so emit must stage what it receives and the caller commit it
// only when Decode returns nil. An error from emit stops Decode and is
// returned as is.
func Decode(r io.Reader, cfg Config, emit func(Receipt) error) (*File, error) {
	p := newCamtParser(r, cfg)
	p.emit = emit
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.file, nil
}

type camtParser struct {
	g    *guard
	msg  message
	file *File
	emit func(Receipt) error
	keep bool
	text []byte // text of the element being read
	// short holds recent short values (currencies, codes, dates) by a
	// hash of their bytes, so repeated values are allocated once.
	short [1024]string
}

// str returns b as a string, reusing a recent equal short value.
func (p *camtParser) str(b []byte) string {
	if len(b) == 0 || len(b) > 16 {
		return string(b)
	}
	h := uint(len(b))
	for _, c := range b {
		h = h*31 + uint(c)
	}
	h &= uint(len(p.short) - 1)
	if s := p.short[h]; s == string(b) {
		return s
	}
	s := string(b)
	p.short[h] = s
	return s
}

func newCamtParser(r io.Reader, cfg Config) *camtParser {
	return &camtParser{g: newGuard(r, cfg.withDefaults()), file: &File{}}
}

// stopped returns the error that ended the token stream inside an element:
// the guard's rejection.
func (p *camtParser) stopped() error {
	if p.g.err != nil {
		return p.g.err
	}
	return p.g.fail(CodeSyntax, "the file ends inside element <%s>", p.g.stack[len(p.g.stack)-1].name)
}

func (p *camtParser) run() error {
	for {
		k := p.g.next()
		if k == tokStart {
			break
		}
		if k == tokEOF {
			if p.g.err != nil {
				return p.g.err
			}
			return fileError(CodeSyntax, "", 1, "the file is empty or holds no XML element")
		}
	}
	msg, ok := messages[p.g.docNS]
	if root := p.g.stack[0].name; root != "Document" || !ok {
		return p.g.fail(CodeNamespace, "the root element is <%s> in namespace %q; want <Document> of camt.053 or camt.054, version 001.02 or 001.08", root, p.g.docNS)
	}
	p.msg = msg
	p.file.Format = msg.format
	seen := false
	err := p.children(func(name []byte) error {
		if string(name) != msg.root || seen {
			return p.g.fail(CodeNamespace, "<Document> holds <%s>; a %s document holds one <%s>", name, msg.format, msg.root)
		}
		seen = true
		return p.message()
	})
	if err != nil {
		return err
	}
	if !seen {
		return p.g.fail(CodeMissing, "<Document> has no <%s>", msg.root)
	}
	// Nothing but comments and white space may follow; the guard rejects
	// anything else.
	for p.g.next() != tokEOF {
	}
	if p.g.err != nil {
		return p.g.err
	}
	if len(p.file.Statements) == 0 {
		return fileError(CodeMissing, "Document/"+msg.root+"/"+msg.item, 0, "the file has no <%s>", msg.item)
	}
	return nil
}

// children reads the children of the element just started up to its end
// tag, calling f with the local name of each child element, which f must
// read whole (decoding it or skipping it). Text directly inside the
// element is ignored.
func (p *camtParser) children(f func(name []byte) error) error {
	for {
		switch p.g.next() {
		case tokEnd:
			return nil
		case tokStart:
			if err := f(p.g.s.local); err != nil {
				return err
			}
		case tokEOF:
			return p.stopped()
		}
	}
}

// skip reads the element just started, and all inside it, to its end tag.
func (p *camtParser) skip() error {
	depth := 1
	for {
		switch p.g.next() {
		case tokStart:
			depth++
		case tokEnd:
			if depth--; depth == 0 {
				return nil
			}
		case tokEOF:
			return p.stopped()
		}
	}
}

// textOf reads the text directly inside the element just started, skipping
// any child elements, as encoding/xml fills a string field.
func (p *camtParser) textOf(dst *string) error {
	p.text = p.text[:0]
	for {
		switch p.g.next() {
		case tokText:
			p.text = append(p.text, p.g.s.text...)
		case tokStart:
			if err := p.skip(); err != nil {
				return err
			}
		case tokEnd:
			*dst = p.str(p.text)
			return nil
		case tokEOF:
			return p.stopped()
		}
	}
}

// amount reads an Amt element: its Ccy attribute and its text.
func (p *camtParser) amount(dst **xAmt) error {
	a := &xAmt{}
	for _, at := range p.g.s.attrs {
		if string(at.local) == "Ccy" {
			a.Ccy = p.str(at.value)
		}
	}
	*dst = a
	return p.textOf(&a.Value)
}

func (p *camtParser) date(d *xDate) error {
	return p.children(func(name []byte) error {
		switch string(name) {
		case "Dt":
			return p.textOf(&d.Dt)
		case "DtTm":
			return p.textOf(&d.DtTm)
		}
		return p.skip()
	})
}

func (p *camtParser) account(a *xAcct) error {
	return p.children(func(name []byte) error {
		switch string(name) {
		case "Id":
			return p.children(func(name []byte) error {
				switch string(name) {
				case "IBAN":
					return p.textOf(&a.Id.IBAN)
				case "Othr":
					return p.children(func(name []byte) error {
						if string(name) == "Id" {
							return p.textOf(&a.Id.Othr.Id)
						}
						return p.skip()
					})
				}
				return p.skip()
			})
		case "Ccy":
			return p.textOf(&a.Ccy)
		}
		return p.skip()
	})
}

func (p *camtParser) bal(b *xBal) error {
	return p.children(func(name []byte) error {
		switch string(name) {
		case "Tp":
			return p.children(func(name []byte) error {
				if string(name) != "CdOrPrtry" {
					return p.skip()
				}
				return p.children(func(name []byte) error {
					switch string(name) {
					case "Cd":
						return p.textOf(&b.Tp.CdOrPrtry.Cd)
					case "Prtry":
						return p.textOf(&b.Tp.CdOrPrtry.Prtry)
					}
					return p.skip()
				})
			})
		case "Amt":
			return p.amount(&b.Amt)
		case "CdtDbtInd":
			return p.textOf(&b.CdtDbtInd)
		case "Dt":
			return p.date(&b.Dt)
		}
		return p.skip()
	})
}

func (p *camtParser) ntry(x *xNtry) error {
	return p.children(func(name []byte) error {
		switch string(name) {
		case "NtryRef":
			return p.textOf(&x.NtryRef)
		case "Amt":
			return p.amount(&x.Amt)
		case "CdtDbtInd":
			return p.textOf(&x.CdtDbtInd)
		case "RvslInd":
			return p.textOf(&x.RvslInd)
		case "Sts":
			return p.status(&x.Sts)
		case "BookgDt":
			x.BookgDt = &xDate{}
			return p.date(x.BookgDt)
		case "ValDt":
			x.ValDt = &xDate{}
			return p.date(x.ValDt)
		case "AcctSvcrRef":
			return p.textOf(&x.AcctSvcrRef)
		case "NtryDtls":
			x.NtryDtls = append(x.NtryDtls, xNtryDtls{})
			d := &x.NtryDtls[len(x.NtryDtls)-1]
			return p.children(func(name []byte) error {
				if string(name) != "TxDtls" {
					return p.skip()
				}
				d.TxDtls = append(d.TxDtls, xTx{})
				return p.tx(&d.TxDtls[len(d.TxDtls)-1])
			})
		}
		return p.skip()
	})
}

// status reads Sts in both forms: its own text (v2) and Cd or Prtry (v8).
func (p *camtParser) status(st *xStatus) error {
	p.text = p.text[:0]
	for {
		switch p.g.next() {
		case tokText:
			p.text = append(p.text, p.g.s.text...)
		case tokStart:
			var err error
			switch string(p.g.s.local) {
			case "Cd":
				text := append([]byte(nil), p.text...)
				err = p.textOf(&st.Cd)
				p.text = append(p.text[:0], text...)
			case "Prtry":
				text := append([]byte(nil), p.text...)
				err = p.textOf(&st.Prtry)
				p.text = append(p.text[:0], text...)
			default:
				err = p.skip()
			}
			if err != nil {
				return err
			}
		case tokEnd:
			st.Text = p.str(p.text)
			return nil
		case tokEOF:
			return p.stopped()
		}
	}
}

func (p *camtParser) party(x *xParty) error {
	return p.children(func(name []byte) error {
		switch string(name) {
		case "Nm":
			return p.textOf(&x.Nm)
		case "Pty":
			return p.children(func(name []byte) error {
				if string(name) == "Nm" {
					return p.textOf(&x.Pty.Nm)
				}
				return p.skip()
			})
		}
		return p.skip()
	})
}

func (p *camtParser) tx(t *xTx) error {
	return p.children(func(name []byte) error {
		switch string(name) {
		case "Refs":
			return p.children(func(name []byte) error {
				switch string(name) {
				case "AcctSvcrRef":
					return p.textOf(&t.Refs.AcctSvcrRef)
				case "EndToEndId":
					return p.textOf(&t.Refs.EndToEndID)
				}
				return p.skip()
			})
		case "Amt":
			return p.amount(&t.Amt)
		case "CdtDbtInd":
			return p.textOf(&t.CdtDbtInd)
		case "AmtDtls":
			return p.children(func(name []byte) error {
				if string(name) != "TxAmt" {
					return p.skip()
				}
				return p.children(func(name []byte) error {
					if string(name) == "Amt" {
						return p.amount(&t.AmtDtls.TxAmt.Amt)
					}
					return p.skip()
				})
			})
		case "RltdPties":
			return p.children(func(name []byte) error {
				switch string(name) {
				case "Dbtr":
					return p.party(&t.RltdPties.Dbtr)
				case "DbtrAcct":
					t.RltdPties.DbtrAcct = &xAcct{}
					return p.account(t.RltdPties.DbtrAcct)
				}
				return p.skip()
			})
		case "RmtInf":
			return p.children(func(name []byte) error {
				switch string(name) {
				case "Ustrd":
					t.RmtInf.Ustrd = append(t.RmtInf.Ustrd, "")
					return p.textOf(&t.RmtInf.Ustrd[len(t.RmtInf.Ustrd)-1])
				case "Strd":
					t.RmtInf.Strd = append(t.RmtInf.Strd, xStrd{})
					strd := &t.RmtInf.Strd[len(t.RmtInf.Strd)-1]
					return p.children(func(name []byte) error {
						if string(name) != "CdtrRefInf" {
							return p.skip()
						}
						return p.children(func(name []byte) error {
							if string(name) == "Ref" {
								return p.textOf(&strd.CdtrRefInf.Ref)
							}
							return p.skip()
						})
					})
				}
				return p.skip()
			})
		}
		return p.skip()
	})
}

// message reads the children of BkToCstmrStmt or BkToCstmrDbtCdtNtfctn.
func (p *camtParser) message() error {
	return p.children(func(name []byte) error {
		switch string(name) {
		case "GrpHdr":
			return p.children(func(name []byte) error {
				if string(name) != "MsgId" {
					return p.skip()
				}
				var id string
				err := p.textOf(&id)
				p.file.MessageID = strings.TrimSpace(id)
				return err
			})
		case p.msg.item:
			return p.statement(len(p.file.Statements) + 1)
		}
		return p.skip()
	})
}

type xAmt struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type xDate struct {
	Dt   string `xml:"Dt"`
	DtTm string `xml:"DtTm"`
}

type xAcct struct {
	Id struct {
		IBAN string `xml:"IBAN"`
		Othr struct {
			Id string `xml:"Id"`
		} `xml:"Othr"`
	} `xml:"Id"`
	Ccy string `xml:"Ccy"`
}

func (a *xAcct) account() Account {
	return Account{IBAN: strings.TrimSpace(a.Id.IBAN), Other: strings.TrimSpace(a.Id.Othr.Id)}
}

type xBal struct {
	Tp struct {
		CdOrPrtry struct {
			Cd    string `xml:"Cd"`
			Prtry string `xml:"Prtry"`
		} `xml:"CdOrPrtry"`
	} `xml:"Tp"`
	Amt       *xAmt  `xml:"Amt"`
	CdtDbtInd string `xml:"CdtDbtInd"`
	Dt        xDate  `xml:"Dt"`
}

type xNtry struct {
	NtryRef     string      `xml:"NtryRef"`
	Amt         *xAmt       `xml:"Amt"`
	CdtDbtInd   string      `xml:"CdtDbtInd"`
	RvslInd     string      `xml:"RvslInd"`
	Sts         xStatus     `xml:"Sts"`
	BookgDt     *xDate      `xml:"BookgDt"`
	ValDt       *xDate      `xml:"ValDt"`
	AcctSvcrRef string      `xml:"AcctSvcrRef"`
	NtryDtls    []xNtryDtls `xml:"NtryDtls"`
}

type xNtryDtls struct {
	TxDtls []xTx `xml:"TxDtls"`
}

// xStatus holds both forms: <Sts>BOOK</Sts> (v2) and <Sts><Cd>BOOK</Cd></Sts> (v8).
type xStatus struct {
	Text  string `xml:",chardata"`
	Cd    string `xml:"Cd"`
	Prtry string `xml:"Prtry"`
}

type xParty struct {
	Nm  string `xml:"Nm"` // v2
	Pty struct {
		Nm string `xml:"Nm"` // v8
	} `xml:"Pty"`
}

type xTx struct {
	Refs struct {
		AcctSvcrRef string `xml:"AcctSvcrRef"`
		EndToEndID  string `xml:"EndToEndId"`
	} `xml:"Refs"`
	Amt       *xAmt  `xml:"Amt"` // v8
	CdtDbtInd string `xml:"CdtDbtInd"`
	AmtDtls   struct {
		TxAmt struct {
			Amt *xAmt `xml:"Amt"`
		} `xml:"TxAmt"`
	} `xml:"AmtDtls"`
	RltdPties struct {
		Dbtr     xParty `xml:"Dbtr"`
		DbtrAcct *xAcct `xml:"DbtrAcct"`
	} `xml:"RltdPties"`
	RmtInf struct {
		Ustrd []string `xml:"Ustrd"`
		Strd  []xStrd  `xml:"Strd"`
	} `xml:"RmtInf"`
}

type xStrd struct {
	CdtrRefInf struct {
		Ref string `xml:"Ref"`
	} `xml:"CdtrRefInf"`
}

// statement reads one Stmt or Ntfctn, whose start tag was just read.
func (p *camtParser) statement(index int) error {
	path := fmt.Sprintf("Document/%s/%s[%d]", p.msg.root, p.msg.item, index)
	s := Statement{Line: p.g.stack[len(p.g.stack)-1].line}
	var (
		acctCcy         string
		opening, closed *Balance
		prcd            *Balance
		closedLine      int
		entries         int
		balances        int
	)
	setCurrency := func(code, field string, line int) error {
		if s.Currency != "" {
			if string(s.Currency) != code {
				return fileError(CodeCurrency, field, line, "currency %s differs from the statement's %s", code, s.Currency)
			}
			return nil
		}
		c, err := gateway.LookupCurrency(code)
		if err != nil {
			return fileError(CodeCurrency, field, line, "unknown currency %s", quote(code))
		}
		s.Currency = c
		return nil
	}
	for {
		switch p.g.next() {
		case tokEnd:
			return p.endStatement(&s, path, opening, prcd, closed, closedLine)
		case tokEOF:
			return p.stopped()
		case tokText:
			continue
		}
		line := p.g.stack[len(p.g.stack)-1].line
		switch string(p.g.s.local) {
		case "Id":
			var id string
			if err := p.textOf(&id); err != nil {
				return err
			}
			s.ID = strings.TrimSpace(id)
		case "Acct":
			var a xAcct
			if err := p.account(&a); err != nil {
				return err
			}
			s.Account = a.account()
			if acctCcy = strings.TrimSpace(a.Ccy); acctCcy != "" {
				if err := setCurrency(acctCcy, path+"/Acct/Ccy", line); err != nil {
					return err
				}
			}
		case "Bal":
			var b xBal
			if err := p.bal(&b); err != nil {
				return err
			}
			balances++
			bal, kind, err := p.balance(&b, fmt.Sprintf("%s/Bal[%d]", path, balances), line, setCurrency)
			if err != nil {
				return err
			}
			switch kind {
			case "OPBD":
				opening = bal
			case "PRCD":
				prcd = bal
			case "CLBD":
				closed, closedLine = bal, line
			}
		case "Ntry":
			entries++
			if s.ID == "" {
				return fileError(CodeMissing, path+"/Id", s.Line, "the %s has no Id", p.msg.item)
			}
			stmtPath, n := path, entries
			entryPath := func() string { return fmt.Sprintf("%s/Ntry[%d]", stmtPath, n) }
			if err := p.entry(&s, entryPath, line, setCurrency); err != nil {
				return err
			}
		default:
			if err := p.skip(); err != nil {
				return err
			}
		}
	}
}

func (p *camtParser) endStatement(s *Statement, path string, opening, prcd, closing *Balance, closingLine int) error {
	if s.ID == "" {
		return fileError(CodeMissing, path+"/Id", s.Line, "the %s has no Id", p.msg.item)
	}
	if s.Currency == "" {
		return fileError(CodeMissing, path+"/Acct/Ccy", s.Line, "the %s names no currency: no Acct/Ccy, balance or entry", p.msg.item)
	}
	if p.msg.statement() {
		if opening == nil {
			opening = prcd
		}
		if opening == nil {
			return fileError(CodeMissing, path+"/Bal", s.Line, "the statement has no opening booked balance (Bal/Tp/CdOrPrtry/Cd OPBD or PRCD)")
		}
		if closing == nil {
			return fileError(CodeMissing, path+"/Bal", s.Line, "the statement has no closing booked balance (Bal/Tp/CdOrPrtry/Cd CLBD)")
		}
		s.Opening, s.Closing = opening, closing
	}
	zero := gateway.Money{Currency: s.Currency}
	s.Credits.Currency, s.Debits.Currency = zero.Currency, zero.Currency
	if msg, ok := checkBalance(s); !ok {
		return fileError(CodeBalanceMismatch, path+"/Bal/Tp/CdOrPrtry/Cd=CLBD", closingLine, "%s", msg)
	}
	p.file.Statements = append(p.file.Statements, *s)
	return nil
}

func (p *camtParser) balance(b *xBal, path string, line int, setCurrency func(string, string, int) error) (*Balance, string, error) {
	kind := strings.TrimSpace(b.Tp.CdOrPrtry.Cd)
	if kind != "OPBD" && kind != "PRCD" && kind != "CLBD" {
		return nil, "", nil // available and interim balances are not checked
	}
	if b.Amt == nil {
		return nil, "", fileError(CodeMissing, path+"/Amt", line, "the %s balance has no amount", kind)
	}
	if err := setCurrency(strings.TrimSpace(b.Amt.Ccy), path+"/Amt/@Ccy", line); err != nil {
		return nil, "", err
	}
	m, msg, ok := parseAmount(b.Amt.Ccy, b.Amt.Value)
	if !ok {
		return nil, "", fileError(CodeAmount, path+"/Amt", line, "%s balance: %s", kind, msg)
	}
	switch strings.TrimSpace(b.CdtDbtInd) {
	case "CRDT":
	case "DBIT":
		m.Amount = -m.Amount
	default:
		return nil, "", fileError(CodeValue, path+"/CdtDbtInd", line, "%s balance: CdtDbtInd %s is not CRDT or DBIT", kind, quote(b.CdtDbtInd))
	}
	d, ok := parseDate(&b.Dt)
	if !ok {
		return nil, "", fileError(CodeValue, path+"/Dt", line, "%s balance: date %s is not an ISO date or date-time", kind, quote(b.Dt.Dt+b.Dt.DtTm))
	}
	return &Balance{Amount: m, Date: d}, kind, nil
}

// entry decodes one Ntry, whose start tag was just read, and emits its
// receipts.
func (p *camtParser) entry(s *Statement, path func() string, line int, setCurrency func(string, string, int) error) error {
	depth := len(p.g.stack)
	p.g.record()
	var x xNtry
	err := p.ntry(&x)
	p.g.recording = false
	if err != nil {
		return err
	}
	at := func(tx int, names ...string) int { return p.locate(depth, line, tx, names...) }

	if x.Amt == nil {
		return fileError(CodeMissing, path()+"/Amt", line, "the entry has no amount")
	}
	if err := setCurrency(strings.TrimSpace(x.Amt.Ccy), path()+"/Amt/@Ccy", at(0, "Amt")); err != nil {
		return err
	}
	amt, msg, ok := parseAmount(x.Amt.Ccy, x.Amt.Value)
	if !ok {
		return fileError(CodeAmount, path()+"/Amt", at(0, "Amt"), "%s", msg)
	}
	dir := Direction(strings.TrimSpace(x.CdtDbtInd))
	if dir != Credit && dir != Debit {
		return fileError(CodeValue, path()+"/CdtDbtInd", at(0, "CdtDbtInd"), "CdtDbtInd %s is not CRDT or DBIT", quote(x.CdtDbtInd))
	}
	var reversal bool
	switch strings.TrimSpace(x.RvslInd) {
	case "", "false", "0":
	case "true", "1":
		reversal = true
	default:
		return fileError(CodeValue, path()+"/RvslInd", at(0, "RvslInd"), "RvslInd %s is not true or false", quote(x.RvslInd))
	}
	status, stsPath := Status(strings.TrimSpace(x.Sts.Text)), "/Sts"
	if p.msg.v8() {
		status, stsPath = Status(strings.TrimSpace(x.Sts.Cd)), "/Sts/Cd"
	}
	switch status {
	case Booked, Pending, Info, Future:
	case "":
		form := "<Sts>BOOK</Sts>"
		if p.msg.v8() {
			form = "<Sts><Cd>BOOK</Cd></Sts>"
		}
		return fileError(CodeMissing, path()+stsPath, at(0, "Sts"), "the entry has no status; %s writes it as %s", p.msg.format, form)
	default:
		return fileError(CodeValue, path()+stsPath, at(0, "Sts"), "status %s is not BOOK, PDNG, INFO or FUTR", quote(string(status)))
	}
	var booking, value calendar.Date
	if x.BookgDt != nil {
		if booking, ok = parseDate(x.BookgDt); !ok {
			return fileError(CodeValue, path()+"/BookgDt", at(0, "BookgDt"), "booking date %s is not an ISO date or date-time", quote(x.BookgDt.Dt+x.BookgDt.DtTm))
		}
	}
	if x.ValDt != nil {
		if value, ok = parseDate(x.ValDt); !ok {
			return fileError(CodeValue, path()+"/ValDt", at(0, "ValDt"), "value date %s is not an ISO date or date-time", quote(x.ValDt.Dt+x.ValDt.DtTm))
		}
	}
	base := Receipt{
		StatementID: s.ID,
		EntryRef:    strings.TrimSpace(x.NtryRef),
		BankRef:     strings.TrimSpace(x.AcctSvcrRef),
		Direction:   dir,
		Amount:      amt,
		Status:      status,
		Reversal:    reversal,
		BookingDate: booking,
		ValueDate:   value,
		Line:        line,
	}
	if status == Booked {
		if err := addBooked(s, amt, dir); err != nil {
			return fileError(CodeAmount, path()+"/Amt", line, "statement totals overflow: %s", gateway.ErrorMessage(err))
		}
	}

	var txs []*xTx
	for i := range x.NtryDtls {
		for j := range x.NtryDtls[i].TxDtls {
			txs = append(txs, &x.NtryDtls[i].TxDtls[j])
		}
	}
	if len(txs) == 0 {
		return p.receipt(s, base)
	}
	// Validate every transaction before emitting any, so a bad batch
	// leaves nothing behind.
	receipts := make([]Receipt, len(txs))
	var sum int64
	for k, tx := range txs {
		n := k + 1
		txPath := func() string { return fmt.Sprintf("%s/NtryDtls/TxDtls[%d]", path(), n) }
		r := base
		r.Line = at(n)
		a, amtPath := tx.AmtDtls.TxAmt.Amt, "/AmtDtls/TxAmt/Amt"
		if p.msg.v8() && tx.Amt != nil {
			a, amtPath = tx.Amt, "/Amt"
		}
		switch {
		case a == nil && len(txs) > 1:
			want := "AmtDtls/TxAmt/Amt"
			if p.msg.v8() {
				want = "Amt"
			}
			return fileError(CodeMissing, txPath()+"/"+want, r.Line, "transaction %d of %d in a batch entry has no amount (%s)", n, len(txs), want)
		case a != nil:
			where := at(n, strings.Split(amtPath[1:], "/")...)
			if strings.TrimSpace(a.Ccy) != string(s.Currency) {
				return fileError(CodeCurrency, txPath()+amtPath+"/@Ccy", where, "transaction currency %s differs from the entry's %s", quote(a.Ccy), s.Currency)
			}
			m, msg, ok := parseAmount(a.Ccy, a.Value)
			if !ok {
				return fileError(CodeAmount, txPath()+amtPath, where, "%s", msg)
			}
			r.Amount = m
		}
		if d := strings.TrimSpace(tx.CdtDbtInd); d != "" && Direction(d) != dir {
			return fileError(CodeValue, txPath()+"/CdtDbtInd", at(n, "CdtDbtInd"), "transaction CdtDbtInd %s differs from the entry's %s", quote(d), dir)
		}
		sum += r.Amount.Amount
		if ref := strings.TrimSpace(tx.Refs.AcctSvcrRef); ref != "" {
			r.BankRef = ref
		}
		r.EndToEndID = endToEnd(tx.Refs.EndToEndID)
		for _, strd := range tx.RmtInf.Strd {
			if ref := strings.TrimSpace(strd.CdtrRefInf.Ref); ref != "" {
				r.CreditorRef = ref
				break
			}
		}
		r.Remittance = joinLines(tx.RmtInf.Ustrd)
		r.DebtorName = strings.TrimSpace(tx.RltdPties.Dbtr.Nm)
		if p.msg.v8() {
			r.DebtorName = strings.TrimSpace(tx.RltdPties.Dbtr.Pty.Nm)
		}
		if tx.RltdPties.DbtrAcct != nil {
			r.DebtorAccount = tx.RltdPties.DbtrAcct.account()
		}
		receipts[k] = r
	}
	if sum != amt.Amount {
		total := gateway.Money{Amount: sum, Currency: amt.Currency}
		return fileError(CodeBatchSum, path()+"/NtryDtls", line, "the %d transaction amounts add up to %s %s, but the entry amount is %s %s", len(txs), total, amt.Currency, amt, amt.Currency)
	}
	for _, r := range receipts {
		if err := p.receipt(s, r); err != nil {
			return err
		}
	}
	return nil
}

func (p *camtParser) receipt(s *Statement, r Receipt) error {
	if p.keep {
		s.Receipts = append(s.Receipts, r)
	}
	if p.emit != nil {
		return p.emit(r)
	}
	return nil
}

// locate returns the line of an element inside the entry being read: the
// tx-th TxDtls (tx ≥ 1, or the entry itself for 0), then names as a path
// of children below it. It falls back to the deepest element found, and to
// line, the entry's own line.
func (p *camtParser) locate(ntryDepth, line, tx int, names ...string) int {
	marks := p.g.marks
	idx, depth := -1, ntryDepth
	if tx > 0 {
		n := 0
		for i, m := range marks {
			if m.name == "TxDtls" && m.depth == ntryDepth+2 {
				if n++; n == tx {
					idx, depth = i, m.depth
					break
				}
			}
		}
		if idx < 0 {
			return line
		}
	}
	for _, name := range names {
		found := false
		for i := idx + 1; i < len(marks) && (idx < 0 || marks[i].depth > depth); i++ {
			if marks[i].depth == depth+1 && marks[i].name == name {
				idx, depth, found = i, depth+1, true
				break
			}
		}
		if !found {
			break
		}
	}
	if idx < 0 {
		return line
	}
	return marks[idx].line
}

// parseDate reads Dt (YYYY-MM-DD) or DtTm (an ISO date-time, with or without
// a zone), taking the calendar date as written.
func parseDate(x *xDate) (calendar.Date, bool) {
	if s := strings.TrimSpace(x.Dt); s != "" {
		d, err := calendar.ParseDate(s)
		return d, err == nil
	}
	s := strings.TrimSpace(x.DtTm)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return calendar.DateOf(t), true
		}
	}
	return calendar.Date{}, false
}

// endToEnd drops the placeholder ISO 20022 uses for "no end-to-end id", so
// it never matches two unrelated payments.
func endToEnd(s string) string {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "NOTPROVIDED") {
		return ""
	}
	return s
}

func joinLines(lines []string) string {
	var parts []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
