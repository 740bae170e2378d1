package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
)

// maxWait bounds the long poll of GET /v1/earnings/{id}?wait=.
const maxWait = 30 * time.Second

// getEarning returns what became of an event of the platform named by the
// platform_id query parameter. With ?wait=2s it waits up to that long for the
// engine to record the event, so a platform can learn at payout time what to
// withhold.
func (s *Server) getEarning(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	var wait time.Duration
	if w := c.QueryParam("wait"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 || d > maxWait {
			return gateway.Invalid("wait", "bad_duration", "wait must be a duration from 0s to 30s, such as 2s")
		}
		wait = d
	}
	id := c.Param("event_id")
	ctx := c.Request().Context()
	deadline := time.Now().Add(wait)
	pause := 5 * time.Millisecond
	for {
		r, err := s.cfg.Earnings.Earning(ctx, platform, id)
		if err == nil {
			return c.JSON(http.StatusOK, engine.Outcome(platform, id, r))
		}
		if gateway.ErrorCode(err) != gateway.ENOTFOUND || time.Now().Add(pause).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// readBody checks the content type and reads the whole body, bounded by
// MaxBodyBytes.
func (s *Server) readBody(c echo.Context, want string) ([]byte, error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != want {
		return nil, gateway.Errorf(gateway.EUNSUPPORTED, "content type %q is not supported here: send %s", ct, want)
	}
	r := http.MaxBytesReader(c.Response(), c.Request().Body, s.cfg.MaxBodyBytes)
	body, err := io.ReadAll(r)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, gateway.Errorf(gateway.ETOOLARGE, "request body is larger than %d bytes", s.cfg.MaxBodyBytes)
	}
	if err != nil {
		return nil, gateway.Errorf(gateway.EINVALID, "read request body: %v", err)
	}
	return body, nil
}

// rejectionList is a page of a platform's rejected messages.
type rejectionList struct {
	Rejections []rejectionItem `json:"rejections"`
	// Next is the cursor of the following page: pass it as ?before=.
	Next int64 `json:"next,omitempty"`
}

type rejectionItem struct {
	ID         int64     `json:"id"`
	EventID    string    `json:"event_id,omitempty"`
	Code       string    `json:"code"`
	Message    string    `json:"message"`
	Field      string    `json:"field,omitempty"`
	RejectedAt time.Time `json:"rejected_at"`
}

// pageLimit reads ?limit=, the size of a page of the platform's events or
// rejections: 1 to 1,000, 100 when absent.
func pageLimit(c echo.Context) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, gateway.Invalid("limit", "bad_limit", "limit must be an integer from 1 to 1000")
	}
	return n, nil
}

// listRejections pages through a platform's rejected messages, newest first.
func (s *Server) listRejections(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	before := int64(0)
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return gateway.Invalid("before", "bad_cursor", "before must be a cursor from a previous page")
		}
		before = n
	}
	rs, err := s.cfg.Earnings.Rejections(c.Request().Context(), platform, before, limit)
	if err != nil {
		return err
	}
	out := rejectionList{Rejections: []rejectionItem{}}
	for _, r := range rs {
		out.Rejections = append(out.Rejections, rejectionItem{ID: r.ID, EventID: r.EventID, Code: r.Code,
			Message: r.Message, Field: r.Field, RejectedAt: r.RejectedAt.UTC()})
	}
	if len(rs) == limit {
		out.Next = rs[len(rs)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}
