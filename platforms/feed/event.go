// Package feed is the one definition of the earnings event as platforms send
// it. The three doors (HTTP JSON, CSV upload and direct Kafka production) all
// decode through this package, so an event accepted by one door is accepted
// by the others and a rejected one gets the same code, message and field.
//
// The wire form is JSON, version 1:
//
//	{
//	  "version": 1,                                   // optional, default 1
//	  "event_id": "ord-1001",                         // unique per platform
//	  "platform_id": "demo",
//	  "worker_ref": "drv-77",                         // the platform's own reference
//	  "national_id": {"country": "MY", "number": "…"}, // HTTP doors only: keyed, never forwarded
//	  "occurred_at": "2026-10-03T08:15:00+08:00",     // RFC 3339 with offset
//	  "gross": {"currency": "MYR", "value": "23.50"}, // decimal string, never a number
//	  "exclusions": {"tips": {"currency": "MYR", "value": "2.00"}},
//	  "orders": 1,                                    // default 1
//	  "category": {"sector": "ride_hailing", "vehicle": "4w"},
//	  "region": "MY-14",
//	  "kind": "earning",                              // earning | reversal | adjustment
//	  "reverses": ""                                  // original event id, for a reversal
//	}
//
// The worker is named by worker_ref, by national_id, or both. A national ID
// is taken only where the gateway holds the worker-key secret, the HTTP
// doors (Policy.WorkerKey): there it is validated, replaced by its worker key
// (worker_key) and dropped, so the message written to Kafka, the logs and
// every answer carry the worker key and never the number. A message produced
// straight to Kafka must not carry one: it is rejected with code
// raw_national_id (see Redact for what is kept of such a message).
package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// Version is the wire-format version this package writes and reads.
const Version = 1

// Event is the wire form of an earnings event.
type Event struct {
	Version    int         `json:"version,omitempty"`
	EventID    string      `json:"event_id"`
	PlatformID string      `json:"platform_id"`
	WorkerRef  string      `json:"worker_ref,omitempty"`
	WorkerKey  string      `json:"worker_key,omitempty"`
	NationalID *NationalID `json:"national_id,omitempty"`
	OccurredAt string      `json:"occurred_at"`
	Gross      *Amount     `json:"gross"`
	Exclusions *Exclusions `json:"exclusions,omitempty"`
	Orders     *int64      `json:"orders,omitempty"`
	Category   *Category   `json:"category,omitempty"`
	Region     string      `json:"region,omitempty"`
	Kind       string      `json:"kind,omitempty"`
	Reverses   string      `json:"reverses,omitempty"`
}

// NationalID is a worker's national ID as a platform sends it, the shape of
// POST /v1/workers: an ISO 3166-1 alpha-2 country and the number as
// written. It never leaves the HTTP door: Policy.WorkerKey replaces it by
// the worker key.
type NationalID struct {
	Country string `json:"country"`
	Number  string `json:"number"`
}

// Detail codes about the worker's identity, in addition to those of
// identity.Normalize (on national_id.number, or national_id.country for
// unsupported_country).
const (
	// CodeRawNationalID: a national ID where none may be taken (a message
	// produced straight to Kafka, or a door without the worker-key secret).
	CodeRawNationalID = "raw_national_id"
	// CodeNoWorker: neither worker_ref nor national_id (nor worker_key).
	CodeNoWorker = "required"
	// CodeWorkerKeyAndNationalID: both worker_key and national_id.
	CodeWorkerKeyAndNationalID = "ambiguous_worker"
)

// Amount is money on the wire: a currency code and a decimal string.
type Amount struct {
	Currency string `json:"currency"`
	Value    string `json:"value"`
}

// Exclusions are the parts of gross a scheme may leave out of the base.
type Exclusions struct {
	Tips       *Amount `json:"tips,omitempty"`
	Incentives *Amount `json:"incentives,omitempty"`
	Expenses   *Amount `json:"expenses,omitempty"`
	Commission *Amount `json:"commission,omitempty"`
}

// Category classifies the work.
type Category struct {
	Sector  string `json:"sector,omitempty"`
	Vehicle string `json:"vehicle,omitempty"`
}

