package feed

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

const valid = `{"event_id":"ord-1001","platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}`

func TestDecodeValid(t *testing.T) {
	e, err := Decode([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if e.Gross != gateway.MustParseMoney("MYR", "23.50") || e.Orders != 1 || e.Kind != gateway.KindEarning {
		t.Errorf("decoded %+v", e)
	}
	if got := e.OccurredAt.UTC().Format("2006-01-02T15:04:05Z"); got != "2026-10-03T00:15:00Z" {
		t.Errorf("occurred_at = %s", got)
	}
}

// TestDecodeInvalid feeds each kind of bad input and checks the error names
// the field at fault.
func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name, body, field, code string
	}{
		{"malformed json", `{"event_id":`, "", "malformed_json"},
		{"not an object", `[1,2]`, "", "wrong_type"},
		{"empty", ``, "", "malformed_json"},
		{"trailing data", valid + `{}`, "", "malformed_json"},
		{"unknown field", strings.Replace(valid, `"region"`, `"x"`, 1)[:len(valid)-1] + `,"gros":1}`, "gros", "unknown_field"},
		{"missing event_id", strings.Replace(valid, `"event_id":"ord-1001",`, "", 1), "event_id", "required"},
		{"missing platform", strings.Replace(valid, `"platform_id":"demo",`, "", 1), "platform_id", "required"},
		{"missing occurred_at", strings.Replace(valid, `"occurred_at":"2026-10-03T08:15:00+08:00",`, "", 1), "occurred_at", "required"},
		{"occurred_at without offset", strings.Replace(valid, `+08:00`, ``, 1), "occurred_at", "bad_time"},
		{"missing gross", strings.Replace(valid, `,"gross":{"currency":"MYR","value":"23.50"}`, "", 1), "gross", "required"},
		{"gross as number", strings.Replace(valid, `"23.50"`, `23.50`, 1), "gross.value", "wrong_type"},
		{"too many decimals", strings.Replace(valid, `"23.50"`, `"23.505"`, 1), "gross.value", "too_many_decimals"},
		{"unknown currency", strings.Replace(valid, `"MYR"`, `"XXY"`, 1), "gross.currency", "unknown_currency"},
		{"missing currency", strings.Replace(valid, `"currency":"MYR",`, ``, 1), "gross.currency", "required"},
		{"negative earning", strings.Replace(valid, `"23.50"`, `"-23.50"`, 1), "gross", "negative"},
		{"orders as string", valid[:len(valid)-1] + `,"orders":"2"}`, "orders", "wrong_type"},
		{"reversal without original", valid[:len(valid)-1] + `,"kind":"reversal"}`, "reverses", "required"},
		{"unknown kind", valid[:len(valid)-1] + `,"kind":"bonus"}`, "kind", "unknown_kind"},
		{"tip in other currency", valid[:len(valid)-1] + `,"exclusions":{"tips":{"currency":"SGD","value":"1.00"}}}`, "exclusions.tips", "currency_mismatch"},
		{"bad version", valid[:len(valid)-1] + `,"version":2}`, "version", "unsupported_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			var ge *gateway.Error
			if !errors.As(err, &ge) {
				t.Fatalf("Decode() error = %v, want *gateway.Error", err)
			}
			if ge.Code != gateway.EINVALID {
				t.Errorf("code = %s, want invalid", ge.Code)
			}
			for _, d := range ge.Details {
				if d.Field == tt.field && d.Code == tt.code {
					return
				}
			}
			t.Errorf("details = %+v, want field %q code %q", ge.Details, tt.field, tt.code)
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	big := valid[:len(valid)-1] + `,"region":"` + strings.Repeat("x", MaxEventBytes) + `"}`
	_, err := Decode([]byte(big))
	if gateway.ErrorCode(err) != gateway.ETOOLARGE {
		t.Errorf("error = %v, want too_large", err)
	}
}

// TestCanonical checks that spellings of the same event share one canonical
// form and hash, and that a different event does not.
func TestCanonical(t *testing.T) {
	same := `{ "gross": {"value":"23.5","currency":"MYR"}, "platform_id":"demo", "event_id":"ord-1001",
		"worker_ref":"drv-77", "occurred_at":"2026-10-03T00:15:00Z", "orders": 1, "kind": "earning" }`
	a, err := Decode([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode([]byte(same))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Canonical(a), Canonical(b)) || Hash(a) != Hash(b) {
		t.Errorf("canonical forms differ:\n%s\n%s", Canonical(a), Canonical(b))
	}
	c, err := Decode([]byte(strings.Replace(valid, `"23.50"`, `"23.51"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if Hash(a) == Hash(c) {
		t.Error("different amounts share a hash")
	}
	// The canonical form decodes to the same event.
	back, err := Decode(Canonical(a))
	if err != nil {
		t.Fatal(err)
	}
	if Hash(back) != Hash(a) {
		t.Errorf("round trip changed the event: %s", Canonical(back))
	}
}

func TestIdentify(t *testing.T) {
	p, e := Identify([]byte(`{"platform_id":"demo","event_id":"x","gross":12}`))
	if p != "demo" || e != "x" {
		t.Errorf("Identify = %q %q", p, e)
	}
	if p, e := Identify([]byte(`not json`)); p != "" || e != "" {
		t.Errorf("Identify(garbage) = %q %q", p, e)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte(`{"gross":{"currency":"KRW","value":"-1"},"kind":"reversal"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data)
		if err != nil {
			if gateway.ErrorCode(err) == gateway.EINTERNAL {
				t.Fatalf("internal error for input: %v", err)
			}
			return
		}
		// Whatever decodes re-decodes from its canonical form to the same event.
		back, err := Decode(Canonical(e))
		if err != nil || Hash(back) != Hash(e) {
			t.Fatalf("canonical round trip: %v", err)
		}
	})
}
