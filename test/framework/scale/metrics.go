package scale

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
)

// writeVerbs are the apiserver_request_total verbs that change something.
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true}

// sluiceResources are the resources whose writes the table counts: those
// Sluice writes. Deployments are counted without subresource (the
// Deployment controller writes only their status); the benchmark's own
// writes (creating objects, pokes, image changes, commands) are subtracted
// by the caller.
var sluiceResources = map[string]bool{
	"deployments": true, "services": true, "virtualservices": true, "canaries": true,
	"jobs": true, "horizontalpodautoscalers": true,
}

// Writes counts API writes by "VERB resource[/subresource]".
type Writes map[string]float64

// Total is the sum of all counts.
func (w Writes) Total() float64 {
	var n float64
	for _, v := range w {
		n += v
	}
	return n
}

// Minus is w less before, dropping zeros.
func (w Writes) Minus(before Writes) Writes {
	out := Writes{}
	for k, v := range w {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// String lists the counts, largest first, as "VERB resource=n".
func (w Writes) String() string {
	if len(w) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return w[keys[i]] > w[keys[j]] || w[keys[i]] == w[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, w[k]))
	}
	return strings.Join(parts, ", ")
}

// apiserverWrites reads the write counters of kube-apiserver's /metrics.
func apiserverWrites(ctx context.Context, cfg *rest.Config) (Writes, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	fams, err := scrape(ctx, client, strings.TrimSuffix(cfg.Host, "/")+"/metrics")
	if err != nil {
		return nil, err
	}
	out := Writes{}
	for _, m := range fams["apiserver_request_total"].GetMetric() {
		l := labels(m)
		if !writeVerbs[l["verb"]] || !sluiceResources[l["resource"]] {
			continue
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			if l["resource"] == "deployments" {
				continue
			}
			key += "/" + l["subresource"]
		}
		out[key] += m.GetCounter().GetValue()
	}
	return out, nil
}

// Reconciles is a snapshot of the operator's Canary reconcile metrics.
type Reconciles struct {
	// Total reconciles so far.
	Total float64
	// Buckets are the cumulative counts of the reconcile time histogram by
	// upper bound in seconds.
	Buckets map[float64]float64
}

// operatorReconciles reads the Canary controller's reconcile metrics.
func operatorReconciles(ctx context.Context, url string) (Reconciles, error) {
	fams, err := scrape(ctx, http.DefaultClient, url)
	if err != nil {
		return Reconciles{}, err
	}
	out := Reconciles{Buckets: map[float64]float64{}}
	for _, m := range fams["controller_runtime_reconcile_total"].GetMetric() {
		if labels(m)["controller"] == "canary" {
			out.Total += m.GetCounter().GetValue()
		}
	}
	for _, m := range fams["controller_runtime_reconcile_time_seconds"].GetMetric() {
		if labels(m)["controller"] != "canary" {
			continue
		}
		for _, b := range m.GetHistogram().GetBucket() {
			out.Buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
	return out, nil
}

// Quantile estimates the q-quantile of the reconciles between before and r,
// interpolating linearly within a bucket. NaN when there were none.
func (r Reconciles) Quantile(before Reconciles, q float64) float64 {
	bounds := make([]float64, 0, len(r.Buckets))
	for b := range r.Buckets {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	count := func(b float64) float64 { return r.Buckets[b] - before.Buckets[b] }
	if len(bounds) == 0 {
		return math.NaN()
	}
	total := count(bounds[len(bounds)-1])
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range bounds {
		c := count(b)
		if c >= rank {
			if math.IsInf(b, 1) {
				return lower
			}
			return lower + (b-lower)*(rank-below)/math.Max(c-below, 1e-9)
		}
		lower, below = b, c
	}
	return lower
}

func scrape(ctx context.Context, client *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("scrape %s: %s: %s", url, resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// Requests is a snapshot of the operator's API requests: counts by method,
// and their latency histogram (rest_client_request_duration_seconds).
type Requests struct {
	ByMethod Writes
	Latency  Reconciles
}

// operatorRequests reads the operator's client metrics.
func operatorRequests(ctx context.Context, url string) (Requests, error) {
	fams, err := scrape(ctx, http.DefaultClient, url)
	if err != nil {
		return Requests{}, err
	}
	out := Requests{ByMethod: Writes{}, Latency: Reconciles{Buckets: map[float64]float64{}}}
	for _, m := range fams["rest_client_requests_total"].GetMetric() {
		out.ByMethod[labels(m)["method"]] += m.GetCounter().GetValue()
	}
	for _, m := range fams["rest_client_request_duration_seconds"].GetMetric() {
		out.Latency.Total += float64(m.GetHistogram().GetSampleCount())
		for _, b := range m.GetHistogram().GetBucket() {
			out.Latency.Buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
	return out, nil
}
