package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/platforms/feed"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// uploadChunk is how many accepted rows of a CSV upload go to Kafka in one
// Publish call.
const uploadChunk = 1000

// uploadRetention is how long the rejected rows of an upload can be
// downloaded.
const uploadRetention = 7 * 24 * time.Hour

// uploadSummary is the answer to a CSV upload, also kept beside its rejected
// rows.
type uploadSummary struct {
	UploadID      string    `json:"upload_id"`
	Rows          int       `json:"rows"`
	Accepted      int       `json:"accepted"`
	Duplicates    int       `json:"duplicates"`
	Rejected      int       `json:"rejected"`
	RejectionsURL string    `json:"rejections_url"`
	UploadedAt    time.Time `json:"uploaded_at"`
}

// uploadCSV takes an earnings CSV file as a stream: rows are read one at a
// time, validated with the same rules as JSON events, and the accepted ones
// produced to Kafka a chunk at a time, so memory does not grow with the
// file. Rejected rows are written, with the reason, to a file the platform
// downloads from GET /v1/earnings.csv/{upload_id}/rejections.
//
// Duplicates are found within a chunk, among the events this process
// accepted recently and among those the engine has recorded; an upload sent
// again therefore answers its accepted rows as duplicates, or accepts them
// again, which changes nothing: the engine drops redeliveries.
//
// The rejected rows and the summary are kept on disk, not in PostgreSQL:
// Config.UploadDir/<platform>/<upload_id>.csv and .json (coverbridge serve:
// <data-dir>/uploads), written as the upload is read, so a file of any size
// costs no memory and no database space, and removed after uploadRetention
// (7 days) by the next upload of the platform. The download is answered by
// the API process that took the upload: with several API processes,
// UploadDir must be a volume they share.
func (s *Server) uploadCSV(c echo.Context) error {
	platformID, err := s.platformID(c)
	if err != nil {
		return err
	}
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != mediaCSV {
		return gateway.Errorf(gateway.EUNSUPPORTED, "content type %q is not supported here: send %s", ct, mediaCSV)
	}
	ctx := c.Request().Context()
	pl, err := s.platform(ctx, platformID)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.cfg.UploadDir, pl.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create upload folder: %w", err)
	}
	s.pruneUploads(dir)
	id, err := newUploadID()
	if err != nil {
		return err
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, s.cfg.MaxUploadBytes)
	r := feed.NewCSVReader(body, feed.CSVDefaults{PlatformID: pl.ID, Currency: pl.Currency, Since: pl.ActiveFrom,
		Now: s.cfg.Now, MaxSkew: s.cfg.MaxSkew, WorkerKey: s.workerKey()})
	header, err := r.Header()
	if err != nil {
		return uploadError(err, s.cfg.MaxUploadBytes)
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return fmt.Errorf("create rejected rows file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	rw, err := feed.NewRejectWriter(tmp, header)
	if err != nil {
		return err
	}
	sum := uploadSummary{UploadID: id, RejectionsURL: "/v1/earnings.csv/" + id + "/rejections", UploadedAt: time.Now().UTC()}
	u := &upload{s: s, platformID: pl.ID, rw: rw, sum: &sum}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadError(fmt.Errorf("%w (the rows before were taken: %d accepted)", err, sum.Accepted), s.cfg.MaxUploadBytes)
		}
		sum.Rows++
		if row.Err != nil {
			if err := u.reject(row); err != nil {
				return err
			}
			continue
		}
		if err := u.add(ctx, row); err != nil {
			return err
		}
	}
	if err := u.flush(ctx); err != nil {
		return err
	}
	if err := rw.Flush(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write rejected rows: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, id+".csv")); err != nil {
		return fmt.Errorf("keep rejected rows: %w", err)
	}
	blob, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, id+".json"), blob, 0o640); err != nil {
		return fmt.Errorf("keep upload summary: %w", err)
	}
	return c.JSONBlob(http.StatusOK, blob)
}

// uploadError turns a failure of the upload stream into an answer: the size
// limit as too_large, a bad header as it is.
func uploadError(err error, limit int64) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return gateway.Errorf(gateway.ETOOLARGE, "the upload is larger than %d bytes; split the file", limit)
	}
	return err
}

// upload is the state of one CSV upload: the chunk of accepted rows not yet
// produced.
type upload struct {
	s          *Server
	platformID string
	rw         *feed.RejectWriter
	sum        *uploadSummary
	rows       []feed.Row
	items      []*ingestItem
}

