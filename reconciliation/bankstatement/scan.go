package bankstatement

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The scanner is a strict, streaming tokenizer for the part of XML 1.0
// that bank statements use: elements, attributes, character data with the
// five predefined entities and character references, CDATA sections,
// comments and processing instructions. It reports a DOCTYPE or any other
// declaration as a directive token for the guard to reject, so no entity
// can ever be declared. It is well-formedness checking as strict as
// encoding/xml in Strict mode, with the same messages, but reads from its
// own buffer and returns names and text as slices of it, so reading a
// token does not allocate.

// tokKind is the kind of token the scanner read.
type tokKind uint8

const (
	tokEOF tokKind = iota
	tokStart
	tokEnd
	tokText
	tokDirective
)

// xattr is an attribute of the current start tag.
type xattr struct {
	prefix, local, value []byte
}

// scanError is a well-formedness error, or the reader's own error (read).
type scanError struct {
	msg  string
	line int
	read error // the reader's error, when that is what stopped the scan
}

func (e *scanError) Error() string { return e.msg }

type scanner struct {
	r    io.Reader
	buf  []byte
	tok  int // start of the token being read; bytes before it may be discarded
	pos  int // next byte to read
	end  int // end of the bytes read
	rerr error
	line int // line of buf[pos]

	tokLine int // line where the current token starts
	kind    tokKind
	prefix  []byte
	local   []byte
	attrs   []xattr
	text    []byte
	// For a self-closing tag the end token follows with the same name,
	// kept in closeName since the buffer may move.
	pendingEnd bool
	closeName  []byte
	closeColon int

	attrAt    []attrAt
	scratch   []byte
	textAtEOF bool // the text being decoded runs to the end of the input
	// dirStart and dirEnd delimit a directive's body, from s.tok.
	dirStart, dirEnd int
	err              *scanError
	started          bool
	charset          func(label string, r io.Reader) (io.Reader, error)
}

const scanBufSize = 64 << 10

func newScanner(r io.Reader) *scanner {
	return &scanner{r: r, buf: make([]byte, scanBufSize), line: 1, charset: charsetReader}
}

// more reads more input after s.end, first moving the current token to the
// front of the buffer. It returns how far the bytes moved (every absolute
// index into buf must be reduced by it) and whether more bytes came.
func (s *scanner) more() (int, bool) {
	if s.rerr != nil {
		return 0, false
	}
	shift := s.tok
	if shift > 0 {
		copy(s.buf, s.buf[shift:s.end])
		s.end -= shift
		s.pos -= shift
		s.tok = 0
	}
	if s.end == len(s.buf) {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.rerr = err
		}
		if n > 0 || err != nil {
			return shift, n > 0
		}
	}
	s.rerr = io.ErrNoProgress
	return shift, false
}

// fail records a well-formedness error at line.
func (s *scanner) fail(line int, format string, args ...any) {
	if s.err == nil {
		s.err = &scanError{msg: fmt.Sprintf(format, args...), line: line}
	}
}

// eof records why the input ended inside a token: the end of the input
// ("unexpected EOF") or the reader's error.
func (s *scanner) eof(what string) {
	line := s.line + bytes.Count(s.buf[s.pos:s.end], newline)
	if s.rerr != nil && s.rerr != io.EOF {
		if s.err == nil {
			s.err = &scanError{msg: s.rerr.Error(), line: line, read: s.rerr}
		}
		return
	}
	s.fail(line, "%s", what)
}

var newline = []byte{'\n'}

// next reads the next token. Comments and processing instructions are
// consumed without a token; the XML declaration switches the encoding. At
// the end of the input it returns tokEOF; on error, s.err is set and the
// kind is tokEOF.
func (s *scanner) next() tokKind {
	if s.err != nil {
		return tokEOF
	}
	if s.pendingEnd {
		s.pendingEnd = false
		s.prefix, s.local = nil, s.closeName
		if s.closeColon >= 0 {
			s.prefix, s.local = s.closeName[:s.closeColon], s.closeName[s.closeColon+1:]
		}
		s.kind = tokEnd
		return tokEnd
	}
	for {
		s.tok = s.pos
		s.tokLine = s.line
		if s.pos == s.end {
			if _, ok := s.more(); !ok {
				if s.rerr != nil && s.rerr != io.EOF {
					s.err = &scanError{msg: s.rerr.Error(), line: s.line, read: s.rerr}
				}
				s.kind = tokEOF
				return tokEOF
			}
		}
		if !s.started {
			s.started = true
			if s.end-s.pos < 3 {
				s.more()
			}
			if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xEF\xBB\xBF")) {
				s.pos += 3
				continue
			}
		}
		if s.buf[s.pos] != '<' {
			s.scanText()
			s.kind = tokText
			if s.err != nil {
				return tokEOF
			}
			return tokText
		}
		k, done := s.scanMarkup()
		if s.err != nil {
			s.kind = tokEOF
			return tokEOF
		}
		if done {
			s.kind = k
			return k
		}
	}
}

