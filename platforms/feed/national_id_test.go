package feed

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// nationalIDCases are events naming the worker by national ID, once as JSON
// and once as a CSV row under csvHeaderAll. The valid number is
// 900101145678 (testWorkerKey); field is the JSON field of the first
// detail of a rejected event, code its code.
var nationalIDCases = []struct {
	name, json, csv string
	field, code     string
}{
	{name: "reference and national ID",
		json: `{"event_id":"n1","platform_id":"demo","worker_ref":"drv-77","national_id":{"country":"MY","number":"900101145678"},"occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`,
		csv:  `n1,demo,drv-77,MY,900101145678,2026-10-03T08:15:00+08:00,MYR,1.00,,,,,,,,,,`},
	{name: "national ID alone",
		json: `{"event_id":"n2","platform_id":"demo","national_id":{"country":"MY","number":"900101145678"},"occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`,
		csv:  `n2,demo,,MY,900101145678,2026-10-03T08:15:00+08:00,MYR,1.00,,,,,,,,,,`},
	{name: "bad check digit",
		json:  `{"event_id":"n3","platform_id":"demo","worker_ref":"drv-77","national_id":{"country":"MY","number":"900101145677"},"occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`,
		csv:   `n3,demo,drv-77,MY,900101145677,2026-10-03T08:15:00+08:00,MYR,1.00,,,,,,,,,,`,
		field: "national_id.number", code: "bad_check_digit"},
	{name: "bad length and bad money together",
		json:  `{"event_id":"n4","platform_id":"demo","worker_ref":"drv-77","national_id":{"country":"MY","number":"9001"},"occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.005"}}`,
		csv:   `n4,demo,drv-77,MY,9001,2026-10-03T08:15:00+08:00,MYR,1.005,,,,,,,,,,`,
		field: "national_id.number", code: "bad_length"},
	{name: "unsupported country",
		json:  `{"event_id":"n5","platform_id":"demo","worker_ref":"drv-77","national_id":{"country":"XX","number":"900101145678"},"occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`,
		csv:   `n5,demo,drv-77,XX,900101145678,2026-10-03T08:15:00+08:00,MYR,1.00,,,,,,,,,,`,
		field: "national_id.country", code: "unsupported_country"},
	{name: "no worker at all",
		json:  `{"event_id":"n6","platform_id":"demo","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`,
		csv:   `n6,demo,,,,2026-10-03T08:15:00+08:00,MYR,1.00,,,,,,,,,,`,
		field: "worker_ref", code: CodeNoWorker},
}

// jsonColumn is the CSV column of a JSON field about the worker.
func jsonColumn(field string) string {
	switch field {
	case "national_id.number":
		return "national_id"
	case "national_id.country":
		return "national_id_country"
	}
	return field
}

