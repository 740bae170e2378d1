package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/robfig/cron/v3"
)

// job is one scheduled piece of work; its body belongs to the package that
// owns the work and takes its own lock where it must run once across
// replicas.
type job struct {
	name string
	spec string // cron spec, with optional seconds
	run  func(ctx context.Context) error
}

// runSchedule runs the jobs on their schedules until ctx ends, then waits
// for running jobs to finish.
func runSchedule(ctx context.Context, jobs []job, log *slog.Logger) error {
	c := cron.New(cron.WithParser(cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)))
	for _, j := range jobs {
		j := j
		if _, err := c.AddFunc(j.spec, func() {
			if err := j.run(ctx); err != nil && ctx.Err() == nil {
				log.Error("scheduled job failed", "job", j.name, "err", err)
			}
		}); err != nil {
			return fmt.Errorf("schedule %s (%q): %w", j.name, j.spec, err)
		}
		log.Info("scheduled", "job", j.name, "spec", j.spec)
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}
