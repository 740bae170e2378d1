package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// Policy is what a platform's settings add to the validation of an event on
// its own: the checks that depend on who sends the event rather than on its
// content. Every door applies the same Policy, so an event refused by one door
// for its platform, currency or time is refused by the others with the same
// detail code and field:
//
//	code               field           when
//	platform_mismatch  platform_id     platform_id names another platform (error code not_found)
//	wrong_currency     gross.currency  the currency is not the platform's
//	in_future          occurred_at     later than Now plus MaxSkew
//	before_platform    occurred_at     before the platform existed (Since)
//
// A platform mismatch is answered alone, as not_found, and says nothing about
// the platform named: whether it exists or not, the answer is the same.
type Policy struct {
	// PlatformID is the platform the sender acts for. It fills an empty
	// platform_id; an event naming another platform is refused. Empty: any
	// platform_id is taken as written.
	PlatformID string

	// Currency is the platform's currency; an event in another is refused.
	// Empty: any known currency.
	Currency gateway.Currency

	// Since is when the platform began; an event that occurred before it is
	// refused. Zero: no lower bound.
	Since time.Time

	// Now is the clock of the future check. Nil: no future check, as for a
	// consumer that replays old messages and must decide as it did first.
	Now func() time.Time

	// MaxSkew is how far past Now an occurred_at may be, for platform
	// clocks that run a little fast. Default DefaultMaxSkew.
	MaxSkew time.Duration

	// WorkerKey turns a national ID and its country into a worker key, as
	// CSVDefaults.WorkerKey does: its errors are *gateway.Error values whose
	// messages never hold the number (identity.Normalize and Keyer.Key fit);
	// any other error is returned as it is. With it, an event's national_id
	// is validated and replaced by worker_key before anything else sees the
	// event. Nil: an event with a national_id is refused (raw_national_id),
	// as the engine refuses one produced straight to Kafka.
	WorkerKey func(country, nationalID string) (string, error)
}

// Check applies the policy to a decoded event. It returns nil, a
// *gateway.Error with code ENOTFOUND for an event of another platform, or one
// with code EINVALID and a Detail per problem, each naming the JSON field.
func (p Policy) Check(e gateway.Earning) error {
	if d := p.platformMismatch(e.PlatformID); d != nil {
		return mismatchError(*d)
	}
	if ds := p.details(e); len(ds) > 0 {
		return &gateway.Error{Code: gateway.EINVALID, Message: "invalid earnings event", Details: ds}
	}
	return nil
}

// Decode parses one JSON event strictly, as Decode does, fills an empty
// platform_id with PlatformID, and applies the policy. An event that names
// another platform is refused before its content is looked at.
func (p Policy) Decode(data []byte) (gateway.Earning, error) {
	if len(data) > MaxEventBytes {
		return gateway.Earning{}, &gateway.Error{Code: gateway.ETOOLARGE,
			Message: fmt.Sprintf("event is larger than %d bytes", MaxEventBytes)}
	}
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return gateway.Earning{}, p.decodeError(data, JSONError(err, ""))
	}
	if _, err := dec.Token(); err != io.EOF {
		return gateway.Earning{}, p.decodeError(data, gateway.Invalid("", "malformed_json", "unexpected data after the event"))
	}
	return p.Event(ev)
}

// Event converts a wire event decoded by the caller, as Decode does after
// parsing: it fills an empty platform_id with PlatformID, refuses an event
// of another platform before looking at its content, validates it and
// applies the policy. A door that decodes a stream of events itself (a JSON
// array) uses it to avoid parsing each event twice.
func (p Policy) Event(ev Event) (gateway.Earning, error) {
	if ev.PlatformID == "" {
		ev.PlatformID = p.PlatformID
	}
	if d := p.platformMismatch(ev.PlatformID); d != nil {
		return gateway.Earning{}, mismatchError(*d)
	}
	var keyed []gateway.Detail
	if ev.NationalID != nil && p.WorkerKey != nil {
		nid := ev.NationalID
		ev.NationalID = nil
		var err error
		if keyed, err = p.key(&ev, nid); err != nil {
			return gateway.Earning{}, err
		}
	}
	e, err := ev.Earning()
	if len(keyed) > 0 {
		var ge *gateway.Error
		if err != nil && !errors.As(err, &ge) {
			return gateway.Earning{}, err
		}
		all := keyed
		if ge != nil {
			all = append(all, ge.Details...)
		}
		return gateway.Earning{}, &gateway.Error{Code: gateway.EINVALID, Message: "invalid earnings event", Details: all}
	}
	if err != nil {
		return gateway.Earning{}, err
	}
	if err := p.Check(e); err != nil {
		return gateway.Earning{}, err
	}
	return e, nil
}

