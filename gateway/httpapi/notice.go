package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
)

// NoticeStore keeps the notices period close asks platforms to deliver to
// workers, and their delivery acknowledgements; *postgres.DB is one.
type NoticeStore interface {
	// WorkerNotices lists notices by id.
	WorkerNotices(ctx context.Context, f postgres.NoticeFilter) ([]postgres.WorkerNotice, error)
	// DeliverNotice records a delivery once; created is false when the
	// same acknowledgement was recorded before. Errors: ENOTFOUND,
	// EINVALID naming the field, ECONFLICT for another acknowledgement.
	DeliverNotice(ctx context.Context, platformID string, id int64, d postgres.NoticeDelivery) (postgres.WorkerNotice, bool, error)
}

// maxDeliverySkew is how far in the future a delivery time may be.
const maxDeliverySkew = 5 * time.Minute

// noticeRoutes registers worker notices: a platform's own under
// /v1/notices, every platform's for compliance under
// /v1/compliance/worker-notices.
func (s *Server) noticeRoutes(v1 *echo.Group) {
	v1.GET("/notices", s.listNotices(false))
	v1.POST("/notices/:id/delivery", s.postNoticeDelivery)
	v1.GET("/compliance/worker-notices", s.listNotices(true), s.allow(access.GapsRead))
}

type workerNoticeView struct {
	ID           string              `json:"id"`
	PlatformID   string              `json:"platform_id"`
	SchemeID     string              `json:"scheme_id"`
	PlanID       string              `json:"plan_id"`
	WorkerKey    string              `json:"worker_key,omitempty"`
	WorkerRef    string              `json:"worker_ref,omitempty"`
	Period       string              `json:"period"`
	BookedPeriod string              `json:"booked_period"`
	Kind         string              `json:"kind"` // shortfall or excess
	Amount       gateway.Money       `json:"amount"`
	Expected     gateway.Money       `json:"expected"`
	Withheld     gateway.Money       `json:"withheld"`
	CreatedAt    time.Time           `json:"created_at"`
	Delivered    bool                `json:"delivered"`
	Delivery     *noticeDeliveryView `json:"delivery,omitempty"`
}

type noticeDeliveryView struct {
	Channel     string    `json:"channel"`
	DeliveredAt time.Time `json:"delivered_at"`
	RecordedAt  time.Time `json:"recorded_at"`
}

func workerNoticeViewOf(n postgres.WorkerNotice) workerNoticeView {
	v := workerNoticeView{ID: strconv.FormatInt(n.ID, 10), PlatformID: n.PlatformID, SchemeID: n.SchemeID, PlanID: n.PlanID, WorkerKey: n.WorkerKey,
		WorkerRef: n.WorkerRef, Period: n.Period, BookedPeriod: n.BookedPeriod, Kind: n.Kind, Amount: n.Amount, Expected: n.Expected,
		Withheld: n.Withheld, CreatedAt: n.CreatedAt, Delivered: n.Delivery != nil}
	if d := n.Delivery; d != nil {
		v.Delivery = &noticeDeliveryView{Channel: d.Channel, DeliveredAt: d.DeliveredAt, RecordedAt: d.RecordedAt}
	}
	return v
}

// listNotices lists worker notices oldest first, filtered by scheme_id,
// period, kind and delivered, a page at a time (after, limit). A platform
// key sees its own platform's; staff name one with platform_id, or, on the
// compliance route, may leave it out for every platform's.
func (s *Server) listNotices(all bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		f := postgres.NoticeFilter{SchemeID: c.QueryParam("scheme_id"), Period: c.QueryParam("period"), Kind: c.QueryParam("kind"), Limit: 100}
		if all {
			f.PlatformID = c.QueryParam("platform_id")
		} else {
			var err error
			if f.PlatformID, err = s.platformID(c); err != nil {
				return err
			}
		}
		if f.Kind != "" && f.Kind != "shortfall" && f.Kind != "excess" {
			return gateway.Invalid("kind", "unknown_kind", "kind is shortfall or excess")
		}
		if v := c.QueryParam("delivered"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return gateway.Invalid("delivered", "malformed", "delivered is true or false")
			}
			f.Delivered = &b
		}
		if v := c.QueryParam("after"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return gateway.Invalid("after", "malformed", "after is a notice id from a previous page")
			}
			f.After = n
		}
		if v := c.QueryParam("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return gateway.Invalid("limit", "out_of_range", "limit is 1 to 1000")
			}
			f.Limit = n
		}
		if s.cfg.Notices == nil {
			return notServed("worker notices")
		}
		ns, err := s.cfg.Notices.WorkerNotices(c.Request().Context(), f)
		if err != nil {
			return err
		}
		out := struct {
			Notices []workerNoticeView `json:"notices"`
			Next    string             `json:"next,omitempty"` // pass as ?after= for the next page
		}{Notices: make([]workerNoticeView, len(ns))}
		for i, n := range ns {
			out.Notices[i] = workerNoticeViewOf(n)
		}
		if len(ns) == f.Limit {
			out.Next = out.Notices[len(ns)-1].ID
		}
		return c.JSON(http.StatusOK, out)
	}
}

type noticeDeliveryRequest struct {
	Channel     string `json:"channel"`
	DeliveredAt string `json:"delivered_at"`
}

// postNoticeDelivery records that the platform delivered a notice to the
// worker: 201 when recorded, 200 with the first acknowledgement when the
// same one is sent again, 409 when the notice was acknowledged otherwise.
func (s *Server) postNoticeDelivery(c echo.Context) error {
	platform, err := s.platformID(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return gateway.Errorf(gateway.ENOTFOUND, "no notice %q", c.Param("id"))
	}
	var req noticeDeliveryRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	var details []gateway.Detail
	if !slices.Contains(postgres.NoticeChannels, req.Channel) {
		details = append(details, gateway.Detail{Field: "channel", Code: "unknown_channel",
			Message: "channel is one of " + strings.Join(postgres.NoticeChannels, ", ")})
	}
	at, err := time.Parse(time.RFC3339, req.DeliveredAt)
	now := time.Now
	if s.cfg.Now != nil {
		now = s.cfg.Now
	}
	switch {
	case err != nil:
		details = append(details, gateway.Detail{Field: "delivered_at", Code: "bad_time", Message: "delivered_at is an RFC 3339 time such as 2026-11-06T09:30:00+08:00"})
	case at.After(now().Add(maxDeliverySkew)):
		details = append(details, gateway.Detail{Field: "delivered_at", Code: "in_future", Message: "delivered_at is in the future"})
	}
	if len(details) > 0 {
		return &gateway.Error{Code: gateway.EINVALID, Message: "invalid delivery acknowledgement", Details: details}
	}
	if s.cfg.Notices == nil {
		return notServed("worker notices")
	}
	n, created, err := s.cfg.Notices.DeliverNotice(c.Request().Context(), platform, id,
		postgres.NoticeDelivery{Channel: req.Channel, DeliveredAt: at, RecordedBy: actor(c), RecordedAt: now().UTC()})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return c.JSON(status, workerNoticeViewOf(n))
}
