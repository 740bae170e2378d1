package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// earningAccepted is the answer to an accepted event.
type earningAccepted struct {
	EventID string `json:"event_id"`
	Status  string `json:"status"` // "accepted": durable in Kafka
}

// earningView is what became of an event.
type earningView struct {
	EventID    string          `json:"event_id"`
	Status     string          `json:"status"` // recorded or rejected
	RecordedAt time.Time       `json:"recorded_at"`
	Event      json.RawMessage `json:"event,omitempty"`
	// Withhold is the worker share to withhold from the payout, all schemes
	// together; Deductions has the detail per scheme.
	Withhold   *gateway.Money  `json:"withhold,omitempty"`
	Deductions []deductionView `json:"deductions,omitempty"`
	Rejection  *rejectionView  `json:"rejection,omitempty"`
}

type deductionView struct {
	SchemeID      string        `json:"scheme_id"`
	PlanID        string        `json:"plan_id"`
	PlanVersion   int           `json:"plan_version"`
	Period        string        `json:"period"`
	BookedPeriod  string        `json:"booked_period"`
	Late          bool          `json:"late"`
	Kind          string        `json:"kind"`
	Reverses      string        `json:"reverses,omitempty"`
	WorkerShare   gateway.Money `json:"worker_share"`
	PlatformShare gateway.Money `json:"platform_share"`
	Total         gateway.Money `json:"total"`
	Flags         []string      `json:"flags,omitempty"`
}

type rejectionView struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func newEarningView(id string, r postgres.RecordedEarning) earningView {
	v := earningView{EventID: id, Status: r.Status, RecordedAt: r.RecordedAt.UTC(), Event: r.Payload}
	if r.Rejection != nil {
		v.Rejection = &rejectionView{Code: r.Rejection.Code, Message: r.Rejection.Message, Field: r.Rejection.Field}
		return v
	}
	var withhold gateway.Money
	for _, en := range r.Entries {
		m := func(a int64) gateway.Money { return gateway.Money{Amount: a, Currency: en.Currency} }
		v.Deductions = append(v.Deductions, deductionView{
			SchemeID: en.SchemeID, PlanID: en.PlanID, PlanVersion: en.PlanVersion, Period: en.Period,
			BookedPeriod: en.BookedPeriod, Late: en.Late, Kind: en.Kind, Reverses: en.Reverses,
			WorkerShare: m(en.Worker), PlatformShare: m(en.Platform), Total: m(en.Worker + en.Platform),
			Flags: en.Flags.Names(),
		})
		if sum, err := withhold.Add(m(en.Worker)); err == nil {
			withhold = sum
		}
	}
	if len(r.Entries) > 0 {
		v.Withhold = &withhold
	}
	return v
}

// postEarnings accepts one earnings event and answers once it is durable in
// Kafka.
func (s *Server) postEarnings(c echo.Context) error {
	body, err := s.readBody(c, "application/json")
	if err != nil {
		return err
	}
	ev, err := feed.Decode(body)
	if err != nil {
		return err
	}
	msg := kafka.Message{Topic: kafkabus.TopicEarnings, Key: feed.PartitionKey(ev), Value: feed.Canonical(ev)}
	if err := s.cfg.Publisher.Publish(c.Request().Context(), msg); err != nil {
		return fmt.Errorf("publish event: %w", err)
	}
	eventsProduced.Inc()
	return c.JSON(http.StatusAccepted, earningAccepted{EventID: ev.EventID, Status: "accepted"})
}

// maxWait bounds the long poll of GET /v1/earnings/{id}?wait=.
const maxWait = 30 * time.Second

// getEarning returns what became of an event of the platform named by the
// platform_id query parameter. With ?wait=2s it waits up to that long for the
// engine to record the event, so a platform can learn at payout time what to
// withhold.
func (s *Server) getEarning(c echo.Context) error {
	platform := c.QueryParam("platform_id")
	if platform == "" {
		return gateway.Invalid("platform_id", "required", "the platform_id query parameter is required")
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
			return c.JSON(http.StatusOK, newEarningView(id, r))
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