// need makes sure buf[i] exists, reading more if needed; it returns the
// index adjusted for any move, and false at the end of the input.
func (s *scanner) need(i int) (int, bool) {
	for i >= s.end {
		shift, ok := s.more()
		i -= shift
		if !ok {
			return i, false
		}
	}
	return i, true
}

// scanMarkup reads a token that starts with '<'. done is false for a
// comment or processing instruction, which yield no token.
func (s *scanner) scanMarkup() (tokKind, bool) {
	i, ok := s.need(s.pos + 1)
	if !ok {
		s.eof("unexpected EOF")
		return 0, false
	}
	switch s.buf[i] {
	case '/':
		return s.scanEnd(), true
	case '?':
		s.scanPI()
		return 0, false
	case '!':
		return s.scanBang()
	default:
		return s.scanStart(), true
	}
}

// find returns the index of the first occurrence of pat at or after from,
// reading more as needed. The token's bytes stay in place relative to
// s.tok; the returned index is absolute in the current buffer.
func (s *scanner) find(from int, pat string) (int, bool) {
	for {
		if k := bytes.Index(s.buf[from:s.end], []byte(pat)); k >= 0 {
			return from + k, true
		}
		from = max(s.end-len(pat)+1, from)
		shift, ok := s.more()
		from -= shift
		if !ok {
			return 0, false
		}
	}
}

// consume moves past buf[s.pos:to], counting its lines.
func (s *scanner) consume(to int) {
	s.line += countLines(s.buf[s.pos:to])
	s.pos = to
}

