package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// DefaultTimeout bounds a query whose spec sets no timeout; it matches the
// API's default.
const DefaultTimeout = 10 * time.Second

// maxSeriesShown bounds how many series an error about a multi-series result
// lists.
const maxSeriesShown = 3

var _ analysis.SeriesProvider = (*Provider)(nil)

// Observer is told how long each query took and how it ended (nil, or an
// error that is analysis.ErrNoData or analysis.ErrProvider). The operator's
// query latency metric hangs off it.
type Observer func(elapsed time.Duration, err error)

// Option configures a Provider.
type Option func(*Provider)

// WithObserver calls observe after every query.
func WithObserver(observe Observer) Option {
	return func(p *Provider) { p.observe = observe }
}

// WithOutbound sends queries under policy instead of the default outbound
// policy (which refuses loopback, link-local and metadata addresses).
func WithOutbound(policy outbound.Policy) Option {
	return func(p *Provider) { p.policy = policy }
}

// Provider queries one Prometheus server.
type Provider struct {
	api     promv1.API
	address string
	timeout time.Duration
	observe Observer
	policy  outbound.Policy
}

// Factory returns an analysis.Factory building Providers with opts, to
// register under v1alpha1.ProviderPrometheus.
func Factory(opts ...Option) analysis.Factory {
	return func(spec v1alpha1.MetricProvider, creds analysis.Credentials) (analysis.Provider, error) {
		return New(spec, creds, opts...)
	}
}

