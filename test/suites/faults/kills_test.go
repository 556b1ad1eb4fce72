//go:build linux

package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

// plan is the reduced or the full form of the suite.
type plan struct {
	kills      int           // kills to reach before the releases stop
	electAt    int           // from this kill on, two replicas elect a leader and kills hit the leader...
	failovers  int           // ...for this many leader kills; then one replica again
	canaries   int           // Canary releases after which its line stops (0: as long as the kills go on)
	judge      bool          // also release v4-slow, which only the judge catches
	outage     time.Duration // how long Prometheus is down, once, mid-analysis
	hold       time.Duration // how long a release paused for the provider must stay paused once it is back
	restDrifts int           // weight reverts at rest after each round of the Canary's line
	deadline   time.Duration // bounds a hang, not a speed
}

func planFromEnv() plan {
	if os.Getenv("SLUICE_FAULTS") == "full" {
		return plan{kills: 200, electAt: 100, failovers: 40, judge: true, outage: 3 * time.Minute,
			hold: 10 * time.Second, restDrifts: 2, deadline: 85 * time.Minute}
	}
	// The reduced form releases the Canary twice (v2, promoted through the
	// outage, drift and failovers; v3-bad, rolled back), then leaves it at
	// rest while the BlueGreen's line goes on until the kills are done: the
	// Canary's releases are the long ones.
	return plan{kills: 30, electAt: 12, failovers: 4, canaries: 2, outage: 30 * time.Second, hold: 6 * time.Second,
		restDrifts: 2, deadline: 25 * time.Minute}
}

// lines are the releases each app goes through, again and again, one line
// per app so that both kinds are in flight when a kill lands. Each line ends
// on a version other than the one it starts with, so every round releases.
var lines = map[string][]sandbox.Release{
	"podinfo": {
		{Kind: sandbox.KindCanary, App: "podinfo", Image: "v2", Want: sandbox.Promoted, About: "healthy"},
		{Kind: sandbox.KindCanary, App: "podinfo", Image: "v3-bad", Want: sandbox.RolledBack, About: "past the thresholds"},
		{Kind: sandbox.KindCanary, App: "podinfo", Image: "v4-slow", Want: sandbox.RolledBack, About: "the judge's case"},
		{Kind: sandbox.KindCanary, App: "podinfo", Image: "v1", Want: sandbox.Promoted, About: "healthy"},
	},
	"checkout": {
		{Kind: sandbox.KindBlueGreen, App: "checkout", Image: "v2-bad", Want: sandbox.RolledBack, About: "fails its smoke test"},
		{Kind: sandbox.KindBlueGreen, App: "checkout", Image: "v2", Want: sandbox.Promoted, About: "healthy"},
		{Kind: sandbox.KindBlueGreen, App: "checkout", Image: "v1", Want: sandbox.Promoted, About: "healthy"},
	},
}

// faults are the fault injectors of one run, and what they found.
type faults struct {
	op     *operator
	chaos  *chaos
	writer *writer
	watch  *watcher
	outage *outage
	drift  *drifter
}

func TestReleasesEndAsTheyShouldUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault suite runs the whole sandbox")
	}
	p := planFromEnv()
	ctx, cancel := context.WithTimeout(context.Background(), p.deadline)
	defer cancel()
	dir := t.TempDir()
	bin, err := buildManager(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	op := &operator{bin: bin, log: filepath.Join(dir, "operator.log"), args: operatorArgs()}
	sb, err := sandbox.Start(ctx, sandbox.Options{Log: testWriter{t}, Operator: func(_ context.Context, kubeconfig, prometheus string) (func() error, error) {
		op.kubeconfig = kubeconfig
		op.args = append(op.args, "--default-prometheus-address="+prometheus)
		return op.stop, op.start()
	}})
	if err != nil {
		t.Fatalf("start the sandbox: %v\noperator log:\n%s", err, tail(op.log))
	}
	defer func() {
		if err := sb.Stop(); err != nil {
			t.Errorf("stop the sandbox: %v", err)
		}
	}()
	for _, sc := range sandbox.Scenarios {
		if sc.Gateway {
			continue // through Traefik: the fault suite's releases run on the mesh emulator
		}
		if err := (&sandbox.Runner{Sandbox: sb}).Install(ctx, sc); err != nil {
			t.Fatalf("install %s: %v\noperator log:\n%s", sc.App, err, tail(op.log))
		}
	}

	seed := chaosSeed(t)
	f := newFaults(sb, op, seed)
	stopFaults := f.start(ctx, t, sb, p)
	results, errs := runLines(ctx, t, sb, f, p)
	stopFaults()

	failed := 0
	for _, res := range results {
		if err := errors.Join(res.Check(), noRiseAfterRollback(res)); err != nil {
			failed++
			t.Errorf("%s: %v", res.Release, err)
		}
	}
	for _, err := range errs {
		t.Errorf("%v", err)
	}
	violations := f.report(t, seed, p, len(results), failed)
	if len(violations) > 0 || t.Failed() {
		t.Logf("operator log (tail):\n%s", tail(op.log))
	}
}

// newFaults wires the injectors on a started sandbox.
func newFaults(sb *sandbox.Sandbox, op *operator, seed uint64) *faults {
	calm := &sync.Mutex{}
	w := &watcher{c: sb.Client, outage: &outage{}}
	return &faults{
		op:     op,
		watch:  w,
		outage: w.outage,
		chaos:  &chaos{c: sb.Client, op: op, w: w, calm: calm, rng: rand.New(rand.NewPCG(seed, 1))},
		writer: &writer{c: sb.Client, rng: rand.New(rand.NewPCG(seed, 2))},
		drift:  &drifter{c: sb.Client, op: op, w: w, calm: calm, rng: rand.New(rand.NewPCG(seed, 3))},
	}
}