// countLines counts the newlines in b; most tokens are short.
func countLines(b []byte) int {
	if len(b) > 32 {
		return bytes.Count(b, newline)
	}
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// cur reads a tag byte by byte the way encoding/xml does, so that errors
// come in the same order and on the same lines. Positions kept across
// reads are offsets from s.tok, since reading more may move the buffer.
type cur struct {
	s    *scanner
	i    int // absolute index of the next byte
	line int
}

func (c *cur) get() (byte, bool) {
	if c.i < c.s.end {
		b := c.s.buf[c.i]
		c.i++
		if b == '\n' {
			c.line++
		}
		return b, true
	}
	return c.getMore()
}

// getMore is get when the buffer is used up.
func (c *cur) getMore() (byte, bool) {
	i, ok := c.s.need(c.i)
	c.i = i
	if !ok {
		return 0, false
	}
	b := c.s.buf[c.i]
	c.i++
	if b == '\n' {
		c.line++
	}
	return b, true
}

func (c *cur) unget() {
	c.i--
	if c.s.buf[c.i] == '\n' {
		c.line--
	}
}

func (c *cur) space() {
	for {
		b, ok := c.get()
		if !ok {
			return
		}
		if !isSpaceByte(b) {
			c.unget()
			return
		}
	}
}

// off returns the offset of absolute index i from the token start.
func (c *cur) off(i int) int { return i - c.s.tok }

// bytes returns the token's bytes between two offsets.
func (c *cur) bytes(from, to int) []byte { return c.s.buf[c.s.tok+from : c.s.tok+to] }

// name reads a name; ok is false when there is none, eof when the input
// ended. The name is checked as encoding/xml checks it.
func (c *cur) name() (from, to int, ok, eof bool) {
	b, ok := c.get()
	if !ok {
		return 0, 0, false, true
	}
	if !isNameByte(b) {
		c.unget()
		return 0, 0, false, false
	}
	from = c.off(c.i - 1)
	for {
		buf := c.s.buf[:c.s.end]
		j := c.i
		for j < len(buf) && isNameByte(buf[j]) {
			j++
		}
		c.i = j // name bytes are never newlines
		if j < len(buf) {
			return from, c.off(j), true, false
		}
		if b, ok = c.getMore(); !ok {
			return 0, 0, false, true
		}
		if !isNameByte(b) {
			c.unget()
			return from, c.off(c.i), true, false
		}
	}
}

// eofAt records the end of input (or the reader's error) inside a token.
func (s *scanner) eofAt(line int) {
	if s.rerr != nil && s.rerr != io.EOF {
		if s.err == nil {
			s.err = &scanError{msg: s.rerr.Error(), line: line, read: s.rerr}
		}
		return
	}
	s.fail(line, "unexpected EOF")
}

func (s *scanner) scanEnd() tokKind {
	c := cur{s: s, i: s.pos + 2, line: s.line}
	from, to, ok, eof := c.name()
	switch {
	case eof:
		s.eofAt(c.line)
		return 0
	case !ok:
		s.fail(c.line, "expected element name after </")
		return 0
	}
	if name := c.bytes(from, to); !validName(name) {
		s.fail(c.line, "invalid XML name: %s", name)
		return 0
	}
	if _, _, ok := splitName(c.bytes(from, to)); !ok {
		s.fail(c.line, "expected element name after </")
		return 0
	}
	c.space()
	b, ok := c.get()
	if !ok {
		s.eofAt(c.line)
		return 0
	}
	if b != '>' {
		_, local, _ := splitName(c.bytes(from, to))
		s.fail(c.line, "invalid characters between </%s and >", local)
		return 0
	}
	s.pos, s.line = c.i, c.line
	s.prefix, s.local, _ = splitName(c.bytes(from, to))
	return tokEnd
}

func (s *scanner) scanPI() {
	c := cur{s: s, i: s.pos + 2, line: s.line}
	from, to, ok, eof := c.name()
	switch {
	case eof:
		s.eofAt(c.line)
		return
	case !ok:
		s.fail(c.line, "expected target name after <?")
		return
	}
	if name := c.bytes(from, to); !validName(name) {
		s.fail(c.line, "invalid XML name: %s", name)
		return
	}
	c.space()
	body := c.off(c.i)
	var b0 byte
	for {
		b, ok := c.get()
		if !ok {
			s.eofAt(c.line)
			return
		}
		if b0 == '?' && b == '>' {
			break
		}
		b0 = b
	}
	target := string(c.bytes(from, to))
	content := string(c.bytes(body, c.off(c.i)-2))
	s.pos, s.line = c.i, c.line
	if target != "xml" {
		return
	}
	if ver := procInst("version", content); ver != "" && ver != "1.0" {
		s.err = &scanError{msg: fmt.Sprintf("xml: unsupported version %q; only version 1.0 is supported", ver), line: s.line, read: errors.New("unsupported version")}
		return
	}
	enc := procInst("encoding", content)
	if enc == "" || equalFold(enc, "utf-8") {
		return
	}
	rest := bytes.Clone(s.buf[s.pos:s.end])
	var src io.Reader = s.r
	if s.rerr != nil {
		src = errorReader{s.rerr}
	}
	nr, err := s.charset(enc, io.MultiReader(bytes.NewReader(rest), src))
	if err != nil {
		err = fmt.Errorf("xml: opening charset %q: %w", enc, err)
		s.err = &scanError{msg: err.Error(), line: s.line, read: err}
		return
	}
	s.r, s.rerr = nr, nil
	s.end = s.pos
}

// errorReader keeps returning err, for a reader that already failed.
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

// scanBang reads a comment, a CDATA section or a directive.
func (s *scanner) scanBang() (tokKind, bool) {
	i, ok := s.need(s.pos + 2)
	if !ok {
		s.eof("unexpected EOF")
		return 0, false
	}
	switch s.buf[i] {
	case '-':
		if i, ok = s.need(i + 1); !ok {
			s.eof("unexpected EOF")
			return 0, false
		}
		if s.buf[i] != '-' {
			s.consume(i + 1)
			s.fail(s.line, "invalid sequence <!- not part of <!--")
			return 0, false
		}
		dd, ok := s.find(i+1, "--")
		if !ok {
			s.eof("unexpected EOF")
			return 0, false
		}
		if dd, ok = s.need(dd + 2); !ok {
			s.eof("unexpected EOF")
			return 0, false
		}
		if s.buf[dd] != '>' {
			s.consume(dd + 1)
			s.fail(s.line, `invalid sequence "--" not allowed in comments`)
			return 0, false
		}
		s.consume(dd + 1)
		return 0, false
	case '[':
		for k := range len("CDATA[") {
			if i, ok = s.need(i + 1); !ok {
				s.eof("unexpected EOF")
				return 0, false
			}
			if s.buf[i] != "CDATA["[k] {
				s.consume(i + 1)
				s.fail(s.line, "invalid <![ sequence")
				return 0, false
			}
		}
		start := i + 1 - s.tok
		e, ok := s.find(i+1, "]]>")
		if !ok {
			s.eof("unexpected EOF in CDATA section")
			return 0, false
		}
		raw := s.buf[s.tok+start : e]
		s.consume(e + 3)
		s.text = s.decodeText(raw, inCDATA, s.line)
		if s.err != nil {
			return 0, false
		}
		return tokText, true
	default:
		// A directive: DOCTYPE, ENTITY or another declaration, which the
		// guard rejects. It is read to its end as encoding/xml reads it,
		// quotes and nested brackets and comments included.
		c := cur{s: s, i: i + 1, line: s.line + countLines(s.buf[s.pos:i+1])}
		s.dirStart = c.off(i)
		var inquote byte
		depth := 0
		for {
			b, ok := c.get()
			if !ok {
				s.eofAt(c.line)
				return 0, false
			}
			if inquote == 0 && b == '>' && depth == 0 {
				break
			}
		handle:
			switch {
			case b == inquote:
				inquote = 0
			case inquote != 0:
			case b == '\'' || b == '"':
				inquote = b
			case b == '>':
				depth--
			case b == '<':
				for k := range len("!--") {
					if b, ok = c.get(); !ok {
						s.eofAt(c.line)
						return 0, false
					}
					if b != "!--"[k] {
						depth++
						goto handle
					}
				}
				var b0, b1 byte
				for {
					if b, ok = c.get(); !ok {
						s.eofAt(c.line)
						return 0, false
					}
					if b0 == '-' && b1 == '-' && b == '>' {
						break
					}
					b0, b1 = b1, b
				}
			}
		}
		s.dirEnd = c.off(c.i - 1)
		s.pos, s.line = c.i, c.line
		return tokDirective, true
	}
}

// directiveIsDoctype reports whether the directive just read is a DOCTYPE.
func (s *scanner) directiveIsDoctype() bool {
	body := s.buf[s.tok+s.dirStart : s.tok+s.dirEnd]
	return bytes.HasPrefix(bytes.TrimSpace(body), []byte("DOCTYPE"))
}

// attrAt is an attribute of the tag being read, by offsets from s.tok.
type attrAt struct {
	from, to   int // name
	vfrom, vto int // raw value, when not decoded
	value      []byte
}

// scanStart reads a start tag and its attributes.
func (s *scanner) scanStart() tokKind {
	s.textAtEOF = false
	c := cur{s: s, i: s.pos + 1, line: s.line}
	from, to, ok, eof := c.name()
	switch {
	case eof:
		s.eofAt(c.line)
		return 0
	case !ok:
		s.fail(c.line, "expected element name after <")
		return 0
	}
	if name := c.bytes(from, to); !validName(name) {
		s.fail(c.line, "invalid XML name: %s", name)
		return 0
	}
	if _, _, ok := splitName(c.bytes(from, to)); !ok {
		s.fail(c.line, "expected element name after <")
		return 0
	}
	attrs := s.attrAt[:0]
	self := false
	for {
		c.space()
		b, ok := c.get()
		if !ok {
			s.eofAt(c.line)
			return 0
		}
		if b == '/' {
			if b, ok = c.get(); !ok {
				s.eofAt(c.line)
				return 0
			}
			if b != '>' {
				s.fail(c.line, "expected /> in element")
				return 0
			}
			self = true
			break
		}
		if b == '>' {
			break
		}
		c.unget()
		af, at, ok, eof := c.name()
		switch {
		case eof:
			s.eofAt(c.line)
			return 0
		case !ok:
			s.fail(c.line, "expected attribute name in element")
			return 0
		}
		if name := c.bytes(af, at); !validName(name) {
			s.fail(c.line, "invalid XML name: %s", name)
			return 0
		}
		if _, _, ok := splitName(c.bytes(af, at)); !ok {
			s.fail(c.line, "expected attribute name in element")
			return 0
		}
		c.space()
		if b, ok = c.get(); !ok {
			s.eofAt(c.line)
			return 0
		}
		if b != '=' {
			s.fail(c.line, "attribute name without = in element")
			return 0
		}
		c.space()
		q, ok := c.get()
		if !ok {
			s.eofAt(c.line)
			return 0
		}
		if q != '"' && q != '\'' {
			s.fail(c.line, "unquoted or missing attribute value in element")
			return 0
		}
		vfrom := c.off(c.i)
		closed, lt := false, false
		for {
			b, ok := c.get()
			if !ok {
				break
			}
			if b == q {
				closed = true
				break
			}
			if b == '<' {
				lt = true
				break
			}
		}
		vto := c.off(c.i)
		if closed || lt {
			vto--
		}
		a := attrAt{from: af, to: at, vfrom: vfrom, vto: vto}
		if raw := c.bytes(vfrom, vto); lt || !closed || needsDecoding(raw) {
			// Errors inside the value come first, as encoding/xml reads
			// entities as it goes; it checks the characters at the end.
			s.textAtEOF = !closed && !lt
			if lt {
				if !s.entitiesOK(raw, c.line) {
					return 0
				}
				s.fail(c.line, "unescaped < inside quoted string")
				return 0
			}
			v := s.decodeText(raw, inAttr, c.line)
			if s.err != nil {
				return 0
			}
			if !closed {
				s.eofAt(c.line)
				return 0
			}
			a.value = bytes.Clone(v)
		}
		attrs = append(attrs, a)
	}
	s.attrAt = attrs
	s.attrs = s.attrs[:0]
	for _, a := range attrs {
		p, l, _ := splitName(c.bytes(a.from, a.to))
		v := a.value
		if v == nil {
			v = c.bytes(a.vfrom, a.vto)
		}
		s.attrs = append(s.attrs, xattr{prefix: p, local: l, value: v})
	}
	name := c.bytes(from, to)
	s.prefix, s.local, _ = splitName(name)
	if self {
		s.pendingEnd = true
		s.closeName = append(s.closeName[:0], name...)
		s.closeColon = -1
		if s.prefix != nil {
			s.closeColon = len(s.prefix)
		}
	}
	s.pos, s.line = c.i, c.line
	return tokStart
}

// scanText reads character data up to the next '<' or the end of input.
func (s *scanner) scanText() {
	i := s.pos
	s.textAtEOF = false
	for {
		if k := bytes.IndexByte(s.buf[i:s.end], '<'); k >= 0 {
			i += k
			break
		}
		i = s.end
		shift, ok := s.more()
		i -= shift
		if !ok {
			s.textAtEOF = true
			break
		}
	}
	raw := s.buf[s.pos:i]
	s.consume(i)
	if !needsDecoding(raw) {
		s.text = raw
		return
	}
	s.text = s.decodeText(raw, inText, s.line)
}

// special marks the bytes character data cannot take as they are: markup
// and entity starts, carriage returns, control characters and non-ASCII
// (checked as UTF-8).
var special = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 && c != '\t' && c != '\n' || c >= 0x80 || c == '&' || c == ']' || c == '\r'
	}
	return t
}()

