package identity

import (
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Mask returns id for display to staff. Separators are removed and letters
// upper-cased, as by Normalize; then every character but the last few is
// replaced by "*". Numbers of 12 or more characters show 4, of 9 to 11 show 3,
// of 6 to 8 show 2; anything shorter is masked entirely. Mask accepts any
// string, valid or not.
//
//	Mask("360426199101010071") == "**************0071"
//	Mask("S1234567D")          == "******67D"
func Mask(id string) string {
	s, _ := canonical(id)
	n := utf8.RuneCountInString(s)
	show := 0
	switch {
	case n >= 12:
		show = 4
	case n >= 9:
		show = 3
	case n >= 6:
		show = 2
	}
	if show == 0 {
		return strings.Repeat("*", n)
	}
	tail := s
	for range n - show {
		_, size := utf8.DecodeRuneInString(tail)
		tail = tail[size:]
	}
	return strings.Repeat("*", n-show) + tail
}

// Redacted holds a national ID that must not be printed. Every way of
// formatting, logging or encoding it yields Mask of the ID; only Reveal
// returns the ID itself. The zero value holds the empty string.
type Redacted struct {
	id string
}

// Redact wraps id.
func Redact(id string) Redacted { return Redacted{id: id} }

// Reveal returns the ID. Call it only where the raw number is needed: to
// seal it, or to send it to the insurer.
func (r Redacted) Reveal() string { return r.id }

// String returns the masked ID.
func (r Redacted) String() string { return Mask(r.id) }

// GoString returns the masked ID, for %#v.
func (r Redacted) GoString() string { return "identity.Redacted(" + Mask(r.id) + ")" }

// Format writes the masked ID for every verb, so that no fmt verb or flag
// reaches the raw value.
func (r Redacted) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, r.GoString())
		return
	}
	fmt.Fprint(f, Mask(r.id))
}

// LogValue returns the masked ID to log/slog.
func (r Redacted) LogValue() slog.Value { return slog.StringValue(Mask(r.id)) }

// MarshalText returns the masked ID.
func (r Redacted) MarshalText() ([]byte, error) { return []byte(Mask(r.id)), nil }

// MarshalJSON returns the masked ID as a JSON string.
func (r Redacted) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%q", Mask(r.id)), nil
}
