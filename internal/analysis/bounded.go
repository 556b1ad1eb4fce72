package analysis

import "context"

// bounded returns p with every query holding one of slots while it runs.
func bounded(p Provider, slots chan struct{}) Provider {
	if sp, ok := p.(SeriesProvider); ok {
		return boundedSeries{boundedProvider{p, slots}, sp}
	}
	return boundedProvider{p, slots}
}

// boundedProvider is a Provider whose queries wait for a free slot.
type boundedProvider struct {
	p     Provider
	slots chan struct{}
}

// acquire waits for a slot; false when ctx ends first.
func (b boundedProvider) acquire(ctx context.Context) bool {
	select {
	case b.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// Query implements Provider.
func (b boundedProvider) Query(ctx context.Context, query string) (float64, error) {
	if !b.acquire(ctx) {
		return 0, ProviderErrorf("query not run: %w", ctx.Err())
	}
	defer func() { <-b.slots }()
	return b.p.Query(ctx, query)
}

// boundedSeries is a bounded SeriesProvider.
type boundedSeries struct {
	boundedProvider
	sp SeriesProvider
}

// QuerySeries implements SeriesProvider.
func (b boundedSeries) QuerySeries(ctx context.Context, query string) (map[string]float64, error) {
	if !b.acquire(ctx) {
		return nil, ProviderErrorf("query not run: %w", ctx.Err())
	}
	defer func() { <-b.slots }()
	return b.sp.QuerySeries(ctx, query)
}