func needsDecoding(b []byte) bool {
	for _, c := range b {
		if special[c] {
			return true
		}
	}
	return false
}

// Where decodeText's input comes from.
const (
	inText = iota
	inCDATA
	inAttr
)

// decodeText decodes character data, a CDATA section's content or an
// attribute value: entities (not in CDATA), line ends, "]]>" (only in
// text), and the characters XML allows. The error's line is the line the
// scanner has reached.
func (s *scanner) decodeText(raw []byte, mode int, endLine int) []byte {
	cdata := mode == inCDATA
	// Entity errors are placed on their line within raw, which ends on
	// endLine; character errors on endLine, where encoding/xml checks.
	at := func(i int) int { return endLine - bytes.Count(raw[i:], newline) }
	out := s.scratch[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\r':
			out = append(out, '\n')
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
		case c == ']' && mode == inText && i+2 < len(raw) && raw[i+1] == ']' && raw[i+2] == '>':
			s.fail(at(i+2), "unescaped ]]> not in CDATA section")
			return nil
		case c == '&' && !cdata:
			r, n, ent := entityAt(raw[i:])
			if read, ok := strings.CutSuffix(ent, noSemicolon); n == 0 && ok && s.textAtEOF && i+len(read) == len(raw) {
				// The input ended inside the entity.
				s.eof("unexpected EOF")
				return nil
			}
			if n == 0 {
				read, _ := strings.CutSuffix(ent, noSemicolon)
				s.fail(at(min(i+len(read), len(raw))), "invalid character entity %s", ent)
				return nil
			}
			out = append(out, r...)
			i += n - 1
		default:
			out = append(out, c)
		}
	}
	s.scratch = out
	if msg := checkChars(out); msg != "" {
		s.fail(endLine, "%s", msg)
		return nil
	}
	return out
}

