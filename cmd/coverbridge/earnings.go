package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const earningsUsage = `usage: coverbridge earnings upload [flags] FILE.csv

Uploads an earnings CSV file to POST /v1/earnings.csv as a stream, with a
progress bar on stderr, and prints the summary: rows, accepted, duplicates,
rejected. Rejected rows, with the reason appended, can be saved with
--rejections.

flags:
`

// runEarnings runs "coverbridge earnings upload".
func runEarnings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "upload" {
		fmt.Fprint(stderr, earningsUsage)
		return usageError{"earnings: the only subcommand is upload"}
	}
	fs := flag.NewFlagSet("earnings upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, earningsUsage); fs.PrintDefaults() }
	api := fs.String("api", envOr("COVERBRIDGE_API", "http://127.0.0.1:8080"), "base URL of the API (env COVERBRIDGE_API)")
	key := fs.String("key", os.Getenv("COVERBRIDGE_API_KEY"), "API key (env COVERBRIDGE_API_KEY)")
	platform := fs.String("platform", "", "platform to upload for: needed with an admin key, checked with a platform key")
	rejections := fs.String("rejections", "", "save the rejected rows, with their reasons, to this file")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"earnings upload takes one CSV file"}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	c := apiClient{base: strings.TrimRight(*api, "/"), key: *key, platform: *platform}

	p := &progress{total: info.Size(), start: time.Now()}
	body := &countingReader{r: f, p: p}
	stop := func() {}
	if !*quiet {
		stop = p.show(stderr)
	}
	var sum uploadSummary
	err = c.do(ctx, http.MethodPost, "/v1/earnings.csv", "text/csv", body, info.Size(), &sum)
	stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rows %d, accepted %d, duplicates %d, rejected %d (upload %s)\n",
		sum.Rows, sum.Accepted, sum.Duplicates, sum.Rejected, sum.UploadID)
	if sum.Rejected == 0 {
		return nil
	}
	if *rejections == "" {
		fmt.Fprintf(stdout, "rejected rows: %s%s (or run again with --rejections FILE)\n", c.base, sum.RejectionsURL)
		return nil
	}
	out, err := os.Create(*rejections)
	if err != nil {
		return err
	}
	if err := c.download(ctx, sum.RejectionsURL, out); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rejected rows written to %s\n", *rejections)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// uploadSummary is the answer to a CSV upload.
type uploadSummary struct {
	UploadID      string `json:"upload_id"`
	Rows          int    `json:"rows"`
	Accepted      int    `json:"accepted"`
	Duplicates    int    `json:"duplicates"`
	Rejected      int    `json:"rejected"`
	RejectionsURL string `json:"rejections_url"`
}

// apiClient calls the API with a key.
type apiClient struct {
	base, key, platform string
}

func (c apiClient) request(ctx context.Context, method, path, contentType string, body io.Reader, size int64) (*http.Response, error) {
	u := c.base + path
	if c.platform != "" {
		u += "?platform_id=" + url.QueryEscape(c.platform)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", contentType)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, answerError(method, path, resp)
	}
	return resp, nil
}

func (c apiClient) do(ctx context.Context, method, path, contentType string, body io.Reader, size int64, out any) error {
	resp, err := c.request(ctx, method, path, contentType, body, size)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return nil
}

func (c apiClient) download(ctx context.Context, path string, w io.Writer) error {
	resp, err := c.request(ctx, http.MethodGet, path, "", nil, 0)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// answerError describes an error answer of the API: its code, message and
// the fields or lines at fault.
func answerError(method, path string, resp *http.Response) error {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field   string `json:"field"`
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"details"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(data, &e) != nil || e.Code == "" {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s: %s", method, path, resp.StatusCode, e.Code, e.Message)
	for _, d := range e.Details {
		b.WriteString("\n  ")
		if d.Line > 0 {
			fmt.Fprintf(&b, "line %d ", d.Line)
		}
		if d.Field != "" {
			b.WriteString(d.Field + ": ")
		}
		b.WriteString(d.Message)
	}
	return errors.New(b.String())
}

// progress counts what an upload has sent.
type progress struct {
	total int64
	start time.Time
	sent  atomic.Int64
	rows  atomic.Int64 // line breaks sent: rows, give or take quoted ones
}

type countingReader struct {
	r io.Reader
	p *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.sent.Add(int64(n))
	c.p.rows.Add(int64(bytes.Count(b[:n], []byte{'\n'})))
	return n, err
}

// show draws the progress bar on w every 200ms until the returned function
// is called, which draws it a last time and ends the line.
func (p *progress) show(w io.Writer) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintf(w, "\r%s\n", p.line())
				return
			case <-t.C:
				fmt.Fprintf(w, "\r%s", p.line())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// line is the progress bar: bar, percentage, bytes sent of the total and
// rows a second.
func (p *progress) line() string {
	const width = 30
	sent, rows := p.sent.Load(), p.rows.Load()
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(sent)/float64(p.total), 1)
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	// Rows sent over the time so far: the gateway reads the file as it
	// arrives, and the last bytes sent wait in buffers until it has read
	// them, so this is the rate it takes rows at.
	secs := max(time.Since(p.start).Seconds(), 0.001)
	line := fmt.Sprintf("[%s] %3.0f%% %s / %s  %.0f rows/s", bar, frac*100, size(sent), size(p.total), float64(rows)/secs)
	if sent >= p.total {
		line += "  sent; waiting for the summary"
	}
	return line + " "
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
