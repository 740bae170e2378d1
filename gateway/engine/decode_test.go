package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

const validEvent = `{"event_id":"ord-1001","platform_id":"demo","worker_ref":"drv-77","occurred_at":"2026-10-03T08:15:00+08:00","gross":{"currency":"MYR","value":"23.50"}}`

// decodeCorpus is feed's own test inputs, canonical events with every field
// set, and inputs at the edges of the subset decode reads itself.
func decodeCorpus() []string {
	v := validEvent
	full := feed.Canonical(gateway.Earning{
		EventID: "ord-1", PlatformID: "demo", WorkerRef: "drv-ü", WorkerKey: "k", Region: "MY-14",
		OccurredAt: time.Date(2026, 10, 3, 8, 15, 0, 0, time.UTC), Gross: gateway.MustParseMoney("MYR", "23.50"),
		Exclusions: gateway.Exclusions{Tips: gateway.MustParseMoney("MYR", "1.00"), Incentives: gateway.MustParseMoney("MYR", "2.00"),
			Expenses: gateway.MustParseMoney("MYR", "3.00"), Commission: gateway.MustParseMoney("MYR", "4.00")},
		Orders: 3, Category: gateway.Category{Sector: "ride_hailing", Vehicle: "4w"}, Kind: gateway.KindReversal, Reverses: "ord-0",
	})
	corpus := []string{
		v, string(full), `{"event_id":`, `[1,2]`, ``, ` `, `{}`, `null`, v + `{}`, v + " \n", " \t\r\n" + v,
		strings.Replace(v, `"platform_id"`, `"gros"`, 1),
		strings.Replace(v, `"event_id":"ord-1001",`, "", 1),
		strings.Replace(v, `+08:00`, ``, 1),
		strings.Replace(v, `"23.50"`, `23.50`, 1),
		strings.Replace(v, `"23.50"`, `"23.505"`, 1),
		strings.Replace(v, `"MYR"`, `"XXY"`, 1),
		strings.Replace(v, `"currency":"MYR",`, ``, 1),
		strings.Replace(v, `"23.50"`, `"-23.50"`, 1),
		strings.Replace(v, `"event_id"`, `"Event_ID"`, 1),
		strings.Replace(v, `"drv-77"`, `"drv-\u0037\"7"`, 1),
		strings.Replace(v, `"drv-77"`, "\"drv-\xff\"", 1),
		strings.Replace(v, `"drv-77"`, "\"drv-\x01\"", 1),
		strings.Replace(v, `"drv-77"`, `null`, 1),
		strings.Replace(v, `{"currency"`, `{"currency":"SGD","currency"`, 1),
		strings.Replace(v, `,"gross"`, `,"event_id":"again","gross"`, 1),
		strings.Replace(v, `"gross":{"currency":"MYR","value":"23.50"}`, `"gross":null`, 1),
		strings.Replace(v, `"gross":{"currency":"MYR","value":"23.50"}`, `"gross":{}`, 1),
		strings.Replace(v, `:`, ` : `, -1),
		strings.Replace(v, `,`, "\n,\t", -1),
		v[:len(v)-1] + `,"orders":"2"}`,
		v[:len(v)-1] + `,"orders":2.0}`,
		v[:len(v)-1] + `,"orders":1e2}`,
		v[:len(v)-1] + `,"orders":-0}`,
		v[:len(v)-1] + `,"orders":007}`,
		v[:len(v)-1] + `,"orders":123456789012345678}`,
		v[:len(v)-1] + `,"orders":1234567890123456789}`,
		v[:len(v)-1] + `,"orders":99999999999999999999}`,
		v[:len(v)-1] + `,"orders":-}`,
		v[:len(v)-1] + `,"kind":"reversal"}`,
		v[:len(v)-1] + `,"kind":"bonus"}`,
		v[:len(v)-1] + `,"exclusions":{"tips":{"currency":"SGD","value":"1.00"}}}`,
		v[:len(v)-1] + `,"exclusions":{"tip":{"currency":"MYR","value":"1.00"}}}`,
		v[:len(v)-1] + `,"exclusions":{}}`,
		v[:len(v)-1] + `,"category":{"sector":"x","vehicle":"y","z":1}}`,
		v[:len(v)-1] + `,"version":2}`,
		v[:len(v)-1] + `,"version":1}`,
		v[:len(v)-1] + `,"national_id":{"country":"MY","number":"900101-14-5678"}}`,
		`{"event_id":"x","platform_id":"demo","worker_ref":"r","occurred_at":"2026-10-03T08:15:00Z","gross":{"currency":"MYR","value":"1"},"region":"` + strings.Repeat("x", feed.MaxEventBytes) + `"}`,
	}
	return corpus
}

// sameAsFeed fails when decode and feed.Decode differ on data: the same
// event, or the same error with the same details.
func sameAsFeed(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := decode(data)
	want, wantErr := feed.Decode(data)
	if !reflect.DeepEqual(got, want) || fmt.Sprintf("%#v", gotErr) != fmt.Sprintf("%#v", wantErr) {
		t.Errorf("decode(%q):\n got %+v, %#v\nwant %+v, %#v", data, got, gotErr, want, wantErr)
	}
}

// TestDecodeMatchesFeed runs both decoders over the corpus, every prefix
// of its inputs and each input with every byte replaced by characters
// that matter to JSON.
func TestDecodeMatchesFeed(t *testing.T) {
	for _, in := range decodeCorpus() {
		sameAsFeed(t, []byte(in))
		if len(in) > 1000 {
			continue
		}
		for i := range len(in) {
			sameAsFeed(t, []byte(in[:i]))
			for _, c := range []byte("{}[]\":,\\ 0-1.eEnx\x00\x80") {
				b := []byte(in)
				b[i] = c
				sameAsFeed(t, b)
			}
		}
	}
}

// TestDecodeFastPath checks that canonical events, the engine's usual
// input, are read without feed.Decode.
func TestDecodeFastPath(t *testing.T) {
	for _, in := range decodeCorpus()[:2] {
		var ev feed.Event
		if !fastEvent([]byte(in), &ev) {
			t.Errorf("%s: not read by the fast path", in)
		}
	}
}

func FuzzDecodeMatchesFeed(f *testing.F) {
	for _, in := range decodeCorpus() {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAsFeed(t, data) })
}

func BenchmarkDecode(b *testing.B) {
	data := feed.Canonical(gateway.Earning{EventID: "ord-0000000001", PlatformID: "ride-my", WorkerRef: "w12345",
		WorkerKey: "9e3779b97f4a7c159e3779b97f4a7c15", OccurredAt: time.Date(2026, 1, 7, 10, 11, 12, 0, time.UTC),
		Gross: gateway.MustParseMoney("MYR", "23.50"), Orders: 1, Kind: gateway.KindEarning})
	b.Run("engine", func(b *testing.B) {
		for b.Loop() {
			if _, err := decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("feed", func(b *testing.B) {
		for b.Loop() {
			if _, err := feed.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