// New returns a Provider for the server at spec.Address. It refuses an
// address that is not an http or https URL and credentials that do not make
// a valid client.
func New(spec v1alpha1.MetricProvider, creds analysis.Credentials, opts ...Option) (*Provider, error) {
	u, err := url.Parse(spec.Address)
	if err != nil {
		return nil, fmt.Errorf("parse address %q: %w", spec.Address, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("address %q is not an http:// or https:// URL", spec.Address)
	}
	if u.Scheme == "http" && sendsSecrets(creds) && !spec.AllowInsecureCredentials {
		return nil, fmt.Errorf("credentials are not sent to %s over plain http: use an https:// address, "+
			"or set allowInsecureCredentials: true on the provider to accept that they can be read on the way", spec.Address)
	}
	p := &Provider{address: spec.Address, timeout: DefaultTimeout}
	if spec.Timeout != nil && spec.Timeout.Duration > 0 {
		p.timeout = spec.Timeout.Duration
	}
	for _, opt := range opts {
		opt(p)
	}
	transport, err := newTransport(creds, spec.InsecureSkipVerify, p.policy)
	if err != nil {
		return nil, err
	}
	client, err := promapi.NewClient(promapi.Config{Address: spec.Address, Client: outbound.Client(transport)})
	if err != nil {
		return nil, fmt.Errorf("create client for %s: %w", spec.Address, err)
	}
	p.api = promv1.NewAPI(client)
	return p, nil
}

// sendsSecrets reports whether creds put a secret on the wire with every
// request (a client certificate's key never leaves the client).
func sendsSecrets(creds analysis.Credentials) bool {
	return creds.Username != "" || creds.Password != "" || creds.BearerToken != ""
}

// Query runs query as an instant query at the server's current time and
// returns its single value. It gives up after the provider's timeout; the
// server is asked to stop evaluating at the same time.
func (p *Provider) Query(ctx context.Context, query string) (float64, error) {
	start := time.Now()
	value, err := p.query(ctx, query)
	if p.observe != nil {
		p.observe(time.Since(start), err)
	}
	return value, err
}

func (p *Provider) query(ctx context.Context, query string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	result, warnings, _, err := p.api.Query(ctx, query, time.Time{}, promv1.WithTimeout(p.timeout))
	if err != nil {
		return 0, p.queryError(ctx, err)
	}
	if len(warnings) > 0 {
		// Warnings flag partial or approximate answers (a federated store
		// missing, a counter that is not one); the value stands, people
		// should know.
		logr.FromContextOrDiscard(ctx).Info("Prometheus answered with warnings",
			"address", p.address, "query", query, "warnings", []string(warnings))
	}
	return singleValue(result)
}

// QuerySeries runs query as an instant query at the server's current time
// and returns the value of each series of its vector, keyed by the series'
// label set ("" for a scalar). A vector of no series is an empty map, not an
// error: for a counter it is a gap (or nothing counted yet), which the judge
// tells apart per series.
func (p *Provider) QuerySeries(ctx context.Context, query string) (map[string]float64, error) {
	start := time.Now()
	values, err := p.querySeries(ctx, query)
	if p.observe != nil {
		p.observe(time.Since(start), err)
	}
	return values, err
}

func (p *Provider) querySeries(ctx context.Context, query string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	result, _, _, err := p.api.Query(ctx, query, time.Time{}, promv1.WithTimeout(p.timeout))
	if err != nil {
		return nil, p.queryError(ctx, err)
	}
	switch r := result.(type) {
	case *model.Scalar:
		return map[string]float64{"": float64(r.Value)}, nil
	case model.Vector:
		out := make(map[string]float64, len(r))
		for _, s := range r {
			out[s.Metric.String()] = float64(s.Value)
		}
		return out, nil
	case nil:
		return nil, analysis.ProviderErrorf("the server returned no result")
	}
	return nil, analysis.ProviderErrorf("the query returned a %s, want a scalar or a vector", result.Type())
}

// queryError classifies a failed query as a provider error and says why in
// words a person can act on.
func (p *Provider) queryError(ctx context.Context, err error) error {
	var apiErr *promv1.Error
	var refused *outbound.RefusedError
	var redirect *outbound.RedirectError
	switch {
	case errors.As(err, &refused):
		return analysis.ProviderErrorf("query to %s: %w", p.address, refused)
	case errors.As(err, &redirect):
		return analysis.ProviderErrorf("query to %s: %w", p.address, redirect)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return analysis.ProviderErrorf("query to %s timed out after %s: %w", p.address, p.timeout, err)
	case errors.As(err, &apiErr) && apiErr.Type == promv1.ErrBadData:
		return analysis.ProviderErrorf("query refused by %s as invalid: %w", p.address, err)
	case errors.As(err, &apiErr) && apiErr.Type == promv1.ErrTimeout:
		return analysis.ProviderErrorf("query timed out on %s: %w", p.address, err)
	case errors.As(err, &apiErr):
		return analysis.ProviderErrorf("query to %s failed: %w%s", p.address, err, detail(apiErr))
	}
	return analysis.ProviderErrorf("query to %s: %w", p.address, err)
}

// detail appends the start of the body of an unexpected HTTP answer, which
// usually says why (a proxy's 401 page, a 502 from a load balancer).
func detail(apiErr *promv1.Error) string {
	const maxDetail = 200
	d := outbound.Excerpt(apiErr.Detail, maxDetail)
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

// singleValue extracts the one number a check needs from a query result.
func singleValue(result model.Value) (float64, error) {
	var v model.SampleValue
	switch r := result.(type) {
	case *model.Scalar:
		v = r.Value
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, analysis.NoDataf("the query matched no series")
		case 1:
			v = r[0].Value
		default:
			return 0, analysis.ProviderErrorf("the query returned %d series, want one: %s; aggregate it, "+
				"for example with sum()", len(r), seriesList(r))
		}
	case nil:
		return 0, analysis.ProviderErrorf("the server returned no result")
	default:
		return 0, analysis.ProviderErrorf("the query returned a %s, want a scalar or a vector of one series",
			result.Type())
	}
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return f, analysis.NoDataf("the query returned %v", f)
	}
	return f, nil
}

// seriesList names the first few series of a vector.
func seriesList(vec model.Vector) string {
	names := make([]string, 0, maxSeriesShown+1)
	for i, s := range vec {
		if i == maxSeriesShown {
			names = append(names, "...")
			break
		}
		names = append(names, s.Metric.String())
	}
	return strings.Join(names, ", ")
}

// authRoundTripper adds basic or bearer authentication to every request.
type authRoundTripper struct {
	creds analysis.Credentials
	next  http.RoundTripper
}

func (rt *authRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	switch {
	case rt.creds.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+rt.creds.BearerToken)
	case rt.creds.Username != "":
		req.SetBasicAuth(rt.creds.Username, rt.creds.Password)
	}
	return rt.next.RoundTrip(req)
}