func (u *upload) add(ctx context.Context, row feed.Row) error {
	v := feed.Canonical(row.Earning)
	it := &ingestItem{ev: row.Earning, value: v, hash: sha256.Sum256(v), line: row.Line}
	row.Record = append([]string(nil), row.Record...)
	u.rows = append(u.rows, row)
	u.items = append(u.items, it)
	if len(u.items) >= uploadChunk {
		return u.flush(ctx)
	}
	return nil
}

// flush produces the chunk and counts what became of each row.
func (u *upload) flush(ctx context.Context) error {
	if len(u.items) == 0 {
		return nil
	}
	u.s.dedupe(ctx, u.platformID, u.items)
	keys := u.s.partitionKeys(ctx, u.platformID, u.items)
	var msgs []kafka.Message
	var sent []*ingestItem
	for i, it := range u.items {
		if it.answer.Status == "" {
			msgs = append(msgs, kafka.Message{Topic: kafkabus.TopicEarnings, Key: keys[i], Value: it.value})
			sent = append(sent, it)
		}
	}
	if len(msgs) > 0 {
		u.s.publish(ctx, u.platformID, msgs, sent)
	}
	for i, it := range u.items {
		switch it.answer.Status {
		case statusAccepted:
			u.sum.Accepted++
		case statusDuplicate:
			u.sum.Duplicates++
		case statusRejected:
			row := u.rows[i]
			row.Err = &gateway.Error{Code: it.answer.Code, Message: it.answer.Message}
			for _, d := range it.answer.Details {
				d.Line = row.Line
				row.Err.Details = append(row.Err.Details, d)
			}
			if err := u.reject(row); err != nil {
				return err
			}
		default:
			return gateway.Errorf(gateway.EINTERNAL,
				"Kafka did not take the rows from line %d on; %d rows before were accepted: upload the file again (rows already accepted answer duplicate)",
				u.rows[i].Line, u.sum.Accepted)
		}
	}
	u.rows, u.items = u.rows[:0], u.items[:0]
	return nil
}

func (u *upload) reject(row feed.Row) error {
	u.sum.Rejected++
	return u.rw.Write(row)
}

// workerKey keys national IDs of CSV rows, when the server has the
// worker-key secret.
func (s *Server) workerKey() func(country, nationalID string) (string, error) {
	k := s.cfg.Identity.Keyer
	if k == nil {
		return nil
	}
	return func(country, nationalID string) (string, error) {
		n, err := identity.Normalize(country, nationalID)
		if err != nil {
			return "", err
		}
		return k.Key(country, n), nil
	}
}

var uploadIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func newUploadID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("upload id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// uploadFile returns the path of one of a platform's upload files, or a
// not_found error. Another platform's upload is not found either.
func (s *Server) uploadFile(c echo.Context, ext string) (string, error) {
	platformID, err := s.platformID(c)
	if err != nil {
		return "", err
	}
	id := c.Param("upload_id")
	path := filepath.Join(s.cfg.UploadDir, platformID, id+ext)
	if !uploadIDPattern.MatchString(id) {
		return "", gateway.Errorf(gateway.ENOTFOUND, "no upload %q", id)
	}
	if _, err := os.Stat(path); err != nil {
		return "", gateway.Errorf(gateway.ENOTFOUND, "no upload %q (uploads are kept %d days)", id, int(uploadRetention.Hours()/24))
	}
	return path, nil
}

// getUpload answers the summary of an upload.
func (s *Server) getUpload(c echo.Context) error {
	path, err := s.uploadFile(c, ".json")
	if err != nil {
		return err
	}
	blob, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read upload summary: %w", err)
	}
	return c.JSONBlob(http.StatusOK, blob)
}

// uploadRejections streams the rejected rows of an upload as CSV: the
// original columns, then error_line, error_code, error_field and
// error_message.
func (s *Server) uploadRejections(c echo.Context) error {
	path, err := s.uploadFile(c, ".csv")
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open rejected rows: %w", err)
	}
	defer f.Close()
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="rejections-%s.csv"`, c.Param("upload_id")))
	return c.Stream(http.StatusOK, "text/csv; charset=utf-8", f)
}

// pruneUploads removes a platform's upload files older than uploadRetention,
// and temporary files of uploads that never finished.
func (s *Server) pruneUploads(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-uploadRetention)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			s.log.Warn("remove old upload file", "file", e.Name(), "err", err)
		}
	}
}
