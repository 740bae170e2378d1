package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEarningsUpload(t *testing.T) {
	const file = "event_id,worker_ref,occurred_at,currency,gross\nord-1,drv-1,2026-10-03T08:15:00+08:00,MYR,1.00\nord-2,drv-1,2026-10-03T08:15:00+08:00,MYR,1.005\n"
	var got struct {
		auth, contentType, query string
		body                     []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/earnings.csv":
			got.auth, got.contentType, got.query = r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.URL.RawQuery
			got.body, _ = io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"upload_id":"abc","rows":2,"accepted":1,"duplicates":0,"rejected":1,"rejections_url":"/v1/earnings.csv/abc/rejections"}`)
		case "/v1/earnings.csv/abc/rejections":
			io.WriteString(w, "event_id,error_code\nord-2,too_many_decimals\n")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "earnings.csv")
	if err := os.WriteFile(in, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rejected.csv")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"earnings", "upload", "--api", srv.URL, "--key", "cbk_test_1", "--platform", "demo", "--rejections", out, in}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, stderr.String())
	}
	if got.auth != "Bearer cbk_test_1" || got.contentType != "text/csv" || got.query != "platform_id=demo" || string(got.body) != file {
		t.Errorf("request = %+v", got)
	}
	if !strings.Contains(stdout.String(), "rows 2, accepted 1, duplicates 0, rejected 1") {
		t.Errorf("stdout = %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "100%") || !strings.Contains(stderr.String(), "rows/s") {
		t.Errorf("progress = %q, want a finished bar with rows/s", stderr.String())
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "too_many_decimals") {
		t.Errorf("rejections file = %q, %v", b, err)
	}
}

func TestEarningsUploadError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":"invalid","message":"the CSV header is not valid","details":[{"field":"bonus","line":1,"message":"unknown column"}]}`)
	}))
	defer srv.Close()
	in := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(in, []byte("bonus\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"earnings", "upload", "--quiet", "--api", srv.URL, in}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "400 invalid") || !strings.Contains(err.Error(), "line 1 bonus: unknown column") {
		t.Errorf("err = %v, want the answer's code and details", err)
	}
	if err := run(context.Background(), []string{"earnings", "upload"}, &stdout, &stderr); err == nil {
		t.Error("upload without a file succeeded")
	}
}
