package identity_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coverbridge/coverbridge/platforms/identity"
)

func TestMask(t *testing.T) {
	tests := []struct{ id, want string }{
		{"360426199101010071", "**************0071"},
		{"360426-19910101-0071", "**************0071"},
		{"234123412346", "********2346"},
		{"9710131019901", "*********9901"},
		{"85.07.30-033 28", "********328"},
		{"S1234567D", "******67D"},
		{"s1234567d", "******67D"},
		{"12.531.909-2", "******092"},
		{"51266633", "******33"},
		{"123456", "****56"},
		{"12345", "*****"},
		{"", ""},
		{"12 34\xff5678", "******678"}, // not a number: masked all the same
	}
	for _, tt := range tests {
		if got := identity.Mask(tt.id); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestRedactedNeverPrintsTheID(t *testing.T) {
	const id = "360426199101010071"
	r := identity.Redact(id)
	if r.Reveal() != id {
		t.Fatalf("Reveal = %q", r.Reveal())
	}
	var outputs []string
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%-30v"} {
		outputs = append(outputs, fmt.Sprintf(verb, r))
		outputs = append(outputs, fmt.Sprintf(verb, struct{ ID identity.Redacted }{r}))
		outputs = append(outputs, fmt.Sprintf(verb, &r))
	}
	outputs = append(outputs, fmt.Sprint(r), fmt.Sprintln(r), r.String(), r.GoString())

	j, err := json.Marshal(struct {
		ID identity.Redacted `json:"id"`
	}{r})
	if err != nil {
		t.Fatal(err)
	}
	if string(j) != `{"id":"**************0071"}` {
		t.Errorf("JSON = %s", j)
	}
	outputs = append(outputs, string(j))

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("registered", "national_id", r, "group", slog.GroupValue(slog.Any("id", r)))
	}
	outputs = append(outputs, buf.String())

	for _, out := range outputs {
		if strings.Contains(out, id) || strings.Contains(out, id[:14]) {
			t.Errorf("output %q holds the ID", out)
		}
	}
	if !strings.Contains(buf.String(), "**************0071") {
		t.Errorf("log output %q lacks the masked ID", buf.String())
	}
}
