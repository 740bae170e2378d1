package notice_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/reconciliation/notice"
)

func myr(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: "MYR"} }

func letter() *notice.Letter {
	return &notice.Letter{Number: 7, Date: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), PlatformID: "ridego", PlatformName: "RideGo (Malaysia)",
		Items: []notice.Item{
			{GapID: 11, Kind: "missing", SchemeID: "my-gig", Period: "2026-10", Amount: myr(1234567), Interest: myr(1520),
				References: []string{"RF18MYGW0000012026100000"}, Detail: "nothing of 12345.67 MYR paid"},
			{GapID: 12, Kind: "withheld_not_remitted", SchemeID: "my-gig", Period: "2026-10", Subject: strings.Repeat("ab", 32),
				Amount: myr(4100), References: []string{"RF18MYGW0000012026100000"}},
			{GapID: 13, Kind: "unregistered_worker", SchemeID: "my-gig", Period: "2026-11", Subject: "drv-(9)", Amount: myr(300)},
		}}
}

// text extracts the strings a PDF's uncompressed content streams show
// (Tj operands), undoing the escapes of PDF literal strings.
func text(pdf []byte) string {
	var out strings.Builder
	for _, m := range regexp.MustCompile(`\(((?:[^()\\]|\\.)*)\)\s*Tj`).FindAllSubmatch(pdf, -1) {
		s := m[1]
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					out.WriteByte('\n')
				case 'r', 't':
					out.WriteByte(' ')
				default:
					out.WriteByte(s[i])
				}
				continue
			}
			out.WriteByte(s[i])
		}
		out.WriteByte('\n')
	}
	return out.String()
}

func TestRender(t *testing.T) {
	var buf bytes.Buffer
	if err := notice.Render(&buf, letter(), notice.Options{Uncompressed: true}); err != nil {
		t.Fatal(err)
	}
	pdf := buf.Bytes()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.Contains(pdf[len(pdf)-32:], []byte("%%EOF")) {
		t.Fatalf("not a PDF: %q … %q", pdf[:16], pdf[len(pdf)-16:])
	}
	got := text(pdf)
	for _, want := range []string{
		"Notice 7 of 1 December 2026",
		"To: RideGo (Malaysia) (ridego)",
		"Contributions not received", "MYR 12345.67", "MYR 15.20",
		"Withheld from a worker, not remitted", "abababababababab...",
		"drv-(9)", "Total MYR", "MYR 12389.67",
		"Payment references to use", "RF18MYGW0000012026100000",
		"Register the workers named",
		"Gap 11: nothing of 12345.67 MYR paid",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the letter does not say %q; it says:\n%s", want, got)
		}
	}
	if strings.Count(got, "RF18MYGW0000012026100000") != 1 {
		t.Errorf("the reference is listed %d times, want once", strings.Count(got, "RF18MYGW0000012026100000"))
	}
}

func TestRenderCompressed(t *testing.T) {
	var buf bytes.Buffer
	if err := notice.Render(&buf, letter(), notice.Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || !bytes.Contains(buf.Bytes(), []byte("/FlateDecode")) {
		t.Error("a compressed letter is not a compressed PDF")
	}
}

// A platform that remitted nothing for a thousand workers gets a letter
// of many pages, each numbered.
func TestRenderManyPages(t *testing.T) {
	l := letter()
	for i := range 1000 {
		l.Items = append(l.Items, notice.Item{GapID: int64(100 + i), Kind: "withheld_not_remitted", SchemeID: "my-gig", Period: "2026-10",
			Subject: fmt.Sprintf("%064x", i), Amount: myr(int64(100 + i)), References: []string{"RF18MYGW0000012026100000"}})
	}
	var buf bytes.Buffer
	if err := notice.Render(&buf, l, notice.Options{Uncompressed: true}); err != nil {
		t.Fatal(err)
	}
	got := text(buf.Bytes())
	if strings.Count(got, "Worker\n") < 10 {
		t.Errorf("the table's header is not repeated on each page")
	}
	if !strings.Contains(got, "Notice 7, page 2 of ") || !strings.Contains(got, "1099") || strings.Count(got, "RF18MYGW0000012026100000") != 1 {
		t.Errorf("a long letter: %d bytes, pages numbered %v", buf.Len(), strings.Contains(got, "page 2 of"))
	}
}