// TestNationalIDAtEveryDoor checks that a national ID is validated the same
// way at the JSON door (Policy.WorkerKey) and the CSV door
// (CSVDefaults.WorkerKey): the same events accepted with the same canonical
// form, keyed by the worker key; the same codes and messages for the
// rejected ones, on national_id.number or national_id.country in JSON and on
// the matching column in CSV. The Kafka door (Decode, no keyer) refuses
// every event that carries a national ID.
func TestNationalIDAtEveryDoor(t *testing.T) {
	p := Policy{PlatformID: "demo", WorkerKey: testWorkerKey}
	for _, tt := range nationalIDCases {
		t.Run(tt.name, func(t *testing.T) {
			fromJSON, jsonErr := p.Decode([]byte(tt.json))
			rows := readAll(t, csvHeaderAll+tt.csv+"\n", CSVDefaults{WorkerKey: testWorkerKey, Now: func() time.Time { return csvNow }})
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(rows))
			}
			row := rows[0]
			if tt.code == "" {
				if jsonErr != nil || row.Err != nil {
					t.Fatalf("JSON %v, CSV %v; want both accepted", jsonErr, row.Err)
				}
				if fromJSON.WorkerKey != "wk-900101145678" {
					t.Errorf("worker key = %q, want the keyed national ID", fromJSON.WorkerKey)
				}
				j, c := Canonical(fromJSON), Canonical(row.Earning)
				if !bytes.Equal(j, c) {
					t.Errorf("canonical forms differ:\nJSON %s\nCSV  %s", j, c)
				}
				if bytes.Contains(j, []byte("national_id")) {
					t.Errorf("canonical form %s names a national ID", j)
				}
			} else {
				je, ok := jsonErr.(*gateway.Error)
				if !ok || je.Code != gateway.EINVALID || row.Err == nil {
					t.Fatalf("JSON %v, CSV %v; want both rejected", jsonErr, row.Err)
				}
				if je.Details[0].Field != tt.field || je.Details[0].Code != tt.code {
					t.Errorf("JSON details = %+v, want %s %s first", je.Details, tt.field, tt.code)
				}
				if len(je.Details) != len(row.Err.Details) {
					t.Fatalf("details differ:\nJSON %+v\nCSV  %+v", je.Details, row.Err.Details)
				}
				for i, d := range je.Details {
					c := row.Err.Details[i]
					if c.Code != d.Code || c.Message != d.Message || c.Field != jsonColumn(d.Field) &&
						!(d.Field == "gross.value" && c.Field == "gross") {
						t.Errorf("detail %d: CSV %+v, JSON %+v", i, c, d)
					}
				}
			}
			for _, text := range []string{"900101145678", "900101145677", "9001"} {
				if jsonErr != nil && strings.Contains(jsonErr.Error(), text) && strings.Contains(tt.json, text) {
					t.Errorf("the error names the national ID: %v", jsonErr)
				}
			}

			// Kafka door: no keyer, a raw national ID is refused.
			_, kerr := Decode([]byte(tt.json))
			if strings.Contains(tt.json, "national_id") {
				ke, ok := kerr.(*gateway.Error)
				if !ok || !hasDetail(ke.Details, "national_id", CodeRawNationalID) {
					t.Errorf("Kafka door: %v, want raw_national_id on national_id", kerr)
				}
			}
		})
	}
}

func TestNationalIDWithWorkerKeyIsAmbiguous(t *testing.T) {
	p := Policy{PlatformID: "demo", WorkerKey: testWorkerKey}
	_, err := p.Decode([]byte(`{"event_id":"n","worker_ref":"w","worker_key":"k","national_id":{"country":"MY","number":"900101145678"},"occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`))
	if ge, ok := err.(*gateway.Error); !ok || !hasDetail(ge.Details, "national_id", CodeWorkerKeyAndNationalID) {
		t.Errorf("Decode = %v, want %s", err, CodeWorkerKeyAndNationalID)
	}
	_, err = p.Decode([]byte(`{"event_id":"n","worker_ref":"w","national_id":{"number":"900101145678"},"occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"1.00"}}`))
	if ge, ok := err.(*gateway.Error); !ok || !hasDetail(ge.Details, "national_id.country", "required") {
		t.Errorf("Decode = %v, want national_id.country required", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, gone string }{
		{`{"event_id":"e","national_id":{"country":"MY","number":"900101145678"}}`, "9001011456"},
		{`{"event_id":"e","National_ID":{"Number":"900101145678","country":"MY"}}`, "9001011456"},
		{`{"event_id":"e","national_id":"900101145678"}`, "900101145678"},
		{`{"event_id":"e","national_id":{"number":"900101145678"`, "900101145678"},
	}
	for _, tt := range tests {
		out := Redact([]byte(tt.in))
		if bytes.Contains(out, []byte(tt.gone)) {
			t.Errorf("Redact(%s) = %s, still holds the number", tt.in, out)
		}
		if json.Valid([]byte(tt.in)) {
			platform, event := Identify(out)
			if event != "e" || platform != "" {
				t.Errorf("Redact(%s) = %s lost the event id", tt.in, out)
			}
		}
	}
	plain := []byte(`{"event_id":"e","worker_ref":"w"}`)
	if out := Redact(plain); !bytes.Equal(out, plain) {
		t.Errorf("Redact changed a message without national ID: %s", out)
	}
}
