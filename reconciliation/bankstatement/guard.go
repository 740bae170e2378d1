package bankstatement

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// sizeReader reads at most limit+1 bytes through io.LimitReader and counts
// them, so a file over the limit is recognised as such even when the
// truncated XML would also fail to parse.
type sizeReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func newSizeReader(r io.Reader, limit int64) *sizeReader {
	return &sizeReader{r: io.LimitReader(r, limit+1), limit: limit}
}

func (s *sizeReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.n > s.limit {
		return n, errTooLarge
	}
	return n, err
}

func (s *sizeReader) over() bool { return s.n > s.limit }

var errTooLarge = errors.New("input exceeds the size limit")

// frame is one open element.
type frame struct {
	name  string // local name
	line  int    // line of the start tag
	defNS string // default namespace in scope
	idx   int    // 1-based position among its repeated siblings (Stmt, Ntry, TxDtls), else 0
	kids  int    // repeated children seen so far
}

// indexed are the repeated elements whose position error paths give, as in
// "Stmt[1]/Ntry[3]/NtryDtls/TxDtls[2]".
var indexed = map[string]bool{"Stmt": true, "Ntfctn": true, "Ntry": true, "TxDtls": true}

// mark records an element seen while an entry is being decoded, so errors
// found after decoding can name its line.
type mark struct {
	name  string
	depth int
	line  int
}

// guard is the xml.TokenReader between the raw tokenizer and the decoder the
// parser uses. It sees every token, including those DecodeElement and Skip
// consume, and enforces the limits: no DOCTYPE or other directive, nesting
// depth, element counts, and one namespace for every element. It keeps the
// open-element path and line for error messages.
type guard struct {
	raw  *xml.Decoder
	size *sizeReader
	cfg  Config

	stack    []frame
	prefixes map[string]string // prefix → namespace, from xmlns:p declarations
	docNS    string            // namespace of the root element
	elements int

	tokLine      int  // line where the current token starts
	recording    bool // inside an entry: keep marks
	marks        []mark
	entryElems   int
	err          error // first error, sticky
	rootFinished bool
}

func newGuard(r io.Reader, cfg Config) *guard {
	size := newSizeReader(r, cfg.MaxBytes)
	raw := xml.NewDecoder(size)
	raw.Strict = true
	raw.CharsetReader = charsetReader
	return &guard{raw: raw, size: size, cfg: cfg, prefixes: map[string]string{}}
}

// Token implements xml.TokenReader.
func (g *guard) Token() (xml.Token, error) {
	if g.err != nil {
		return nil, g.err
	}
	g.tokLine, _ = g.raw.InputPos()
	tok, err := g.raw.RawToken()
	if err != nil {
		if err == io.EOF {
			if len(g.stack) > 0 {
				return nil, g.fail(CodeSyntax, "the file ends inside element <%s>", g.stack[len(g.stack)-1].name)
			}
			return nil, io.EOF
		}
		return nil, g.translate(err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if err := g.start(t); err != nil {
			return nil, err
		}
	case xml.EndElement:
		if len(g.stack) == 0 {
			return nil, g.fail(CodeSyntax, "unexpected end element </%s>", t.Name.Local)
		}
		g.stack = g.stack[:len(g.stack)-1]
		if len(g.stack) == 0 {
			g.rootFinished = true
		}
	case xml.Directive:
		kind := "declaration"
		if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
			kind = "DOCTYPE"
		}
		g.err = fileError(CodeDoctype, "!"+kind, g.tokLine, "the file contains a %s; bank statements must not declare a DOCTYPE or entities", kind)
		return nil, g.err
	case xml.CharData:
		if len(g.stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
			return nil, g.fail(CodeSyntax, "text outside the document element")
		}
	}
	return tok, nil
}

