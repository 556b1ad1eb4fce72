//go:build linux

package faults

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// report logs the run's figures (the lines docs/reliability.md quotes),
// fails the test on every violation found and on every fault that did not
// happen (a fault suite whose faults never bite proves nothing), and
// returns the violations.
func (f *faults) report(t *testing.T, seed uint64, p plan, releases, failed int) []string {
	starts, kills := f.op.counts()
	f.op.mu.Lock()
	exits := f.op.exits
	f.op.mu.Unlock()
	conf := f.op.conflicts()
	writes, refused, werrs := f.writer.counts()
	f.chaos.mu.Lock()
	failovers, midFlight := f.chaos.failovers, f.chaos.midFlight
	takeovers, actives := slices.Clone(f.chaos.takeovers), slices.Clone(f.chaos.actives)
	f.chaos.mu.Unlock()
	mid, rest, driftRefused, driftFound := f.drift.figures()
	o := f.outage
	o.mu.Lock()
	outages, paused, resumed, alone, held := o.outages, slices.Clone(o.pausedApps), o.resumed, slices.Clone(o.continuedAlone), o.errorsSeenTotal
	o.mu.Unlock()

	var violations []string
	violations = append(violations, f.watch.found()...)
	violations = append(violations, o.violations()...)
	violations = append(violations, driftFound...)
	for _, v := range violations {
		t.Errorf("violation: %s", v)
	}
	t.Logf("faults: seed %d; %d releases, %d ended wrong or broke an invariant; %d violations of the continuous invariants",
		seed, releases, failed, len(violations))
	t.Logf("faults: kills: %d SIGKILLs, %d operator starts, %d exits on its own", kills, starts, exits)
	t.Logf("faults: conflicts: the stand-in writer made %d writes (%d refused with 409, %d other errors); "+
		"the operator got at least %.0f 409s (%.0f on PATCH: status writes)", writes, refused, werrs, conf.conflicts, conf.patchConflicts)
	t.Logf("faults: failovers: %d leader kills (%d with a release in flight), lease %s / renew %s / retry %s; "+
		"Lease taken over after %s; a leader reconciling again after %s; %d step advances followed, none repeated or skipped",
		failovers, midFlight, leaseDuration, leaseRenewDeadline, leaseRetryPeriod, spread(takeovers), spread(actives), f.watch.advances())
	t.Logf("faults: outage: %d outage(s) of %s; %d release(s) held by a provider error; paused for the provider: %v, "+
		"stayed paused %s after Prometheus came back, resumed %d; went on by itself: %v",
		outages, p.outage, held, paused, p.hold, resumed, alone)
	t.Logf("faults: drift: %d reverts mid-step, re-asserted after %s; %d at rest, re-asserted after %s; %d reverts refused (Sluice wrote first)",
		len(mid), spread(mid), len(rest), spread(rest), driftRefused)

	var missing []string
	if kills < p.kills {
		missing = append(missing, fmt.Sprintf("only %d kills (the plan wants %d)", kills, p.kills))
	}
	if conf.patchConflicts == 0 || writes == 0 {
		missing = append(missing, "no conflict reached the operator's status writes")
	}
	if failovers == 0 || len(takeovers) == 0 {
		missing = append(missing, "no leader failover measured")
	}
	if outages == 0 || held == 0 {
		missing = append(missing, "no release was held by the Prometheus outage")
	}
	if len(mid) == 0 || len(rest) == 0 {
		missing = append(missing, "no drift measured mid-step or at rest")
	}
	for _, m := range missing {
		t.Errorf("fault not injected: %s", m)
	}
	return violations
}

// spread describes durations: min / median / max.
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "(none)"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }
	return strings.Join([]string{r(s[0]), r(s[len(s)/2]), r(s[len(s)-1])}, " / ") + " (min / median / max)"
}

// advances is how many step changes the watcher followed.
func (w *watcher) advances() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.steps.advances
}
