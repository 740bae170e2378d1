package feed_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/coverbridge/coverbridge/platforms/feed"
)

// A platform uploads a file; accepted rows go on, rejected rows go back in a
// reject file with the reason appended.
func ExampleCSVReader() {
	file := strings.NewReader(`event_id,worker_ref,occurred_at,currency,gross,tips
ord-1,drv-77,2026-10-03T08:15:00+08:00,MYR,23.50,2.00
ord-2,drv-78,2026-10-03T09:00:00+08:00,MYR,12.345,
ord-3,drv-77,2026-10-03T10:30:00+08:00,MYR,8.00,
`)
	r := feed.NewCSVReader(file, feed.CSVDefaults{PlatformID: "demo"})
	header, err := r.Header()
	if err != nil {
		fmt.Println(err)
		return
	}
	rejects, err := feed.NewRejectWriter(os.Stdout, header)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if row.Err != nil {
			_ = rejects.Write(row)
			continue
		}
		fmt.Printf("line %d: %s %s %s\n", row.Line, row.Earning.EventID, row.Earning.Gross, row.Earning.Gross.Currency)
	}
	_ = rejects.Flush()
	// Output:
	// line 2: ord-1 23.50 MYR
	// line 4: ord-3 8.00 MYR
	// event_id,worker_ref,occurred_at,currency,gross,tips,error_line,error_code,error_field,error_message
	// ord-2,drv-78,2026-10-03T09:00:00+08:00,MYR,12.345,,3,too_many_decimals,gross,"gross: amount ""12.345"" has 3 decimals; the currency has 2"
}