// MaxEventBytes is the largest single event accepted.
const MaxEventBytes = 64 << 10

// Decode parses one JSON event strictly (unknown fields are errors) and
// converts it to the domain event. Every problem found is returned as a
// Detail of one *gateway.Error with code EINVALID.
func Decode(data []byte) (gateway.Earning, error) {
	if len(data) > MaxEventBytes {
		return gateway.Earning{}, &gateway.Error{Code: gateway.ETOOLARGE,
			Message: fmt.Sprintf("event is larger than %d bytes", MaxEventBytes)}
	}
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return gateway.Earning{}, JSONError(err, "")
	}
	if _, err := dec.Token(); err != io.EOF {
		return gateway.Earning{}, gateway.Invalid("", "malformed_json", "unexpected data after the event")
	}
	return ev.Earning()
}

// JSONError turns an encoding/json error into an EINVALID error naming the
// field; prefix is prepended to field paths (e.g. "[3]." for an array item).
func JSONError(err error, prefix string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return gateway.Invalid(strings.TrimSuffix(prefix, "."), "malformed_json",
			fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		field := prefix + typ.Field
		msg := fmt.Sprintf("%s must be %s, not a JSON %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
		if strings.HasSuffix(typ.Field, "value") && typ.Value == "number" {
			msg = field + " must be a decimal string such as \"23.50\", not a JSON number: numbers lose precision"
		}
		return gateway.Invalid(field, "wrong_type", msg)
	case errors.Is(err, io.EOF):
		return gateway.Invalid(strings.TrimSuffix(prefix, "."), "malformed_json", "empty body: expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return gateway.Invalid(strings.TrimSuffix(prefix, "."), "malformed_json", "malformed JSON: unexpected end of input")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return gateway.Invalid(prefix+name, "unknown_field", fmt.Sprintf("unknown field %q", name))
	default:
		return gateway.Invalid(strings.TrimSuffix(prefix, "."), "malformed_json", "malformed JSON: "+err.Error())
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int64", "int":
		return "an integer"
	case "struct", "ptr":
		return "an object"
	case "slice":
		return "an array"
	default:
		return "a " + goKind
	}
}

// Earning converts the wire event to the domain event and validates it.
func (ev Event) Earning() (gateway.Earning, error) {
	var details []gateway.Detail
	bad := func(field string, err error) {
		var e *gateway.Error
		if errors.As(err, &e) && len(e.Details) > 0 {
			for _, d := range e.Details {
				d.Field = field
				details = append(details, d)
			}
			return
		}
		details = append(details, gateway.Detail{Field: field, Code: "invalid", Message: gateway.ErrorMessage(err)})
	}
	if ev.Version != 0 && ev.Version != Version {
		details = append(details, gateway.Detail{Field: "version", Code: "unsupported_version",
			Message: fmt.Sprintf("version %d is not supported; send %d", ev.Version, Version)})
	}
	if ev.NationalID != nil {
		details = append(details, gateway.Detail{Field: "national_id", Code: CodeRawNationalID,
			Message: "a national ID is not taken here: a message produced to Kafka names the worker by worker_ref or worker_key; POST /v1/earnings keys national IDs"})
	}
	e := gateway.Earning{
		EventID:    ev.EventID,
		PlatformID: ev.PlatformID,
		WorkerRef:  ev.WorkerRef,
		WorkerKey:  ev.WorkerKey,
		Region:     ev.Region,
		Kind:       gateway.EventKind(ev.Kind),
		Reverses:   ev.Reverses,
		Orders:     1,
	}
	if e.Kind == "" {
		e.Kind = gateway.KindEarning
	}
	if ev.Orders != nil {
		e.Orders = *ev.Orders
	}
	if ev.Category != nil {
		e.Category = gateway.Category{Sector: ev.Category.Sector, Vehicle: ev.Category.Vehicle}
	}
	if ev.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, ev.OccurredAt)
		if err != nil {
			details = append(details, gateway.Detail{Field: "occurred_at", Code: "bad_time",
				Message: "occurred_at must be an RFC 3339 time with an offset, such as 2026-10-03T08:15:00+08:00"})
		} else {
			e.OccurredAt = t
		}
	}
	grossOK := true
	switch {
	case ev.Gross == nil:
		details = append(details, gateway.Detail{Field: "gross", Code: "required", Message: "gross is required"})
		grossOK = false
	default:
		m, err := parseAmount(ev.Gross)
		if err != nil {
			bad(amountField("gross", err), err)
			grossOK = false
		}
		e.Gross = m
	}
	if ev.Exclusions != nil {
		for _, x := range [...]struct {
			name string
			a    *Amount
			dst  *gateway.Money
		}{
			{"exclusions.tips", ev.Exclusions.Tips, &e.Exclusions.Tips},
			{"exclusions.incentives", ev.Exclusions.Incentives, &e.Exclusions.Incentives},
			{"exclusions.expenses", ev.Exclusions.Expenses, &e.Exclusions.Expenses},
			{"exclusions.commission", ev.Exclusions.Commission, &e.Exclusions.Commission},
		} {
			if x.a == nil {
				continue
			}
			m, err := parseAmount(x.a)
			if err != nil {
				bad(amountField(x.name, err), err)
				continue
			}
			*x.dst = m
		}
	}
	if err := e.Validate(); err != nil {
		var ge *gateway.Error
		if !errors.As(err, &ge) {
			return gateway.Earning{}, err
		}
		for _, d := range ge.Details {
			// Currency problems on an amount that failed to parse are
			// already reported.
			if !grossOK && strings.HasPrefix(d.Field, "gross") {
				continue
			}
			if d.Field == "worker_ref" && d.Code == "required" {
				// A worker named by national ID (keyed) needs no
				// reference; a raw national ID is reported above.
				if ev.WorkerKey != "" || ev.NationalID != nil {
					continue
				}
				d.Code, d.Message = CodeNoWorker, "name the worker by worker_ref, national_id {country, number}, or both"
			}
			if hasField(details, d.Field) {
				continue
			}
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		return gateway.Earning{}, &gateway.Error{Code: gateway.EINVALID, Message: "invalid earnings event", Details: details}
	}
	return e, nil
}

func hasField(ds []gateway.Detail, field string) bool {
	for _, d := range ds {
		if d.Field == field {
			return true
		}
	}
	return false
}

// parseAmount parses a wire amount; errors carry the sub-field at fault
// ("currency" or "value").
func parseAmount(a *Amount) (gateway.Money, error) {
	if a.Currency == "" {
		return gateway.Money{}, gateway.Invalid("currency", "required", "currency is required")
	}
	if _, err := gateway.LookupCurrency(a.Currency); err != nil {
		return gateway.Money{}, gateway.Invalid("currency", "unknown_currency",
			fmt.Sprintf("unknown ISO 4217 currency code %q", a.Currency))
	}
	m, err := gateway.ParseMoney(a.Currency, a.Value)
	if err != nil {
		var ge *gateway.Error
		if errors.As(err, &ge) && len(ge.Details) > 0 {
			ge.Details[0].Field = "value"
			return gateway.Money{}, ge
		}
		return gateway.Money{}, gateway.Invalid("value", "invalid", gateway.ErrorMessage(err))
	}
	return m, nil
}

// amountField names the sub-field of an amount that an error is about.
func amountField(name string, err error) string {
	var ge *gateway.Error
	if errors.As(err, &ge) && len(ge.Details) > 0 && ge.Details[0].Field != "" {
		return name + "." + ge.Details[0].Field
	}
	return name
}

// FromEarning returns the wire form of a domain event, normalised: amounts
// in their currency's exponent, times in UTC, defaults filled in.
func FromEarning(e gateway.Earning) Event {
	ev := Event{
		Version:    Version,
		EventID:    e.EventID,
		PlatformID: e.PlatformID,
		WorkerRef:  e.WorkerRef,
		WorkerKey:  e.WorkerKey,
		OccurredAt: e.OccurredAt.UTC().Format(time.RFC3339Nano),
		Gross:      amount(e.Gross),
		Orders:     &e.Orders,
		Region:     e.Region,
		Kind:       string(e.Kind),
		Reverses:   e.Reverses,
	}
	x := e.Exclusions
	if !(x.Tips.IsZero() && x.Incentives.IsZero() && x.Expenses.IsZero() && x.Commission.IsZero()) {
		ev.Exclusions = &Exclusions{
			Tips: optAmount(x.Tips), Incentives: optAmount(x.Incentives),
			Expenses: optAmount(x.Expenses), Commission: optAmount(x.Commission),
		}
	}
	if e.Category != (gateway.Category{}) {
		ev.Category = &Category{Sector: e.Category.Sector, Vehicle: e.Category.Vehicle}
	}
	return ev
}

func amount(m gateway.Money) *Amount {
	return &Amount{Currency: string(m.Currency), Value: m.String()}
}

func optAmount(m gateway.Money) *Amount {
	if m.IsZero() {
		return nil
	}
	return amount(m)
}

// Canonical returns the normalised JSON of a domain event: the form written to
// Kafka and the input of Hash. Two events that mean the same (field order,
// spacing, "23.5" versus "23.50", offsets) have the same canonical form.
func Canonical(e gateway.Earning) []byte {
	b, err := json.Marshal(FromEarning(e))
	if err != nil {
		// Every field is a string, integer or nested struct of them.
		panic(fmt.Sprintf("feed: marshal canonical event: %v", err))
	}
	return b
}

// Hash is the SHA-256 of the canonical form; a redelivered event has the same
// hash, a conflicting one (same id, other content) a different one.
func Hash(e gateway.Earning) [32]byte { return sha256.Sum256(Canonical(e)) }

// PartitionKey is the Kafka key for an event: the worker key when known, so
// one worker's events across platforms stay in order on one partition;
// otherwise the platform and its worker reference.
func PartitionKey(e gateway.Earning) []byte {
	if e.WorkerKey != "" {
		return []byte(e.WorkerKey)
	}
	return []byte(e.PlatformID + "/" + e.WorkerRef)
}

// Identify returns the platform and event ids of a message that may not
// decode as a whole, so a rejection can still be listed for its platform.
func Identify(data []byte) (platformID, eventID string) {
	var ids struct {
		PlatformID any `json:"platform_id"`
		EventID    any `json:"event_id"`
	}
	if json.Unmarshal(data, &ids) != nil {
		return "", ""
	}
	p, _ := ids.PlatformID.(string)
	e, _ := ids.EventID.(string)
	return p, e
}

// Redact returns a message with the number of any national_id masked (all
// but its last two characters, all of a short one), for keeping or
// forwarding a message that was refused: a message produced to Kafka with a
// raw national ID is rejected (raw_national_id), and what the gateway keeps
// of it (the dead-letter topic, GET /v1/rejections) must not hold the
// number. A message with no national_id is returned as it is; one that is
// not a JSON object but mentions one is replaced whole.
func Redact(data []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		if bytes.Contains(bytes.ToLower(data), []byte("national")) {
			// Too broken to mask a field of: keep none of it.
			return []byte(`{"redacted":"the message is not a JSON object and may hold a national ID"}`)
		}
		return data
	}
	// The decoder matches field names without regard to case.
	found := false
	for name, raw := range m {
		if !strings.EqualFold(name, "national_id") {
			continue
		}
		found = true
		m[name] = redactID(raw)
	}
	if !found {
		return data
	}
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}

func redactID(raw json.RawMessage) json.RawMessage {
	var nid map[string]json.RawMessage
	if json.Unmarshal(raw, &nid) != nil {
		// Not an object: drop it whole.
		return json.RawMessage(`"(redacted)"`)
	}
	for k, v := range nid {
		if strings.EqualFold(k, "country") {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			nid[k] = json.RawMessage(`"(redacted)"`)
			continue
		}
		nid[k], _ = json.Marshal(maskID(s))
	}
	out, _ := json.Marshal(nid)
	return out
}

// Redacted returns ev with the number of its national ID masked, for a
// rejected event whose content is kept or hashed.
func (ev Event) Redacted() Event {
	if ev.NationalID != nil {
		n := *ev.NationalID
		n.Number = maskID(n.Number)
		ev.NationalID = &n
	}
	return ev
}