// start runs the injectors and the watcher in the background; the function
// it returns stops them, the chaos last, which leaves the operator running.
func (f *faults) start(ctx context.Context, t *testing.T, sb *sandbox.Sandbox, p plan) func() {
	stop := make(chan struct{})
	var bg sync.WaitGroup
	chaosDone := make(chan struct{})
	go f.chaos.run(t, p, stop, chaosDone)
	for _, run := range []func(context.Context, <-chan struct{}){f.watch.run, f.writer.run, f.drift.runMidStep,
		func(_ context.Context, s <-chan struct{}) { f.op.scrapeEvery(time.Second, s) }} {
		bg.Add(1)
		go func() { defer bg.Done(); run(ctx, stop) }()
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		if err := f.outage.inject(ctx, stop, sb, f.watch, p.outage, p.hold, t.Logf); err != nil {
			t.Errorf("Prometheus outage: %v", err)
		}
	}()
	return func() {
		close(stop)
		<-chaosDone
		bg.Wait()
	}
}

// operatorArgs are the manager's flags in the suite: what the chart sets,
// less leader election (one replica, killed and started again; the chaos
// adds it for the failovers), with loopback allowed by the outbound policy
// as on a laptop: the sandbox's Prometheus and smoke tester listen there.
func operatorArgs() []string {
	return []string{"--workers=4", "--zap-log-level=info", "--outbound-allow-cidrs=127.0.0.0/8,::1/128"}
}

// operatorGap is how long a weight may stay above what status has reached:
// status is written before the route, and a kill between the two leaves
// the route behind until the operator is back (at most 2.2 s down, then
// its start-up and first reconcile on a loaded machine; a failover takes
// up to a lease duration and a retry more). A weight that rises above it
// is caught however short it is, by noRiseAfterRollback.
const operatorGap = 10 * time.Second

// noRiseAfterRollback checks a rolled-back Canary's weights: once the
// weight fell back to 0 after carrying traffic, it never rose again (the
// forgotten rollback: 0, 5, 0, 5, 0).
func noRiseAfterRollback(res sandbox.Result) error {
	if res.Kind != sandbox.KindCanary || res.Got != sandbox.RolledBack {
		return nil
	}
	carried, fell := false, false
	for _, w := range res.Weights {
		switch {
		case w > 0 && fell:
			return fmt.Errorf("the canary weight rose again after the rollback: %v", res.Weights)
		case w > 0:
			carried = true
		case carried:
			fell = true
		}
	}
	return nil
}

// runLines runs each app's line of releases in its own goroutine, again and
// again, until the plan's kills have happened (each line releasing at least
// twice: a version that must promote and one that must roll back). After
// each round of the Canary's line, and when it stops, the GitOps stand-in
// reverts its weights at rest.
func runLines(ctx context.Context, t *testing.T, sb *sandbox.Sandbox, f *faults, p plan) ([]sandbox.Result, []error) {
	var (
		mu      sync.Mutex
		results []sandbox.Result
		errs    []error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	for app, line := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The timeout allows a release held through the whole outage.
			r := &sandbox.Runner{Sandbox: sb, Timeout: 8*time.Minute + p.outage, Recheck: operatorGap,
				Journal: func(s string) { t.Log(s) }}
			r.SetStable(app, "v1")
			atRest := func() bool {
				if app != "podinfo" {
					return true
				}
				f.drift.releasing(sandbox.Release{})
				if err := f.drift.atRestDrifts(ctx, p.restDrifts); err != nil {
					fail(err)
					return false
				}
				return true
			}
			for round, n := 0, 0; ; round++ {
				for _, rel := range line {
					if rel.Image == "v4-slow" && !p.judge {
						continue
					}
					if app == "podinfo" {
						f.drift.releasing(rel)
					}
					res, err := r.Release(ctx, rel)
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
					if err != nil {
						fail(fmt.Errorf("%s: %w", rel, err))
						return
					}
					n++
					if (n >= 2 && f.done(ctx, p)) || (app == "podinfo" && n == p.canaries) {
						atRest()
						return
					}
				}
				if !atRest() {
					return
				}
			}
		}()
	}
	wg.Wait()
	return results, errs
}

// done reports whether the plan's kills and failovers have happened, or
// the run must end.
func (f *faults) done(ctx context.Context, p plan) bool {
	_, kills := f.op.counts()
	f.chaos.mu.Lock()
	failovers := f.chaos.failovers
	f.chaos.mu.Unlock()
	return (kills >= p.kills && failovers >= p.failovers) || ctx.Err() != nil
}

// chaosSeed is SLUICE_FAULTS_SEED, or a new seed, logged to replay a run.
func chaosSeed(t *testing.T) uint64 {
	if s := os.Getenv("SLUICE_FAULTS_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SLUICE_FAULTS_SEED: %v", err)
		}
		return seed
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("chaos seed %d (replay with SLUICE_FAULTS_SEED=%d)", seed, seed)
	return seed
}

// tail is the end of a log file.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(string(b), "\n")
	return strings.Join(lines[max(0, len(lines)-60):], "\n")
}

// testWriter sends the sandbox's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
