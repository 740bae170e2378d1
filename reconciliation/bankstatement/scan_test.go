package bankstatement

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// scanTokens reads doc with the scanner, up to the first directive, as
// comparable strings; adjacent text is merged.
func scanTokens(doc []byte) ([]string, error) {
	s := newScanner(bytes.NewReader(doc))
	var out []string
	for {
		switch s.next() {
		case tokEOF:
			if s.err != nil {
				return out, s.err
			}
			return out, nil
		case tokStart:
			t := "S " + name(s.prefix, s.local)
			for _, a := range s.attrs {
				t += fmt.Sprintf(" %s=%q", name(a.prefix, a.local), a.value)
			}
			out = append(out, t)
		case tokEnd:
			out = append(out, "E "+name(s.prefix, s.local))
		case tokText:
			out = appendText(out, string(s.text))
		case tokDirective:
			return append(out, "D"), nil
		}
	}
}

// rawTokens reads doc with encoding/xml's strict tokenizer the same way.
func rawTokens(doc []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	d.CharsetReader = charsetReader
	var out []string
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s := "S " + xname(t.Name)
			for _, a := range t.Attr {
				s += fmt.Sprintf(" %s=%q", xname(a.Name), a.Value)
			}
			out = append(out, s)
		case xml.EndElement:
			out = append(out, "E "+xname(t.Name))
		case xml.CharData:
			out = appendText(out, string(t))
		case xml.Directive:
			return append(out, "D"), nil
		}
	}
}

func name(prefix, local []byte) string {
	if len(prefix) > 0 {
		return string(prefix) + ":" + string(local)
	}
	return string(local)
}

func xname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func appendText(out []string, text string) []string {
	if len(out) > 0 && strings.HasPrefix(out[len(out)-1], "T ") {
		out[len(out)-1] += text
		return out
	}
	return append(out, "T "+text)
}

// compareScanners holds the scanner to encoding/xml: the same tokens for
// what both accept, and a rejection for what encoding/xml rejects. The one
// deliberate difference: the scanner accepts a UTF-8 byte order mark.
func compareScanners(t *testing.T, doc []byte) {
	got, gerr := scanTokens(doc)
	want, werr := rawTokens(doc)
	if bytes.HasPrefix(doc, []byte("\xEF\xBB\xBF")) && len(want) > 0 {
		if want[0] = strings.Replace(want[0], "T \ufeff", "T ", 1); want[0] == "T " {
			want = want[1:]
		}
	}
	switch {
	case gerr != nil && werr != nil:
		return
	case gerr == nil && werr == nil:
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("tokens differ for %q:\n got %q\nwant %q", doc, got, want)
		}
	case werr != nil:
		if bytes.HasPrefix(doc, []byte("\xEF\xBB\xBF")) {
			return
		}
		t.Fatalf("encoding/xml rejects %q (%v) but the scanner accepts it: %q", doc, werr, got)
	default:
		t.Fatalf("the scanner rejects %q (%v) but encoding/xml accepts it: %q", doc, gerr, want)
	}
}

var scanSeeds = []string{
	`<a/>`, `<a x="1" y='2'/>`, `<a x="1"y="2"></a>`, `<p:a xmlns:p="u"><p:b/></p:a>`,
	`<a>x &amp; y &lt; &gt; &apos; &quot; &#65; &#x42;</a>`, `<a>&bad;</a>`, `<a>&#;</a>`, `<a>&#x;</a>`, `<a>&amp</a>`,
	`<a>&#12ab;</a>`, `<a>&a b;</a>`, `<a>]]></a>`, `<a x="]]>"/>`, `<a><![CDATA[<x>&amp;]]></a>`, `<a><![CDAT[x]]></a>`,
	`<a><!-- c --></a>`, `<a><!-- c -- c --></a>`, `<a><!---></a>`, `<?xml version="1.0" encoding="UTF-8"?><a/>`,
	`<?xml version="1.1"?><a/>`, `<?xml version="1.0" encoding="ISO-8859-1"?><a>` + "\xe9" + `</a>`, `<?xml encoding="EBCDIC"?><a/>`,
	`<?pi?><a/>`, `<?  ?>`, `<!DOCTYPE a [<!ENTITY x "y">]><a/>`, `<a>` + "\r\n" + `b` + "\r" + `c</a>`, `<a x="` + "\r\n" + `"/>`,
	`<a>` + "\x01" + `</a>`, `<a>` + "\xff" + `</a>`, `<a>&#0;</a>`, `<1a/>`, `<a:b:c/>`, `<:a/>`, `<a:/>`, `</>`, `</a b>`,
	`<a x=1/>`, `<a x/>`, `<a x="<"/>`, `<a / >`, `<a/ >`, `<a`, `<a x="1`, `<a>text`, `<!-`, `<!--`, `<![CDATA[x`, `<?x`,
	`<a>` + "\xc3\xa9" + `</a>`, `<é/>`, `<a é="1"/>`, "\xEF\xBB\xBF<a/>", `<a	x = "1"	/>`, `<a></a >`, `<a></ a>`,
}

func TestScannerMatchesEncodingXML(t *testing.T) {
	for _, s := range scanSeeds {
		compareScanners(t, []byte(s))
	}
	for _, name := range []string{"camt053_v2.xml", "camt053_v8.xml", "camt054_v2.xml", "camt054_v8.xml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		compareScanners(t, b)
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	b, err := os.ReadFile("testdata/camt054_v8.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, doc []byte) {
		done := make(chan bool)
		go func() { defer close(done); scanTokens(doc) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("scanner hangs on %q", doc)
		}
		done2 := make(chan bool)
		go func() { defer close(done2); rawTokens(doc) }()
		select {
		case <-done2:
		case <-time.After(5 * time.Second):
			t.Fatalf("encoding/xml hangs on %q", doc)
		}
		compareScanners(t, doc)
	})
}

// oneByteReader hands out one byte per Read, so every token straddles
// buffer refills.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestScannerSmallReads(t *testing.T) {
	for _, file := range []string{"camt053_v2.xml", "camt053_v8.xml"} {
		b, err := os.ReadFile("testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		want, err := scanTokens(b)
		if err != nil {
			t.Fatal(err)
		}
		s := newScanner(oneByteReader{bytes.NewReader(b)})
		s.buf = make([]byte, 16) // grows as a token needs
		var got []string
		for k := s.next(); k != tokEOF; k = s.next() {
			switch k {
			case tokStart:
				tok := "S " + name(s.prefix, s.local)
				for _, a := range s.attrs {
					tok += fmt.Sprintf(" %s=%q", name(a.prefix, a.local), a.value)
				}
				got = append(got, tok)
			case tokEnd:
				got = append(got, "E "+name(s.prefix, s.local))
			case tokText:
				got = appendText(got, string(s.text))
			}
		}
		if s.err != nil {
			t.Fatal(s.err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: one-byte reads give other tokens", file)
		}
		if s.line != bytes.Count(b, []byte("\n"))+1 {
			t.Errorf("%s: line %d at the end, want %d", file, s.line, bytes.Count(b, []byte("\n"))+1)
		}
	}
	var se *scanError
	s := newScanner(oneByteReader{strings.NewReader("<a>\n<b x='1'\n")})
	for s.next() != tokEOF {
	}
	if !errors.As(error(s.err), &se) || se.msg != "unexpected EOF" || se.line != 3 {
		t.Errorf("err = %+v", s.err)
	}
}