func (g *guard) start(t xml.StartElement) error {
	if g.rootFinished {
		return g.fail(CodeSyntax, "element <%s> after the end of the document element", t.Name.Local)
	}
	line := g.tokLine
	f := frame{name: t.Name.Local, line: line}
	if n := len(g.stack); n > 0 {
		parent := &g.stack[n-1]
		f.defNS = parent.defNS
		if indexed[f.name] {
			parent.kids++
			f.idx = parent.kids
		}
	}
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			f.defNS = a.Value
		case a.Name.Space == "xmlns":
			g.prefixes[a.Name.Local] = a.Value
		}
	}
	g.stack = append(g.stack, f)
	if len(g.stack) > g.cfg.MaxDepth {
		return g.fail(CodeDepth, "elements nest deeper than %d levels", g.cfg.MaxDepth)
	}
	g.elements++
	if g.elements > g.cfg.MaxElements {
		return g.fail(CodeElementCount, "the file has more than %d elements", g.cfg.MaxElements)
	}
	ns := f.defNS
	if t.Name.Space != "" {
		var ok bool
		if ns, ok = g.prefixes[t.Name.Space]; !ok {
			return g.fail(CodeNamespace, "element <%s:%s> uses an undeclared prefix", t.Name.Space, t.Name.Local)
		}
	}
	if len(g.stack) == 1 {
		g.docNS = ns
	} else if ns != g.docNS {
		return g.fail(CodeNamespace, "element <%s> is in namespace %q, not the document's %q", t.Name.Local, ns, g.docNS)
	}
	if g.recording {
		g.entryElems++
		if g.entryElems > g.cfg.MaxEntryElements {
			return g.fail(CodeElementCount, "the entry has more than %d elements", g.cfg.MaxEntryElements)
		}
		g.marks = append(g.marks, mark{name: f.name, depth: len(g.stack), line: line})
	}
	return nil
}

// record starts keeping marks for a new entry.
func (g *guard) record() {
	g.recording = true
	g.marks = g.marks[:0]
	g.entryElems = 0
}

// translate turns a tokenizer error into the file's rejection.
func (g *guard) translate(err error) error {
	if g.size.over() || errors.Is(err, errTooLarge) {
		g.err = fileError(CodeTooLarge, g.path(), g.line(), "the file is larger than the limit of %d bytes", g.cfg.MaxBytes)
		return g.err
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg := se.Msg
		if strings.Contains(msg, "entity") {
			return g.fail(CodeDoctype, "%s; entities are not allowed in bank statements", msg)
		}
		g.err = fileError(CodeSyntax, g.path(), se.Line, "the file is not well-formed XML: %s", msg)
		return g.err
	}
	return g.fail(CodeSyntax, "the file cannot be read as XML: %v", err)
}

// fail records and returns a rejection at the current place.
func (g *guard) fail(code, format string, args ...any) error {
	if g.err == nil {
		if g.size.over() {
			code, format, args = CodeTooLarge, "the file is larger than the limit of %d bytes", []any{g.cfg.MaxBytes}
		}
		g.err = fileError(code, g.path(), g.line(), format, args...)
	}
	return g.err
}

// line returns the line the tokenizer has reached.
func (g *guard) line() int {
	l, _ := g.raw.InputPos()
	return l
}

// path returns the open elements joined by "/".
func (g *guard) path() string {
	var b strings.Builder
	for i, f := range g.stack {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(f.name)
		if f.idx > 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(f.idx))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// charsetReader accepts the encodings bank exports use besides UTF-8:
// ISO-8859-1 (Latin-1), mapped byte for byte.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		return &latin1Reader{r: input}, nil
	}
	return nil, errors.New("unsupported encoding " + quote(label) + "; use UTF-8 or ISO-8859-1")
}

type latin1Reader struct {
	r   io.Reader
	buf []byte
	out []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.out) == 0 {
		if cap(l.buf) == 0 {
			l.buf = make([]byte, 4096)
		}
		n, err := l.r.Read(l.buf[:min(len(p)/2+1, len(l.buf))])
		l.out = l.out[:0]
		for _, c := range l.buf[:n] {
			if c < 0x80 {
				l.out = append(l.out, c)
			} else {
				l.out = append(l.out, 0xC0|c>>6, 0x80|c&0x3F)
			}
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}
