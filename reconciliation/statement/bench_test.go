package statement

import (
	"fmt"
	"iter"
	"strings"
	"testing"
)

// BenchmarkBuild builds one statement from 1,000,000 ledger entries of
// 100,000 workers, streamed, and reports entries per second.
//
//	go test ./reconciliation/statement -run '^$' -bench Build -benchtime 3x
func BenchmarkBuild(b *testing.B) {
	const workers, entries = 100_000, 1_000_000
	keys := make([]string, workers)
	for i := range keys {
		keys[i] = fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15)
	}
	ledger := func(yield func(Entry) bool) {
		for i := range entries {
			e := entry(keys[(i*7919)%workers], int64(100+i%900), int64(175+i%900))
			if !yield(e) {
				return
			}
		}
	}
	sp := spec(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		st, err := Build(sp, iter.Seq[Entry](ledger), nil)
		if err != nil || len(st.Lines) != workers {
			b.Fatal(err, len(st.Lines))
		}
	}
	b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkParseAdviceCSV reads an advice file of 100,000 lines.
func BenchmarkParseAdviceCSV(b *testing.B) {
	const lines = 100_000
	var sb strings.Builder
	sb.WriteString("payment_reference,value_date,currency,worker_key,amount\n")
	for i := range lines {
		fmt.Fprintf(&sb, "RF41SOCS0000162026100000,2026-11-14,MYR,%064x,%d.%02d\n", uint64(i)*0x9e3779b97f4a7c15, 10+i%500, i%100)
	}
	file := sb.String()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		a, err := ParseAdviceCSV(strings.NewReader(file), "laju", CSVConfig{})
		if err != nil || len(a[0].Lines) != lines {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
