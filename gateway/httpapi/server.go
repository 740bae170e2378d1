// Package httpapi is Coverbridge's REST API: an echo server whose handlers
// bind a request, make one domain call and render the answer. Errors of every
// handler go through one error handler that maps domain codes to statuses and
// a JSON body {code, message, details[]}.
package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
	"github.com/coverbridge/coverbridge/reconciliation/gaps"
)

// Publisher writes messages to Kafka and returns once they are durable.
type Publisher interface {
	Publish(ctx context.Context, msgs ...kafka.Message) error
}

// EarningReader reads recorded events. Earning returns a not_found error for
// an event it does not have.
type EarningReader interface {
	Earning(ctx context.Context, platformID, eventID string) (postgres.RecordedEarning, error)
	// Rejections pages through a platform's rejected messages, newest first.
	Rejections(ctx context.Context, platformID string, before int64, limit int) ([]postgres.StoredRejection, error)
	// ListEarnings pages through a platform's recorded events and rejected
	// messages in the order the engine decided them.
	ListEarnings(ctx context.Context, platformID string, f postgres.EarningFilter) ([]postgres.ListedEarning, error)
}

// Check is a readiness probe of one dependency.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config configures New.
type Config struct {
	Addr      string        // listen address; default 127.0.0.1:8080
	Publisher Publisher     // required
	Earnings  EarningReader // required
	Ready     []Check       // dependencies /readyz pings
	Logger    *slog.Logger  // default slog.Default()
	// MaxBodyBytes bounds a request body; default 32 MiB.
	MaxBodyBytes int64
	// ShutdownTimeout bounds the drain of in-flight requests; default 15s.
	ShutdownTimeout time.Duration
	Schemes         *gateway.Catalog // scheme packs for /v1/schemes and /v1/quote
	Workers         WorkerStore      // workers and registrations, for /v1/workers
	Identity        Identity         // keys and seals national IDs, for /v1/workers

	// Ingestion: POST /v1/earnings and /v1/earnings.csv.
	Platforms      PlatformStore    // platforms' currency and start date; required for ingestion
	Idempotency    IdempotencyStore // Idempotency-Key answers; nil: the header is refused
	Recorded       RecordedIndex    // events the engine recorded, for duplicate answers; nil: within a request and the recent index only
	MaxBatchItems  int              // most events in one array or NDJSON request; default 10,000
	MaxSkew        time.Duration    // how far past Now an occurred_at may be; default feed.DefaultMaxSkew (5m)
	Now            func() time.Time // clock of the future check; default time.Now
	RecentEvents   int              // accepted events remembered in process for duplicate answers; default 262,144
	UploadDir      string           // where CSV uploads keep their rejected rows; default $TMPDIR/coverbridge-uploads
	MaxUploadBytes int64            // bounds a CSV upload; default 8 GiB

	// Access: every route but /healthz, /readyz, /metrics and /openapi.yaml
	// needs a key (auth.go).
	Keys            KeyStore             // API keys and platforms' access policies; nil: no authentication, for tests of other concerns only
	KeyCacheTTL     time.Duration        // how long keys and access policies are remembered between reads; 0: read for every request
	Admin           AdminStore           // platforms and keys, for /v1/admin
	RateLimit       access.LimiterConfig // each platform's token bucket, one token a request; default 1,000 a second, burst 2,000; a platform's own limit wins
	SignatureWindow time.Duration        // how far a signature's timestamp may be from Now; default access.DefaultWindow (5m)
	KeyPrefix       string               // prefix of keys the admin API issues; default postgres.DefaultKeyPrefix (cbk_live)

	// Reconciliation (statement.go, finance.go): statements, remittance
	// advice, bank files and matching.
	Statements   StatementStore // issued statements, for /v1/statements
	Advice       AdviceBooks    // remittance advice, for /v1/remittances
	Finance      FinanceBooks   // bank files, matching runs and manual decisions, for /v1/finance
	FinanceStore FinanceStore   // the latest matching result, for /v1/finance
	Reports      ReportStore    // finance reports of the latest matching run, for /v1/finance/reports
	Agents       AgentStore     // registration agents and their commissions, for /v1/agents and /v1/finance/agent-commissions

	// Compliance (gap.go): gaps, their workflow and notices to platforms.
	Gaps     GapStore    // gaps, history and notices, for /v1/compliance
	GapRules gaps.Config // detection rules of POST /v1/compliance/detections; zero: the defaults

	// Coverage (coverage.go, statistics.go, notice.go): worker coverage,
	// coverage statistics and worker notices.
	Coverage CoverageStore // for /v1/workers/{ref}/coverage and /v1/statistics/coverage
	Notices  NoticeStore   // for /v1/notices and /v1/compliance/worker-notices
}

// Server is the HTTP API.
type Server struct {
	cfg  Config
	echo *echo.Echo
	log  *slog.Logger
	ln   net.Listener

	ingest ingestState
	access *accessControl
}

