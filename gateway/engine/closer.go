package engine

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// CloserStore is what closing periods reads and writes.
type CloserStore interface {
	TryLeader(ctx context.Context, name string) (release func(), ok bool, err error)
	PeriodsToClose(ctx context.Context) ([]postgres.SchemePeriod, error)
	ClosePeriod(ctx context.Context, schemeID, period string) error
}

// CloserConfig configures NewCloser.
type CloserConfig struct {
	Store   CloserStore      // required
	Catalog *gateway.Catalog // required
	// Grace is how long after a period's end its late events still count in
	// it; default 72h. Grace per scheme id overrides it.
	Grace         time.Duration
	GraceByScheme map[string]time.Duration
	Now           func() time.Time // default time.Now
	Logger        *slog.Logger     // default slog.Default()
}

// Closer closes periods whose end plus grace has passed. Events of a closed
// period that arrive later are booked in the open period as late
// adjustments.
type Closer struct {
	cfg CloserConfig
	log *slog.Logger
}

// NewCloser returns a closer.
func NewCloser(cfg CloserConfig) *Closer {
	cfg.Grace = cmp.Or(cfg.Grace, 72*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Closer{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default())}
}

// CloseDue closes every due period, once across processes: a process that
// does not get the lock does nothing. Running it again changes nothing.
func (c *Closer) CloseDue(ctx context.Context) error {
	release, ok, err := c.cfg.Store.TryLeader(ctx, "close-periods")
	if err != nil || !ok {
		return err
	}
	defer release()
	periods, err := c.cfg.Store.PeriodsToClose(ctx)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	for _, sp := range periods {
		end, err := c.periodEnd(sp)
		if err != nil {
			c.log.Warn("close periods: skipping a period", "scheme", sp.SchemeID, "period", sp.Period, "err", err)
			continue
		}
		grace := c.cfg.Grace
		if g, ok := c.cfg.GraceByScheme[sp.SchemeID]; ok {
			grace = g
		}
		if now.Before(end.Add(grace)) {
			continue
		}
		if err := c.cfg.Store.ClosePeriod(ctx, sp.SchemeID, sp.Period); err != nil {
			return fmt.Errorf("close %s %s: %w", sp.SchemeID, sp.Period, err)
		}
		c.log.Info("period closed", "scheme", sp.SchemeID, "period", sp.Period, "ended", end, "grace", grace)
	}
	return nil
}

// periodEnd parses a period key in the unit of the scheme's plans.
func (c *Closer) periodEnd(sp postgres.SchemePeriod) (time.Time, error) {
	s, err := c.cfg.Catalog.Scheme(sp.SchemeID)
	if err != nil {
		return time.Time{}, err
	}
	for _, p := range s.Plans {
		for _, v := range p.Versions {
			if per, err := v.ParsePeriod(sp.Period); err == nil {
				return per.End, nil
			}
		}
	}
	return time.Time{}, gateway.Errorf(gateway.EINVALID, "period %q is not a period of scheme %s", sp.Period, sp.SchemeID)
}