// entitiesOK reports whether raw's entities are valid, recording the error
// of the first that is not.
func (s *scanner) entitiesOK(raw []byte, endLine int) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '&' {
			continue
		}
		_, n, ent := entityAt(raw[i:])
		if n == 0 {
			read, _ := strings.CutSuffix(ent, noSemicolon)
			s.fail(endLine-bytes.Count(raw[min(i+len(read), len(raw)):], newline), "invalid character entity %s", ent)
			return false
		}
		i += n - 1
	}
	return true
}

const noSemicolon = " (no semicolon)"

// entityAt decodes the entity or character reference at the start of b
// ("&amp;", "&#233;", "&#xE9;"). It returns the replacement and the length
// read, or n == 0 and the text of the invalid entity for the message.
func entityAt(b []byte) (repl []byte, n int, invalid string) {
	semi := bytes.IndexByte(b, ';')
	if semi < 0 {
		// What encoding/xml would have read before giving up.
		end := 1
		if end < len(b) && b[end] == '#' {
			end++
			base := 10
			if end < len(b) && b[end] == 'x' {
				end++
				base = 16
			}
			end += indexNotDigit(b[end:], base)
		} else {
			end += nameLen(b[1:])
		}
		return nil, 0, string(b[:end]) + noSemicolon
	}
	name := b[1:semi]
	bad := func() ([]byte, int, string) { return nil, 0, string(b[:semi+1]) }
	if len(name) > 0 && name[0] == '#' {
		digits, base := name[1:], 10
		if len(digits) > 0 && digits[0] == 'x' {
			digits, base = digits[1:], 16
		}
		for _, c := range digits {
			if !(c >= '0' && c <= '9' || base == 16 && isHex(c)) {
				return nil, 0, string(b[:1+len(name)-len(digits)+indexNotDigit(digits, base)]) + noSemicolon
			}
		}
		v, err := strconv.ParseUint(string(digits), base, 64)
		if err != nil || v > utf8.MaxRune {
			return bad()
		}
		return utf8.AppendRune(nil, rune(v)), semi + 1, ""
	}
	switch string(name) {
	case "lt":
		return []byte{'<'}, semi + 1, ""
	case "gt":
		return []byte{'>'}, semi + 1, ""
	case "amp":
		return []byte{'&'}, semi + 1, ""
	case "apos":
		return []byte{'\''}, semi + 1, ""
	case "quot":
		return []byte{'"'}, semi + 1, ""
	}
	if nameLen(name) != len(name) {
		return nil, 0, string(b[:1+nameLen(name)]) + noSemicolon
	}
	return bad()
}

