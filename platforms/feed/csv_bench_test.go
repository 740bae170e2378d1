package feed

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// csvGenerator is an io.Reader over a generated earnings CSV file of rows
// data rows, made on the fly so that no file of that size exists anywhere.
// Every 50th row is invalid (too many decimals).
type csvGenerator struct {
	rows, next int
	buf        []byte
	off        int
	header     bool
}

func newCSVGenerator(rows int) *csvGenerator {
	return &csvGenerator{rows: rows, buf: make([]byte, 0, 64<<10)}
}

func (g *csvGenerator) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if g.off == len(g.buf) && !g.fill() {
			if n == 0 {
				return 0, io.EOF
			}
			break
		}
		c := copy(p[n:], g.buf[g.off:])
		g.off += c
		n += c
	}
	return n, nil
}

// fill makes the next few hundred rows; false at the end.
func (g *csvGenerator) fill() bool {
	g.buf, g.off = g.buf[:0], 0
	if !g.header {
		g.header = true
		g.buf = append(g.buf, "event_id,worker_ref,occurred_at,currency,gross,tips,orders,sector,vehicle,region,kind\n"...)
	}
	for g.next < g.rows && len(g.buf) < cap(g.buf)-256 {
		i := g.next
		g.next++
		b := g.buf
		b = append(b, "ev-"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ",drv-"...)
		b = strconv.AppendInt(b, int64(i%5000), 10)
		b = append(b, ",2026-10-03T08:"...)
		b = append(b, byte('0'+i/600%6), byte('0'+i/60%10), ':', byte('0'+i/10%6), byte('0'+i%10))
		b = append(b, "+08:00,MYR,"...)
		b = strconv.AppendInt(b, int64(10+i%90), 10)
		b = append(b, '.')
		b = append(b, byte('0'+i/10%10), byte('0'+i%10))
		if i%50 == 49 {
			b = append(b, '5')
		}
		b = append(b, ',')
		if i%3 == 0 {
			b = append(b, "1.00"...)
		}
		b = append(b, ",1,food_delivery,2w,MY-14,earning\n"...)
		g.buf = b
	}
	return len(g.buf) > 0
}

// streamCSV reads every row of a generated file and returns the number of
// accepted and rejected rows. sample, when not nil, is called every
// sampleEvery rows.
func streamCSV(tb testing.TB, rows int, sampleEvery int, sample func()) (accepted, rejected int) {
	r := NewCSVReader(newCSVGenerator(rows), CSVDefaults{PlatformID: "demo", Currency: "MYR",
		Now: func() time.Time { return csvNow }})
	for n := 1; ; n++ {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return accepted, rejected
		}
		if err != nil {
			tb.Fatal(err)
		}
		if row.Err != nil {
			rejected++
		} else {
			accepted++
		}
		if sample != nil && n%sampleEvery == 0 {
			sample()
		}
	}
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestCSVReaderConstantMemory streams a large generated file and checks that
// the live heap after the last row is no larger than after the first few
// thousand: memory does not depend on the number of rows.
func TestCSVReaderConstantMemory(t *testing.T) {
	rows := 200_000
	if testing.Short() {
		rows = 50_000
	}
	var first, peak uint64
	accepted, rejected := streamCSV(t, rows, 25_000, func() {
		h := liveHeap()
		if first == 0 {
			first = h
		}
		peak = max(peak, h)
	})
	if accepted+rejected != rows || rejected != rows/50 {
		t.Fatalf("accepted %d rejected %d of %d", accepted, rejected, rows)
	}
	// Allow for noise from the runtime and the test framework, far below
	// what keeping even one byte per row would cost.
	if peak > first+64<<10 {
		t.Errorf("live heap grew from %d to %d bytes over %d rows", first, peak, rows)
	}
	t.Logf("live heap: %d bytes after 25,000 rows, at most %d over %d rows", first, peak, rows)
}

// BenchmarkCSVReader streams generated files of 100,000 and 1,000,000 rows.
// Besides ns/op, B/op and allocs/op for a whole file it reports rows/s,
// bytes and allocations per row, and the largest live heap seen (sampled
// with a forced collection every 100,000 rows, timer stopped). B/op grows
// with the rows because each row's short-lived values are garbage; B/row
// and peak-live-B stay flat, which is what constant memory means.
func BenchmarkCSVReader(b *testing.B) {
	for _, rows := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for b.Loop() {
				streamCSV(b, rows, 100_000, func() {
					b.StopTimer()
					peak = max(peak, liveHeap())
					b.StartTimer()
				})
			}
			runtime.ReadMemStats(&m1)
			total := float64(rows) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/total, "B/row")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/total, "allocs/row")
			b.ReportMetric(float64(peak), "peak-live-B")
		})
	}
}
