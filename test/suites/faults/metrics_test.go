//go:build linux

package faults

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// metricsSample is what the suite reads from a replica's metrics endpoint:
// the conflicts (HTTP 409) the API server answered its client, from
// client-go's request counter, whether it leads, and whether it has
// reconciled anything yet.
type metricsSample struct {
	conflicts      float64 // rest_client_requests_total{code="409"}, every method
	patchConflicts float64 // the same for PATCH: status writes guarded by resourceVersion
	reconciles     float64 // controller_runtime_reconcile_total
	leader         bool    // leader_election_master_status, or reconciles when the gauge is missing
}

// plus adds the counters of s and t (a dead process's counters kept).
func (s metricsSample) plus(t metricsSample) metricsSample {
	return metricsSample{conflicts: s.conflicts + t.conflicts, patchConflicts: s.patchConflicts + t.patchConflicts,
		reconciles: s.reconciles + t.reconciles}
}

var scrapeClient = &http.Client{Timeout: time.Second}

// scrapeMetrics reads one replica's metrics endpoint.
func scrapeMetrics(ctx context.Context, addr string) (metricsSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return metricsSample{}, err
	}
	resp, err := scrapeClient.Do(req)
	if err != nil {
		return metricsSample{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return metricsSample{}, fmt.Errorf("GET %s/metrics: %s", addr, resp.Status)
	}
	var s metricsSample
	master, hasMaster := 0.0, false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, labels, value, ok := parseSample(sc.Text())
		if !ok {
			continue
		}
		switch {
		case name == "rest_client_requests_total" && strings.Contains(labels, `code="409"`):
			s.conflicts += value
			if strings.Contains(labels, `method="PATCH"`) {
				s.patchConflicts += value
			}
		case name == "controller_runtime_reconcile_total":
			s.reconciles += value
		case name == "leader_election_master_status" && strings.Contains(labels, leaseName):
			master, hasMaster = value, true
		}
	}
	s.leader = master == 1 || (!hasMaster && s.reconciles > 0)
	return s, sc.Err()
}

// parseSample splits a line of Prometheus' text format into a metric name,
// its labels and its value.
func parseSample(line string) (name, labels string, value float64, ok bool) {
	if line == "" || line[0] == '#' {
		return "", "", 0, false
	}
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(line[sp+1:], 64)
	if err != nil {
		return "", "", 0, false
	}
	head := line[:sp]
	if i := strings.IndexByte(head, '{'); i >= 0 {
		return head[:i], head[i:], v, true
	}
	return head, "", v, true
}

// scrape reads every live replica's metrics and keeps them: the counters
// of a process killed a moment later are the last ones read.
func (o *operator) scrape() {
	o.mu.Lock()
	rs := append([]*replica(nil), o.replicas...)
	o.mu.Unlock()
	for _, r := range rs {
		s, err := scrapeMetrics(context.Background(), r.metrics)
		if err != nil {
			continue // starting, or gone
		}
		o.mu.Lock()
		r.last = s
		o.mu.Unlock()
	}
}

// scrapeEvery scrapes the replicas until stop is closed.
func (o *operator) scrapeEvery(d time.Duration, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(d):
			o.scrape()
		}
	}
}

// conflicts are the 409s the API server answered the operator, over every
// process so far (at least: a process's last second before a kill is lost).
func (o *operator) conflicts() metricsSample {
	o.scrape()
	o.mu.Lock()
	defer o.mu.Unlock()
	sum := o.dead
	for _, r := range o.replicas {
		sum = sum.plus(r.last)
	}
	return sum
}

// active reports whether a live replica leads (or runs alone) and has
// reconciled something: the operator acts again.
func (o *operator) active() bool {
	o.scrape()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.replicas {
		if r.last.reconciles > 0 && (r.last.leader || !o.elect) {
			return true
		}
	}
	return false
}

// waitActive polls active every 100 ms until it holds or ctx ends.
func (o *operator) waitActive(ctx context.Context) error {
	for !o.active() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no operator replica reconciling: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