func indexNotDigit(b []byte, base int) int {
	for i, c := range b {
		if !(c >= '0' && c <= '9' || base == 16 && isHex(c)) {
			return i
		}
	}
	return len(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkChars returns the message for the first character XML does not
// allow in b, or "".
func checkChars(b []byte) string {
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Sprintf("illegal character code %U", rune(c))
			}
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return "invalid UTF-8"
		}
		if !(r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return fmt.Sprintf("illegal character code %U", r)
		}
		b = b[size:]
	}
	return ""
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-' || c >= utf8.RuneSelf
}

// nameLen returns the length of the run of name bytes at the start of b.
func nameLen(b []byte) int {
	for i, c := range b {
		if !isNameByte(c) {
			return i
		}
	}
	return len(b)
}

// validName checks a name as encoding/xml does: for ASCII, that it does
// not start with a digit, '.' or '-'; a name with other characters (never
// seen in a camt file) is put to encoding/xml's own tables of XML 1.0 name
// characters.
func validName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if c := b[0]; c >= '0' && c <= '9' || c == '.' || c == '-' {
		return false
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return validUnicodeName(b)
		}
	}
	return true
}

func validUnicodeName(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	probe := bytes.ReplaceAll(b, []byte(":"), []byte("a"))
	d := xml.NewDecoder(bytes.NewReader(append(append([]byte("<"), probe...), "/>"...)))
	_, err := d.RawToken()
	return err == nil
}

// splitName splits "p:local" into its prefix and local name; a name with
// more than one colon is not a name.
func splitName(b []byte) (prefix, local []byte, ok bool) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return nil, b, true
	}
	if bytes.IndexByte(b[i+1:], ':') >= 0 {
		return nil, nil, false
	}
	if i == 0 || i == len(b)-1 {
		return nil, b, true
	}
	return b[:i], b[i+1:], true
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// procInst returns the value of param in a processing instruction's
// content, read exactly as encoding/xml reads it.
func procInst(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