var (
	httpRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "coverbridge_http_requests_total",
		Help: "HTTP requests by method, route and status code.",
	}, []string{"method", "route", "code"})
	httpDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "coverbridge_http_request_duration_seconds",
		Help:    "HTTP request latency by method and route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route"})
	eventsProduced = promauto.NewCounter(prometheus.CounterOpts{
		Name: "coverbridge_events_produced_total",
		Help: "Earnings events accepted by the API and durable in Kafka.",
	})
)

// New returns a server with every route registered.
func New(cfg Config) *Server {
	cfg.Addr = cmp.Or(cfg.Addr, "127.0.0.1:8080")
	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, 32<<20)
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, 15*time.Second)
	s := &Server{cfg: cfg, echo: echo.New(), log: cmp.Or(cfg.Logger, slog.Default())}
	s.initIngest()
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe)
	s.initAccess()
	e.Use(s.authenticate)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.Handler()))
	e.GET("/openapi.yaml", s.openAPI)

	v1 := e.Group("/v1")
	s.adminRoutes(v1)
	v1.POST("/earnings", s.postEarnings)
	v1.POST("/earnings.csv", s.uploadCSV)
	v1.GET("/earnings.csv/:upload_id", s.getUpload)
	v1.GET("/earnings.csv/:upload_id/rejections", s.uploadRejections)
	v1.GET("/earnings", s.listEarnings)
	v1.GET("/earnings/:event_id", s.getEarning)
	v1.GET("/rejections", s.listRejections)
	v1.POST("/workers", s.postWorker)
	v1.GET("/workers/:ref", s.getWorker)
	v1.POST("/workers/:ref/changes", s.postWorkerChange(false))
	v1.POST("/workers/:ref/termination", s.postWorkerChange(true))
	v1.GET("/schemes", s.listSchemes)
	v1.GET("/schemes/:id/plans", s.listPlans)
	v1.POST("/quote", s.quote)
	s.statementRoutes(v1)
	s.financeRoutes(v1)
	s.reportRoutes(v1)
	s.agentRoutes(v1)
	s.gapRoutes(v1)
	s.coverageRoutes(v1)
	s.noticeRoutes(v1)
	return s
}

// Handler returns the server as an http.Handler, for tests.
func (s *Server) Handler() http.Handler { return s.echo }

// Listen binds the listen address; Addr then reports the bound address. Run
// calls it when it has not been called.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address, after Listen.
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends, then stops accepting connections and drains
// in-flight requests.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: s.echo, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("drain http requests: %w", err)
	}
	return nil
}

// observe counts and times every request.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request().Method
		httpRequests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
		httpDuration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	status, code := map[string]string{}, http.StatusOK
	for _, ch := range s.cfg.Ready {
		if err := ch.Ping(ctx); err != nil {
			status[ch.Name] = "unavailable"
			code = http.StatusServiceUnavailable
			s.log.Warn("readiness check failed", "dependency", ch.Name, "err", err)
			continue
		}
		status[ch.Name] = "ok"
	}
	return c.JSON(code, status)
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Code    string           `json:"code"`
	Message string           `json:"message"`
	Details []gateway.Detail `json:"details,omitempty"`
}

var statusOf = map[string]int{
	gateway.EINVALID:             http.StatusBadRequest,
	gateway.ENOTFOUND:            http.StatusNotFound,
	gateway.ECONFLICT:            http.StatusConflict,
	gateway.EUNAUTHORIZED:        http.StatusUnauthorized,
	gateway.EFORBIDDEN:           http.StatusForbidden,
	gateway.EIDEMPOTENCYMISMATCH: http.StatusUnprocessableEntity,
	gateway.ETOOLARGE:            http.StatusRequestEntityTooLarge,
	gateway.EUNSUPPORTED:         http.StatusUnsupportedMediaType,
	gateway.ERATELIMITED:         http.StatusTooManyRequests,
	gateway.EINTERNAL:            http.StatusInternalServerError,
}

var codeOf = map[int]string{
	http.StatusBadRequest:            gateway.EINVALID,
	http.StatusNotFound:              gateway.ENOTFOUND,
	http.StatusMethodNotAllowed:      gateway.ENOTFOUND,
	http.StatusUnauthorized:          gateway.EUNAUTHORIZED,
	http.StatusForbidden:             gateway.EFORBIDDEN,
	http.StatusRequestEntityTooLarge: gateway.ETOOLARGE,
	http.StatusUnsupportedMediaType:  gateway.EUNSUPPORTED,
	http.StatusTooManyRequests:       gateway.ERATELIMITED,
}

// handleError renders any error as {code, message, details}. Errors that are
// not domain errors are logged once and answered as internal.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	body := errorBody{Code: gateway.ErrorCode(err), Message: gateway.ErrorMessage(err)}
	var ge *gateway.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ge):
		body.Details = ge.Details
	case errors.As(err, &he):
		body.Code = cmp.Or(codeOf[he.Code], gateway.EINTERNAL)
		body.Message = http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			body.Message = m
		}
	default:
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
	}
	status := cmp.Or(statusOf[body.Code], http.StatusInternalServerError)
	if he != nil && body.Code == gateway.ENOTFOUND {
		status = he.Code
	}
	if err := c.JSON(status, body); err != nil {
		s.log.Error("write error response", "err", err)
	}
}
