package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ProbeResult is what a probe's requests got back.
type ProbeResult struct {
	// Sent is the number of requests answered or failed.
	Sent int
	// Failed is the number answered with a 5xx code or not answered.
	Failed int
	// Workloads counts the requests by the workload that served them.
	Workloads map[string]int
}

// Probe sends n requests to a Service host now, one after the other, as a
// test run against that Service would (a pre-promotion smoke test through
// the preview Service, say): resolved like the emulator's own traffic and
// counted in its telemetry, but not in Sent or Failed. It fails when the
// host has no workload behind it.
func (m *Mesh) Probe(ctx context.Context, host string, n int) (ProbeResult, error) {
	res := &resolver{m: m, ctx: ctx, endpoints: map[service]resolved{}}
	targets, weights := res.resolve([]destination{{host: host, weight: 1}}, m.opts.ServiceNamespace)
	if res.err != nil {
		return ProbeResult{}, fmt.Errorf("mesh: probe %s: %w", host, res.err)
	}
	routable := false
	for i, t := range targets {
		routable = routable || (t.workload != "" && weights[i] > 0)
	}
	if !routable {
		return ProbeResult{}, fmt.Errorf("mesh: probe %s: no ready workload serves it", host)
	}
	out := ProbeResult{Workloads: map[string]int{}}
	split := newSplitter(weights)
	for range n {
		i, _ := split.next()
		t := targets[i]
		if t.workload == "" {
			out.Sent++
			out.Failed++
			continue
		}
		code, err := m.request(ctx, t)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return out, err
		}
		out.Sent++
		out.Workloads[t.workload]++
		if err != nil || code >= http.StatusInternalServerError {
			out.Failed++
		}
	}
	return out, nil
}

// request makes one request to a target's stand-in, addressed to its
// Service through the Host header, and returns the status code.
func (m *Mesh) request(ctx context.Context, t target) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.standIns[t.workload].url()+"/", nil)
	if err != nil {
		return 0, err
	}
	req.Host = t.svc.fqdn()
	if t.image != "" {
		req.Header.Set(HeaderImage, t.image)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
