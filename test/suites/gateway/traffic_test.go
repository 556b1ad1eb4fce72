package gateway_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/podnet"
)

// sample is one request sent through Traefik.
type sample struct {
	at   time.Time // when it was sent
	pod  string    // the pod that answered; "" when none did
	tag  string    // its image tag
	code int       // the status code; 0 when the request failed
	err  string    // why it failed, when code is 0
}

// failed reports a request that no pod answered well.
func (s sample) failed() bool { return s.code == 0 || s.code >= 500 }

// traffic sends requests through Traefik at a fixed rate and keeps every
// answer.
type traffic struct {
	mu      sync.Mutex
	samples []sample
	skipped int // ticks with every request slot busy
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// sendTraffic sends rate requests per second to url until stop, with
// host as the Host header when it is not empty.
func sendTraffic(url, host string, rate int) *traffic {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &traffic{cancel: cancel}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	slots := make(chan struct{}, 64)
	tr.done.Add(1)
	go func() {
		defer tr.done.Done()
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case slots <- struct{}{}:
			default:
				tr.mu.Lock()
				tr.skipped++
				tr.mu.Unlock()
				continue
			}
			tr.done.Add(1)
			go func() {
				defer tr.done.Done()
				defer func() { <-slots }()
				tr.record(send(ctx, hc, url, host))
			}()
		}
	}()
	return tr
}

// send sends one request, with host as its Host header when not empty.
func send(ctx context.Context, hc *http.Client, url, host string) sample {
	s := sample{at: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
	if err != nil {
		return s
	}
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return sample{} // stopped: not a failure
		}
		s.err = err.Error()
		return s
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	s.code, s.pod, s.tag = resp.StatusCode, resp.Header.Get(podnet.HeaderPod), resp.Header.Get(podnet.HeaderImage)
	return s
}

func (tr *traffic) record(s sample) {
	if s.code == 0 && s.at.IsZero() {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.samples = append(tr.samples, s)
}

// stop stops sending and returns every answer.
func (tr *traffic) stop() []sample {
	tr.cancel()
	tr.done.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.samples
}

// between returns the samples sent in [from, to).
func between(samples []sample, from, to time.Time) []sample {
	var out []sample
	for _, s := range samples {
		if !s.at.Before(from) && s.at.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

// canaryWeight reads the canary's share, in percent, of the HTTPRoute's
// rule that names the canary Service.
func canaryWeight(app string) func(apiserver.State) (int32, bool) {
	return func(st apiserver.State) (int32, bool) {
		obj := st.Get(fmt.Sprintf("%T", &gatewayv1.HTTPRouteList{}), app)
		route, ok := obj.(*gatewayv1.HTTPRoute)
		if !ok {
			return 0, false
		}
		for _, rule := range route.Spec.Rules {
			var canary, total int32
			found := false
			for _, b := range rule.BackendRefs {
				w := int32(1)
				if b.Weight != nil {
					w = *b.Weight
				}
				total += w
				if string(b.Name) == app+"-canary" {
					canary, found = w, true
				}
			}
			if found && total > 0 {
				return canary * 100 / total, true
			}
		}
		return 0, false
	}
}

// step is the traffic of one weight Traefik was given.
type step struct {
	weight   int32
	from, to time.Time
	requests int
	canary   int
	failed   int
}

// measured is the canary's share of the requests, in percent.
func (s step) measured() float64 {
	if s.requests == 0 {
		return math.NaN()
	}
	return 100 * float64(s.canary) / float64(s.requests)
}

// splitTable measures, for each weight the route carried from the time the
// watch saw it until the next, the share of the requests sent from settle
// after the change that canary pods answered.
func splitTable(samples []sample, weights []int32, seen []time.Time, end time.Time, settle time.Duration, app string) []step {
	var steps []step
	for i, w := range weights {
		to := end
		if i+1 < len(seen) {
			to = seen[i+1]
		}
		st := step{weight: w, from: seen[i].Add(settle), to: to}
		if st.to.Before(st.from) { // held for less than settle: not measured
			st.to = st.from
		}
		for _, s := range between(samples, st.from, st.to) {
			st.requests++
			if s.failed() {
				st.failed++
			}
			if s.pod != "" && !strings.HasPrefix(s.pod, app+"-primary-") {
				st.canary++
			}
		}
		steps = append(steps, st)
	}
	return steps
}

// printTable logs the measured split.
func printTable(t *testing.T, title string, steps []step) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n| weight (HTTPRoute) | measured for | requests | to canary pods | measured share | difference | failed |\n|---|---|---|---|---|---|---|\n", title)
	for _, s := range steps {
		share, diff := "n/a", "n/a"
		if s.requests > 0 {
			share, diff = fmt.Sprintf("%.1f%%", s.measured()), fmt.Sprintf("%+.1f", s.measured()-float64(s.weight))
		}
		fmt.Fprintf(&b, "| %d%% | %s | %d | %d | %s | %s | %d |\n", s.weight, s.to.Sub(s.from).Round(100*time.Millisecond),
			s.requests, s.canary, share, diff, s.failed)
	}
	t.Log(b.String())
}