// key validates a national ID with WorkerKey and sets ev.WorkerKey to its
// worker key. It returns the problems found, each naming national_id.number
// or national_id.country; the error is a failure of WorkerKey that is not
// about the input.
func (p Policy) key(ev *Event, nid *NationalID) ([]gateway.Detail, error) {
	switch {
	case ev.WorkerKey != "":
		return []gateway.Detail{{Field: "national_id", Code: CodeWorkerKeyAndNationalID,
			Message: "name the worker by national_id or by worker_key, not both"}}, nil
	case nid.Country == "":
		return []gateway.Detail{{Field: "national_id.country", Code: "required",
			Message: "national_id.country is required: the ISO 3166-1 alpha-2 code of the country that issued the number"}}, nil
	}
	key, err := p.WorkerKey(nid.Country, nid.Number)
	var ge *gateway.Error
	switch {
	case err == nil:
		ev.WorkerKey = key
		return nil, nil
	case !errors.As(err, &ge):
		return nil, fmt.Errorf("key national ID: %w", err)
	}
	var ds []gateway.Detail
	for _, d := range ge.Details {
		d.Field = NationalIDField(d.Code)
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		ds = append(ds, gateway.Detail{Field: "national_id.number", Code: "invalid", Message: ge.Message})
	}
	return ds, nil
}

// NationalIDField is the JSON field an identity.Normalize detail code is
// about: national_id.country for an unsupported country, otherwise
// national_id.number. POST /v1/workers and the JSON doors name the same
// fields.
func NationalIDField(code string) string {
	if code == "unsupported_country" {
		return "national_id.country"
	}
	return "national_id.number"
}

// Mismatch returns the not_found error of an event naming another platform
// than PlatformID, or nil. A door whose decoding failed uses it to refuse
// such an event as not found rather than describe its content.
func (p Policy) Mismatch(platformID string) error {
	if d := p.platformMismatch(platformID); d != nil {
		return mismatchError(*d)
	}
	return nil
}

// decodeError returns err, or the platform mismatch when an event that does
// not decode names another platform: such an event is not looked at.
func (p Policy) decodeError(data []byte, err error) error {
	if p.PlatformID == "" {
		return err
	}
	platformID, _ := Identify(data)
	if d := p.platformMismatch(platformID); d != nil {
		return mismatchError(*d)
	}
	return err
}

// platformMismatch returns the detail of an event naming another platform
// than PlatformID, or nil.
func (p Policy) platformMismatch(platformID string) *gateway.Detail {
	if p.PlatformID == "" || platformID == "" || platformID == p.PlatformID {
		return nil
	}
	return &gateway.Detail{Field: "platform_id", Code: CodePlatformMismatch,
		Message: fmt.Sprintf("platform_id %s is not the platform of this API key", shortQuote(platformID))}
}

func mismatchError(d gateway.Detail) error {
	return &gateway.Error{Code: gateway.ENOTFOUND, Message: "no such platform for this API key", Details: []gateway.Detail{d}}
}

// details returns the currency and time problems of an event.
func (p Policy) details(e gateway.Earning) []gateway.Detail {
	var ds []gateway.Detail
	if p.Currency != "" && e.Gross.Currency != p.Currency {
		ds = append(ds, gateway.Detail{Field: "gross.currency", Code: CodeWrongCurrency,
			Message: fmt.Sprintf("currency %s is not the platform's currency %s", e.Gross.Currency, p.Currency)})
	}
	if p.Now != nil {
		skew := p.MaxSkew
		if skew == 0 {
			skew = DefaultMaxSkew
		}
		if e.OccurredAt.After(p.Now().Add(skew)) {
			ds = append(ds, gateway.Detail{Field: "occurred_at", Code: CodeInFuture,
				Message: fmt.Sprintf("occurred_at is in the future (more than %s after the gateway's clock)", skew)})
		}
	}
	if !p.Since.IsZero() && e.OccurredAt.Before(p.Since) {
		ds = append(ds, gateway.Detail{Field: "occurred_at", Code: CodeBeforePlatform,
			Message: "occurred_at is before the platform was created on " + p.Since.UTC().Format(time.RFC3339)})
	}
	return ds
}
