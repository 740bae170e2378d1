package bankstatement

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// raceEnabled is set by race_test.go when the race detector is on.
var raceEnabled bool

// genCamt053 writes a camt.053.001.08 statement with n entries the way a
// bank's daily export for a busy collection account looks: mostly single
// credit transfers with an RF reference, debtor and account, every tenth a
// batch of three transactions, every hundredth a debit. Balances add up.
func genCamt053(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 1100)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>BENCH-001</MsgId><CreDtTm>2026-11-16T18:30:00+08:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>BENCH-STMT-1</Id>
      <CreDtTm>2026-11-16T18:30:00+08:00</CreDtTm>
      <Acct><Id><Othr><Id>564210002211</Id></Othr></Id><Ccy>MYR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="MYR">1000000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-13</Dt></Dt></Bal>
`)
	closing := int64(1000000_00)
	var entries bytes.Buffer
	for i := range n {
		amt := int64(10_00 + (i*7919)%500_000)
		dir := "CRDT"
		if i%100 == 99 {
			dir = "DBIT"
			closing -= amt
		} else {
			closing += amt
		}
		fmt.Fprintf(&entries, `      <Ntry>
        <NtryRef>E%08d</NtryRef>
        <Amt Ccy="MYR">%s</Amt>
        <CdtDbtInd>%s</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-16</Dt></BookgDt>
        <ValDt><Dt>2026-11-16</Dt></ValDt>
        <AcctSvcrRef>MBB2611160%08d</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
`, i, decimal(amt), dir, i)
		parts := []int64{amt}
		if i%10 == 5 {
			parts = []int64{amt / 3, amt / 3, amt - 2*(amt/3)}
		}
		for k, p := range parts {
			fmt.Fprintf(&entries, `          <TxDtls>
            <Refs><AcctSvcrRef>MBB2611160%08d-%d</AcctSvcrRef><EndToEndId>PLATFORM-%d-2026-10-%d</EndToEndId></Refs>
            <Amt Ccy="MYR">%s</Amt>
            <CdtDbtInd>%s</CdtDbtInd>
            <RltdPties>
              <Dbtr><Pty><Nm>Platform %d Sdn Bhd</Nm></Pty></Dbtr>
              <DbtrAcct><Id><Othr><Id>5140%08d</Id></Othr></Id></DbtrAcct>
            </RltdPties>
            <RmtInf>
              <Ustrd>SOCSO contributions October 2026</Ustrd>
              <Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>RF67SOCS00000H2026100000</Ref></CdtrRefInf></Strd>
            </RmtInf>
          </TxDtls>
`, i, k, i%5000, k, decimal(p), dir, i%5000, i)
		}
		entries.WriteString("        </NtryDtls>\n      </Ntry>\n")
	}
	fmt.Fprintf(&b, `      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="MYR">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-16</Dt></Dt></Bal>
`, decimal(closing))
	b.Write(entries.Bytes())
	b.WriteString("    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n")
	return b.Bytes()
}

func decimal(minor int64) string {
	return gateway.Money{Amount: minor, Currency: "MYR"}.String()
}

// naiveDocument is what a whole-document xml.Unmarshal needs: every entry
// in memory at once, and no checks.
type naiveDocument struct {
	Stmt []struct {
		ID   string  `xml:"Id"`
		Ntry []xNtry `xml:"Ntry"`
	} `xml:"BkToCstmrStmt>Stmt"`
}

// BenchmarkCamt053 reads a generated 100,000-entry camt.053 statement
// three ways in one run: ParseCamt (streaming, checks, all receipts kept),
// Decode (streaming, receipts discarded as they come) and a naive
// xml.Unmarshal of the whole document with no checks, and logs how the
// naive reading compares. A fourth run only tokenizes the document with
// encoding/xml, the floor under any parser built on that package; the
// package's own scanner takes the parser below it.
//
//	go test ./reconciliation/bankstatement -run '^$' -bench Camt053 -benchtime 3x
func BenchmarkCamt053(b *testing.B) {
	const entries = 100_000
	doc := genCamt053(entries)
	b.Logf("document: %d entries, %.1f MB", entries, float64(len(doc))/1e6)
	perOp := map[string]time.Duration{}
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for range b.N {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/entries, "ns/entry")
			perOp[name] = b.Elapsed() / time.Duration(b.N)
		})
	}
	run("ParseCamt", func() error {
		f, err := ParseCamt(bytes.NewReader(doc), Config{})
		if err == nil && len(f.Statements[0].Receipts) != entries+entries/10*2 {
			err = fmt.Errorf("%d receipts", len(f.Statements[0].Receipts))
		}
		return err
	})
	run("Decode", func() error {
		n := 0
		_, err := Decode(bytes.NewReader(doc), Config{}, func(Receipt) error { n++; return nil })
		return err
	})
	run("naive-Unmarshal", func() error {
		var d naiveDocument
		err := xml.Unmarshal(doc, &d)
		if err == nil && len(d.Stmt[0].Ntry) != entries {
			err = fmt.Errorf("%d entries", len(d.Stmt[0].Ntry))
		}
		return err
	})
	// The floor: encoding/xml's tokenizer alone, with no decoding at all.
	run("RawToken-only", func() error {
		d := xml.NewDecoder(bytes.NewReader(doc))
		for {
			if _, err := d.RawToken(); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	})
	if s, n := perOp["ParseCamt"], perOp["naive-Unmarshal"]; s > 0 && n > 0 {
		b.Logf("ParseCamt %v/op, Decode %v/op, naive xml.Unmarshal %v/op, encoding/xml tokenizer alone %v/op: naive/ParseCamt = %.2f, naive/Decode = %.2f, tokenizer alone/ParseCamt = %.2f",
			s.Round(time.Millisecond), perOp["Decode"].Round(time.Millisecond), n.Round(time.Millisecond), perOp["RawToken-only"].Round(time.Millisecond),
			float64(n)/float64(s), float64(n)/float64(perOp["Decode"]), float64(perOp["RawToken-only"])/float64(s))
	}
}

// TestDecodeMemoryBounded reads the 100,000-entry statement through Decode
// and checks that the live heap stays far below the document size: memory
// is bounded by one entry, not by the file.
func TestDecodeMemoryBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds and reads a 100,000-entry document; skipped with -short and -race")
	}
	doc := genCamt053(100_000)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	n := 0
	start := time.Now()
	_, err := Decode(bytes.NewReader(doc), Config{}, func(Receipt) error {
		if n++; n%20_000 == 0 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc-min(m.HeapAlloc, base.HeapAlloc))
		}
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d receipts from %.1f MB in %v; live heap above the document: at most %.1f MB", n, float64(len(doc))/1e6, elapsed, float64(peak)/1e6)
	if peak > 16<<20 {
		t.Errorf("live heap grew by %d bytes while decoding; want it bounded by one entry", peak)
	}
}
