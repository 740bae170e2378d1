package engine

import (
	"bytes"
	"unicode/utf8"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// decode is feed.Decode, faster for the messages the engine sees nearly
// always: one JSON object of the known fields, each at most once, with
// strings free of escapes and integers that fit. Such a message is read
// here into a feed.Event and checked by feed's own Event.Earning; anything
// else (an unknown, repeated or differently cased field, an escape, a
// null, a number that is not a small integer, malformed JSON) goes to
// feed.Decode. Either way the result, and every error, is feed.Decode's.
func decode(data []byte) (gateway.Earning, error) {
	if len(data) <= feed.MaxEventBytes {
		var ev feed.Event
		if fastEvent(data, &ev) {
			return ev.Earning()
		}
	}
	return feed.Decode(data)
}

// scanner reads the JSON subset decode takes; ok turns false at the first
// byte it does not take.
type scanner struct {
	b  []byte
	i  int
	ok bool
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte consumes c after optional whitespace.
func (s *scanner) byte(c byte) bool {
	s.ws()
	if s.ok && s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// raw returns the bytes of a string free of escapes and control
// characters, in valid UTF-8, without its quotes.
func (s *scanner) raw() []byte {
	if !s.byte('"') {
		s.ok = false
		return nil
	}
	start, ascii := s.i, true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(out) {
				s.ok = false // encoding/json would replace the invalid bytes
			}
			return out
		case c == '\\' || c < 0x20:
			s.ok = false
			return nil
		case c >= 0x80:
			ascii = false
		}
	}
	s.ok = false
	return nil
}

func (s *scanner) str() string { return string(s.raw()) }

// int reads an integer of at most 18 digits, which int64 holds.
func (s *scanner) int() int64 {
	s.ws()
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start := s.i
	var v int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		v = v*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	n := s.i - start
	if n == 0 || n > 18 || (n > 1 && s.b[start] == '0') {
		s.ok = false
		return 0
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			s.ok = false // a number encoding/json refuses for an integer
			return 0
		}
	}
	if neg {
		v = -v
	}
	return v
}

// object reads an object, calling field for each member; field consumes
// the value and returns false for a name it does not take. A name may
// appear once.
func (s *scanner) object(field func(name []byte) bool) {
	if !s.byte('{') {
		s.ok = false
		return
	}
	if s.byte('}') {
		return
	}
	var names [16][]byte
	seen := names[:0]
	for s.ok {
		name := s.raw()
		if !s.ok || !s.byte(':') {
			s.ok = false
			return
		}
		for _, n := range seen {
			if bytes.Equal(n, name) {
				s.ok = false
				return
			}
		}
		seen = append(seen, name)
		if !field(name) {
			s.ok = false
			return
		}
		if s.byte(',') {
			continue
		}
		if !s.byte('}') {
			s.ok = false
		}
		return
	}
}

func (s *scanner) amount() *feed.Amount {
	a := &feed.Amount{}
	s.object(func(name []byte) bool {
		switch string(name) {
		case "currency":
			a.Currency = s.str()
		case "value":
			a.Value = s.str()
		default:
			return false
		}
		return true
	})
	return a
}

// fastEvent reads data into ev when it is in the subset decode takes.
func fastEvent(data []byte, ev *feed.Event) bool {
	s := &scanner{b: data, ok: true}
	s.object(func(name []byte) bool {
		switch string(name) {
		case "version":
			ev.Version = int(s.int())
		case "event_id":
			ev.EventID = s.str()
		case "platform_id":
			ev.PlatformID = s.str()
		case "worker_ref":
			ev.WorkerRef = s.str()
		case "worker_key":
			ev.WorkerKey = s.str()
		case "occurred_at":
			ev.OccurredAt = s.str()
		case "gross":
			ev.Gross = s.amount()
		case "exclusions":
			x := &feed.Exclusions{}
			s.object(func(name []byte) bool {
				switch string(name) {
				case "tips":
					x.Tips = s.amount()
				case "incentives":
					x.Incentives = s.amount()
				case "expenses":
					x.Expenses = s.amount()
				case "commission":
					x.Commission = s.amount()
				default:
					return false
				}
				return true
			})
			ev.Exclusions = x
		case "orders":
			n := s.int()
			ev.Orders = &n
		case "category":
			c := &feed.Category{}
			s.object(func(name []byte) bool {
				switch string(name) {
				case "sector":
					c.Sector = s.str()
				case "vehicle":
					c.Vehicle = s.str()
				default:
					return false
				}
				return true
			})
			ev.Category = c
		case "region":
			ev.Region = s.str()
		case "kind":
			ev.Kind = s.str()
		case "reverses":
			ev.Reverses = s.str()
		default:
			return false
		}
		return s.ok
	})
	s.ws()
	return s.ok && s.i == len(s.b)
}
