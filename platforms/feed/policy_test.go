package feed

import (
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

func TestPolicy(t *testing.T) {
	now := time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)
	p := Policy{PlatformID: "demo", Currency: "MYR", Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Now: func() time.Time { return now }, MaxSkew: time.Minute}
	const good = `{"event_id":"e1","worker_ref":"w1","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}`
	tests := []struct {
		name, body  string
		code, field string
		detail      string
	}{
		{name: "good, platform filled in", body: good},
		{name: "good, platform named", body: strings.Replace(good, `{`, `{"platform_id":"demo",`, 1)},
		{name: "another platform", body: strings.Replace(good, `{`, `{"platform_id":"other",`, 1),
			code: gateway.ENOTFOUND, field: "platform_id", detail: CodePlatformMismatch},
		{name: "another platform and bad content", body: `{"platform_id":"other","gross":{"currency":"MYR","value":1}}`,
			code: gateway.ENOTFOUND, field: "platform_id", detail: CodePlatformMismatch},
		{name: "wrong currency", body: strings.Replace(good, `"MYR"`, `"SGD"`, 1),
			code: gateway.EINVALID, field: "gross.currency", detail: CodeWrongCurrency},
		{name: "in the future", body: strings.Replace(good, "2026-10-03T08:15:00+08:00", "2026-10-10T00:01:01Z", 1),
			code: gateway.EINVALID, field: "occurred_at", detail: CodeInFuture},
		{name: "within the skew", body: strings.Replace(good, "2026-10-03T08:15:00+08:00", "2026-10-10T00:01:00Z", 1)},
		{name: "before the platform", body: strings.Replace(good, "2026-10-03T08:15:00+08:00", "2025-12-31T23:59:59Z", 1),
			code: gateway.EINVALID, field: "occurred_at", detail: CodeBeforePlatform},
		{name: "content error", body: strings.Replace(good, `"23.50"`, `"23.505"`, 1),
			code: gateway.EINVALID, field: "gross.value", detail: "too_many_decimals"},
		{name: "unknown field", body: strings.Replace(good, `{`, `{"tip":1,`, 1),
			code: gateway.EINVALID, field: "tip", detail: "unknown_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := p.Decode([]byte(tt.body))
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if e.PlatformID != "demo" {
					t.Errorf("platform = %q, want demo", e.PlatformID)
				}
				if err := p.Check(e); err != nil {
					t.Errorf("Check of a decoded event: %v", err)
				}
				return
			}
			if gateway.ErrorCode(err) != tt.code {
				t.Fatalf("Decode error = %v, want code %s", err, tt.code)
			}
			ge := err.(*gateway.Error)
			if !hasDetail(ge.Details, tt.field, tt.detail) {
				t.Errorf("details = %+v, want %s %s", ge.Details, tt.field, tt.detail)
			}
			if tt.code == gateway.ENOTFOUND && len(ge.Details) != 1 {
				t.Errorf("a platform mismatch says more than that: %+v", ge.Details)
			}
		})
	}
}

func TestPolicyWithoutClockSkipsFutureCheck(t *testing.T) {
	e, err := Decode([]byte(`{"event_id":"e1","platform_id":"demo","worker_ref":"w1","occurred_at":"2099-01-01T00:00:00Z","gross":{"currency":"MYR","value":"1.00"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := (Policy{Currency: "MYR"}).Check(e); err != nil {
		t.Errorf("Check without Now = %v, want nil", err)
	}
	if err := (Policy{PlatformID: "other"}).Check(e); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("Check of another platform = %v, want not_found", err)
	}
}
