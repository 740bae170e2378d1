package bankstatement

import (
	"bytes"
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
	name   string // local name
	prefix string
	line   int    // line of the start tag
	defNS  string // default namespace in scope
	idx    int    // 1-based position among its repeated siblings (Stmt, Ntry, TxDtls), else 0
	kids   int    // repeated children seen so far
}

// indexed reports whether name is a repeated element whose position error
// paths give, as in "Stmt[1]/Ntry[3]/NtryDtls/TxDtls[2]".
func indexed(name string) bool {
	switch name {
	case "Stmt", "Ntfctn", "Ntry", "TxDtls":
		return true
	}
	return false
}

// mark records an element seen while an entry is being decoded, so errors
// found after decoding can name its line.
type mark struct {
	name  string
	depth int
	line  int
}

// guard sits between the scanner and the parser. It sees every token,
// including those the parser skips, and enforces the limits: no DOCTYPE or
// other directive, nesting depth, element counts, matching end tags, and
// one namespace for every element. It keeps the open-element path and line
// for error messages.
type guard struct {
	s    *scanner
	size *sizeReader
	cfg  Config

	stack    []frame
	prefixes map[string]string // prefix → namespace, from xmlns:p declarations
	docNS    string            // namespace of the root element
	elements int
	names    map[string]string // element names seen, so each is allocated once
	recent   [256]string       // names by a hash of their bytes, before the map

	tokLine      int  // line where the current token starts
	recording    bool // inside an entry: keep marks
	marks        []mark
	entryElems   int
	err          error // first error, sticky
	rootFinished bool
}

// maxNames bounds the table of interned element names; a file with more
// distinct names than a camt message has still parses, allocating them.
const maxNames = 4096

func newGuard(r io.Reader, cfg Config) *guard {
	size := newSizeReader(r, cfg.MaxBytes)
	return &guard{s: newScanner(size), size: size, cfg: cfg, prefixes: map[string]string{}, names: map[string]string{}}
}

// next reads the next token for the parser: tokStart, tokEnd, tokText or,
// at the end of the document or on any rejection (then g.err is set),
// tokEOF. The current token's name, attributes and text are the scanner's.
func (g *guard) next() tokKind {
	if g.err != nil {
		return tokEOF
	}
	k := g.s.next()
	g.tokLine = g.s.tokLine
	if g.s.err != nil {
		g.translate(g.s.err)
		return tokEOF
	}
	switch k {
	case tokEOF:
		if len(g.stack) > 0 {
			g.fail(CodeSyntax, "the file ends inside element <%s>", g.stack[len(g.stack)-1].name)
		}
		return tokEOF
	case tokStart:
		if g.start() != nil {
			return tokEOF
		}
	case tokEnd:
		if len(g.stack) == 0 {
			g.fail(CodeSyntax, "unexpected end element </%s>", g.s.local)
			return tokEOF
		}
		open := g.stack[len(g.stack)-1]
		g.stack = g.stack[:len(g.stack)-1]
		if open.name != string(g.s.local) {
			g.fail(CodeSyntax, "the file is not well-formed XML: element <%s> closed by </%s>", open.name, g.s.local)
			return tokEOF
		}
		if open.prefix != string(g.s.prefix) {
			g.fail(CodeSyntax, "the file is not well-formed XML: element <%s> in space %s closed by </%s> in space %s", open.name, open.prefix, g.s.local, g.s.prefix)
			return tokEOF
		}
		if len(g.stack) == 0 {
			g.rootFinished = true
		}
	case tokDirective:
		kind := "declaration"
		if g.s.directiveIsDoctype() {
			kind = "DOCTYPE"
		}
		g.err = fileError(CodeDoctype, "!"+kind, g.tokLine, "the file contains a %s; bank statements must not declare a DOCTYPE or entities", kind)
		return tokEOF
	case tokText:
		if len(g.stack) == 0 && len(bytes.TrimSpace(g.s.text)) > 0 {
			g.fail(CodeSyntax, "text outside the document element")
			return tokEOF
		}
	}
	return k
}

// intern returns b as a string, allocating each distinct name once.
func (g *guard) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := (uint(len(b))*31 + uint(b[0])*7 + uint(b[len(b)-1]) + uint(b[len(b)/2])*3) & 255
	if s := g.recent[h]; s == string(b) {
		return s
	}
	if s, ok := g.names[string(b)]; ok {
		g.recent[h] = s
		return s
	}
	s := string(b)
	if len(g.names) < maxNames {
		g.names[s] = s
	}
	return s
}

func (g *guard) start() error {
	local := g.intern(g.s.local)
	if g.rootFinished {
		return g.fail(CodeSyntax, "element <%s> after the end of the document element", local)
	}
	f := frame{name: local, line: g.tokLine}
	if len(g.s.prefix) > 0 {
		f.prefix = g.intern(g.s.prefix)
	}
	if n := len(g.stack); n > 0 {
		parent := &g.stack[n-1]
		f.defNS = parent.defNS
		if indexed(f.name) {
			parent.kids++
			f.idx = parent.kids
		}
	}
	for _, a := range g.s.attrs {
		switch {
		case len(a.prefix) == 0 && string(a.local) == "xmlns":
			f.defNS = string(a.value)
		case string(a.prefix) == "xmlns":
			g.prefixes[string(a.local)] = string(a.value)
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
	if f.prefix != "" {
		var ok bool
		if ns, ok = g.prefixes[f.prefix]; !ok {
			return g.fail(CodeNamespace, "element <%s:%s> uses an undeclared prefix", f.prefix, f.name)
		}
	}
	if len(g.stack) == 1 {
		g.docNS = ns
	} else if ns != g.docNS {
		return g.fail(CodeNamespace, "element <%s> is in namespace %q, not the document's %q", f.name, ns, g.docNS)
	}
	if g.recording {
		g.entryElems++
		if g.entryElems > g.cfg.MaxEntryElements {
			return g.fail(CodeElementCount, "the entry has more than %d elements", g.cfg.MaxEntryElements)
		}
		g.marks = append(g.marks, mark{name: f.name, depth: len(g.stack), line: f.line})
	}
	return nil
}

// record starts keeping marks for a new entry.
func (g *guard) record() {
	g.recording = true
	g.marks = g.marks[:0]
	g.entryElems = 0
}

// translate turns a scanner error into the file's rejection.
func (g *guard) translate(se *scanError) {
	switch {
	case g.size.over() || errors.Is(se.read, errTooLarge):
		g.err = fileError(CodeTooLarge, g.path(), se.line, "the file is larger than the limit of %d bytes", g.cfg.MaxBytes)
	case se.read != nil:
		g.err = fileError(CodeSyntax, g.path(), se.line, "the file cannot be read as XML: %s", se.msg)
	case strings.Contains(se.msg, "entity"):
		g.err = fileError(CodeDoctype, g.path(), se.line, "%s; entities are not allowed in bank statements", se.msg)
	default:
		g.err = fileError(CodeSyntax, g.path(), se.line, "the file is not well-formed XML: %s", se.msg)
	}
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

// line returns the line the scanner has reached.
func (g *guard) line() int { return g.s.line }

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
