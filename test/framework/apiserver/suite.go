package apiserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/test/framework/promserver"
)

// Suite is everything a controller suite runs against: the API server and
// etcd, a real Prometheus, the stand-ins for the cluster's own controllers,
// and Sluice itself, which a test may stop and start again.
type Suite struct {
	*Env
	// Prometheus is a real Prometheus scraping every second.
	Prometheus *promserver.Server

	ctx    context.Context
	cancel context.CancelFunc
	stop   func() error
}

// StartSuite starts all of it. Stop undoes it.
func StartSuite() (*Suite, error) {
	env, err := Start()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Suite{Env: env, ctx: ctx, cancel: cancel}
	if s.Prometheus, err = promserver.Run(ctx, promserver.Options{ScrapeInterval: time.Second}); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	if _, err := env.StartCluster(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("start the cluster stand-ins: %w", err), s.Stop())
	}
	if err := s.StartOperator(); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// StartOperator starts Sluice (again), its manager changed by opts.
func (s *Suite) StartOperator(opts ...ManagerOption) error {
	if s.stop != nil {
		return errors.New("the operator is already running")
	}
	stop, err := s.Env.StartOperator(s.ctx, opts...)
	if err != nil {
		return fmt.Errorf("start the operator: %w", err)
	}
	s.stop = stop
	return nil
}

// StopOperator stops Sluice and waits until it has stopped: a restart test
// then starts a new one that knows nothing but what status says.
func (s *Suite) StopOperator() error {
	if s.stop == nil {
		return nil
	}
	err := s.stop()
	s.stop = nil
	return err
}

// Stop stops everything.
func (s *Suite) Stop() error {
	s.cancel()
	var errs []error
	if s.Prometheus != nil {
		errs = append(errs, s.Prometheus.Stop())
	}
	return errors.Join(append(errs, s.Env.Stop())...)
}
