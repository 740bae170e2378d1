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
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// earningAccepted is the answer to an accepted event.
type earningAccepted struct {
	EventID string `json:"event_id"`
	Status  string `json:"status"` // "accepted": durable in Kafka
}

// earningView is a recorded event with its processing state.
type earningView struct {
	EventID    string          `json:"event_id"`
	Status     string          `json:"status"`
	RecordedAt time.Time       `json:"recorded_at"`
	Event      json.RawMessage `json:"event"`
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

// getEarning returns a recorded event of the platform named by the
// platform_id query parameter.
func (s *Server) getEarning(c echo.Context) error {
	platform := c.QueryParam("platform_id")
	if platform == "" {
		return gateway.Invalid("platform_id", "required", "the platform_id query parameter is required")
	}
	id := c.Param("event_id")
	r, err := s.cfg.Earnings.Earning(c.Request().Context(), platform, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, earningView{EventID: id, Status: r.Status, RecordedAt: r.RecordedAt.UTC(), Event: r.Payload})
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
