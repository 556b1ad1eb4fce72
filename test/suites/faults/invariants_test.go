//go:build linux

package faults

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

func TestStepCheckerCatchesRepeatedSkippedAndRestartedSteps(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	at := func(s int) *time.Time { x := t0.Add(time.Duration(s) * time.Second); return &x }
	canary := func(step int32, started *time.Time, paused bool) view {
		return view{kind: sandbox.KindCanary, app: "podinfo", release: "abc@t", step: step, started: started, paused: paused}
	}
	for name, tc := range map[string]struct {
		views []view
		fail  string
	}{
		"steps one at a time, each clock started once": {
			views: []view{canary(0, nil, false), canary(0, at(1), false), canary(1, nil, false), canary(1, at(6), false), canary(2, at(9), false)},
		},
		"a step applied twice (the step goes back)": {
			views: []view{canary(0, at(1), false), canary(1, at(6), false), canary(0, at(8), false)},
			fail:  "went back",
		},
		"a step skipped": {
			views: []view{canary(0, at(1), false), canary(2, at(6), false)},
			fail:  "jumped",
		},
		"a step's clock started again": {
			views: []view{canary(1, at(6), false), canary(1, at(12), false)},
			fail:  "clock started again",
		},
		"a resume after a pause shifts the clock": {
			views: []view{canary(1, at(6), false), canary(1, at(6), true), canary(1, at(40), false)},
		},
		"another release starts at step 0": {
			views: []view{canary(3, at(6), false), {kind: sandbox.KindCanary, app: "podinfo", release: "def@t", started: at(50)}},
		},
	} {
		var s stepChecker
		var found []string
		for _, v := range tc.views {
			found = append(found, s.observe(v)...)
		}
		got := strings.Join(found, "; ")
		if (tc.fail == "") != (got == "") || !strings.Contains(got, tc.fail) {
			t.Errorf("%s: found %q, want %q", name, got, tc.fail)
		}
	}
}

func TestOutageCatchesARollbackAndAMoveAfterAProviderError(t *testing.T) {
	base := view{kind: sandbox.KindCanary, app: "podinfo", release: "abc@t", step: 1, checks: 2}
	withErr := base
	withErr.errors = 1
	moved := withErr
	moved.step = 2
	rolled := base
	rolled.aborted = true
	for name, tc := range map[string]struct {
		views []view
		fail  string
	}{
		"held after a provider error":                 {views: []view{base, withErr, withErr}},
		"a step passed before any provider error":     {views: []view{base, moved}},
		"a step taken after a provider error":         {views: []view{base, withErr, moved}, fail: "moved from step 1 to 2"},
		"a rollback during the outage":                {views: []view{base, rolled}, fail: "rolled back during the Prometheus outage"},
		"a rollback after a provider error is a move": {views: []view{withErr, rolled}, fail: "rolled back"},
		"a promotion decided after a provider error":  {views: []view{withErr, func() view { v := withErr; v.promoting = true; return v }()}, fail: "promoted"},
		"a release that ends after a provider error":  {views: []view{withErr, {kind: sandbox.KindCanary, app: "podinfo"}}, fail: "ended"},
	} {
		o := &outage{}
		o.begin()
		for _, v := range tc.views {
			o.observe(v)
		}
		got := strings.Join(o.violations(), "; ")
		if (tc.fail == "") != (got == "") || !strings.Contains(got, tc.fail) {
			t.Errorf("%s: found %q, want %q", name, got, tc.fail)
		}
	}
}

func TestScrapeMetricsReadsConflictsLeadershipAndReconciles(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`# HELP rest_client_requests_total Number of HTTP requests
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="PATCH"} 120
rest_client_requests_total{code="409",host="127.0.0.1:6443",method="PATCH"} 7
rest_client_requests_total{code="409",host="127.0.0.1:6443",method="PUT"} 2
controller_runtime_reconcile_total{controller="canary",result="success"} 40
controller_runtime_reconcile_total{controller="bluegreen",result="error"} 3
leader_election_master_status{name="sluice.rollouts.sluice.dev"} 1
`))
	}))
	defer srv.Close()
	s, err := scrapeMetrics(context.Background(), strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	want := metricsSample{conflicts: 9, patchConflicts: 7, reconciles: 43, leader: true}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}
