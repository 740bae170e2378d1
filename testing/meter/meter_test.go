package meter

import (
	"testing"
	"time"
)

func TestProcessCPUGrows(t *testing.T) {
	start := ProcessCPU()
	deadline := time.Now().Add(2 * time.Second)
	x := 0
	for ProcessCPU()-start < 20*time.Millisecond && time.Now().Before(deadline) {
		for i := range 100_000 {
			x += i
		}
	}
	if ProcessCPU()-start < 20*time.Millisecond {
		t.Errorf("20 ms of spinning did not show in ProcessCPU (%d)", x)
	}
}

func TestWatchHeapSeesAnAllocation(t *testing.T) {
	stop := WatchHeap(time.Millisecond)
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	time.Sleep(20 * time.Millisecond)
	peak := stop()
	if peak < 64<<20 {
		t.Errorf("peak %d bytes while 64 MiB were live", peak)
	}
	_ = buf[len(buf)-1]
}
