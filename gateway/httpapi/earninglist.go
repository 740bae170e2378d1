package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/engine"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// earningList is a page of what became of a platform's events.
type earningList struct {
	Earnings []feed.Outcome `json:"earnings"`
	// Next is the cursor of the following page: pass it as ?after=.
	Next string `json:"next,omitempty"`
}

// listEarnings pages through a platform's recorded events and rejected
// messages, oldest first, in the order the engine decided them:
// GET /v1/earnings?from=&to=&status=&limit=&after=. from and to (RFC 3339)
// bound the time of the decision: when the engine's batch began.
func (s *Server) listEarnings(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	var f postgres.EarningFilter
	for _, b := range []struct {
		name string
		into *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.QueryParam(b.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return gateway.Invalid(b.name, "bad_time", b.name+" must be a time in RFC 3339 with its offset, such as 2026-11-29T08:00:00Z")
			}
			*b.into = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return gateway.Invalid("to", "bad_range", "to must be after from")
	}
	switch f.Status = c.QueryParam("status"); f.Status {
	case "", "recorded", "rejected":
	default:
		return gateway.Invalid("status", "bad_status", "status must be recorded or rejected")
	}
	if f.Limit, err = pageLimit(c); err != nil {
		return err
	}
	if v := c.QueryParam("after"); v != "" {
		cur, ok := parseEarningCursor(v)
		if !ok {
			return gateway.Invalid("after", "bad_cursor", "after must be the next cursor of a previous page")
		}
		f.After = cur
	}
	limit := f.Limit
	f.Limit++ // one more tells whether a next page exists
	page, err := s.cfg.Earnings.ListEarnings(c.Request().Context(), platform, f)
	if err != nil {
		return err
	}
	out := earningList{Earnings: make([]feed.Outcome, 0, min(len(page), limit))}
	if len(page) > limit {
		page = page[:limit]
		out.Next = earningCursor(page[limit-1].Cursor)
	}
	for _, e := range page {
		out.Earnings = append(out.Earnings, engine.Outcome(platform, e.EventID, e.RecordedEarning))
	}
	return c.JSON(http.StatusOK, out)
}

// earningCursor writes a cursor as an opaque string: the decision time in
// microseconds, and the event id of a recorded event or the number of a
// rejected message.
func earningCursor(c postgres.EarningCursor) string {
	kind, key := "r", c.EventID
	if c.Rejected {
		kind, key = "x", strconv.FormatInt(c.ID, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kind + strconv.FormatInt(c.At.UnixMicro(), 10) + ":" + key))
}

func parseEarningCursor(v string) (postgres.EarningCursor, bool) {
	var c postgres.EarningCursor
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < 2 {
		return c, false
	}
	micros, key, ok := strings.Cut(string(b[1:]), ":")
	us, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil {
		return c, false
	}
	c.At = time.UnixMicro(us).UTC()
	switch b[0] {
	case 'r':
		c.EventID = key
		return c, key != ""
	case 'x':
		c.Rejected = true
		c.ID, err = strconv.ParseInt(key, 10, 64)
		return c, err == nil && c.ID > 0
	}
	return c, false
}
