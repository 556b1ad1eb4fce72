package rollout

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// actions derives the writes from the decided status and what was observed:
// each Action closes a gap between the two, so a replay asks for the same
// writes and a converged world asks for none. Order: traffic first (a
// rollback takes traffic off the canary before anything else), then the
// primary, then the canary's size, then hooks.
func (m *canaryMachine) actions() []Action {
	var out []Action
	if w, ok := m.desiredWeight(); ok && (!m.obs.Route.Exists || m.obs.Route.CanaryWeight != w) {
		out = append(out, SetWeight{Weight: w})
	}
	if rev := m.primaryRevision(); !m.obs.Primary.Exists || m.obs.Primary.Revision != rev {
		out = append(out, EnsurePrimary{Revision: rev})
	}
	if r, ok := m.canaryReplicas(); ok && m.obs.Target.DesiredReplicas != r {
		out = append(out, ScaleCanary{Replicas: r})
	}
	typ, names := m.hooksToRun()
	for _, n := range names {
		out = append(out, RunHook{Name: n, Type: string(typ), Revision: m.st.CanaryRevision,
			NotBefore: m.releaseStart()})
	}
	return out
}

// primaryRevision is the revision the primary must run: the target's until
// initialised, the canary's while promoting, the stable one otherwise (which
// also restores it after a rollback during a promotion).
func (m *canaryMachine) primaryRevision() string {
	switch {
	case m.st.StableRevision == "":
		return m.obs.Target.Revision
	case m.inFlight() && m.st.AbortedAt == nil && m.st.PromotingAt != nil:
		return m.st.CanaryRevision
	}
	return m.st.StableRevision
}

// desiredWeight is the canary weight the router must carry, and false when
// Next has no opinion yet (the primary is not ready to take traffic).
func (m *canaryMachine) desiredWeight() (int32, bool) {
	switch {
	case m.st.StableRevision == "":
		// Why: create the route only once the primary can serve all of it.
		return 0, m.obs.Primary.readyAt(m.obs.Target.Revision)
	case !m.inFlight(), m.st.AbortedAt != nil:
		return 0, true
	case m.st.PromotingAt != nil:
		// Why: the canary keeps its traffic until the primary can take it
		// all; a canary promoted before it had any keeps none.
		if m.obs.Primary.readyAt(m.st.CanaryRevision) || !m.trafficStarted() {
			return 0, true
		}
		return stepWeight(m.spec.Steps, m.st.CurrentStep), true
	case !m.trafficStarted() && !m.gateOpen():
		return 0, true
	}
	return stepWeight(m.spec.Steps, m.st.CurrentStep), true
}

// canaryReplicas is the size of the target Deployment, and false when Next
// leaves it alone (before initialisation it serves the user's traffic).
func (m *canaryMachine) canaryReplicas() (int32, bool) {
	up := max(m.obs.Primary.DesiredReplicas, 1)
	switch {
	case m.st.StableRevision == "":
		return 0, false
	case !m.inFlight(), m.st.AbortedAt != nil:
		return 0, true
	case m.st.PromotingAt != nil:
		// Why: the canary serves until the router reports it has no weight.
		if m.obs.Primary.readyAt(m.st.CanaryRevision) && m.obs.Route.Exists && m.obs.Route.CanaryWeight == 0 {
			return 0, true
		}
	}
	return up, true
}

// hooksToRun returns the hooks whose turn it is and that have not finished.
func (m *canaryMachine) hooksToRun() (v1alpha1.CanaryHookType, []string) {
	typ, ok := m.hookStage()
	if !ok {
		return "", nil
	}
	return typ, gateOf(canaryHooksOf(m.spec, typ), m.st.Hooks, m.st.CanaryRevision).pending
}

// hookStage says which hooks run at this point of the release.
func (m *canaryMachine) hookStage() (v1alpha1.CanaryHookType, bool) {
	rev := m.st.CanaryRevision
	switch {
	case m.st.StableRevision == "" || !m.inFlight():
		return "", false
	case m.st.AbortedAt != nil:
		return v1alpha1.HookRollback, true
	case m.st.PromotingAt != nil:
		done := m.obs.Primary.readyAt(rev) && m.obs.Route.Exists && m.obs.Route.CanaryWeight == 0
		return v1alpha1.HookPostRollout, done
	case m.st.PausedAt != nil:
		return "", false
	case !m.trafficStarted():
		return v1alpha1.HookPreRollout, m.obs.Target.readyAt(rev)
	case int(m.st.CurrentStep) >= len(m.spec.Steps) && m.st.StepStartedAt != nil:
		v := verdict(m.spec.Analysis, m.st.Analysis)
		return v1alpha1.HookConfirmPromotion, m.spec.Analysis == nil || v == VerdictPass || v == VerdictPromote
	}
	return "", false
}

// requeue is when to look again at the latest: the nearest of the next
// analysis check, the end of a timed pause, a progress deadline, or a short
// poll while waiting on something read without a watch. Zero when only a
// person or a watched object can move the release.
func (m *canaryMachine) requeue() time.Duration {
	var at []time.Time
	poll := m.now.Add(PollInterval)
	switch {
	case m.st.StableRevision == "":
		at = append(at, poll)
	case !m.inFlight(), m.st.PausedAt != nil:
	case m.st.AbortedAt != nil:
		if _, names := m.hooksToRun(); len(names) > 0 {
			at = append(at, poll)
		}
	case m.st.PromotingAt != nil:
		at = append(at, poll, m.st.PromotingAt.Add(m.progressDeadline()))
	default:
		at = m.releaseTimers(poll)
	}
	var soonest time.Duration
	for _, t := range at {
		d := max(t.Sub(m.now.Time), time.Second)
		if soonest == 0 || d < soonest {
			soonest = d
		}
	}
	return soonest
}

// releaseTimers are the moments a running release may move on its own.
func (m *canaryMachine) releaseTimers(poll time.Time) []time.Time {
	at := []time.Time{}
	if deadline, ok := m.readyDeadline(); ok {
		at = append(at, deadline)
	}
	if m.st.StepStartedAt == nil || m.obs.Target.ReadyReplicas == 0 {
		return append(at, poll)
	}
	if _, names := m.hooksToRun(); len(names) > 0 {
		at = append(at, poll)
	}
	if m.spec.Analysis != nil {
		at = append(at, nextCheckAt(m.spec.Analysis, m.st.Analysis, m.st.StepStartedAt.Time))
	}
	if i := int(m.st.CurrentStep); i < len(m.spec.Steps) {
		if p := m.spec.Steps[i].Pause; p != nil && p.Duration != nil {
			at = append(at, m.st.StepStartedAt.Add(p.Duration.Duration))
		}
	}
	return at
}

// releaseStart is when the current release attempt started.
func (m *canaryMachine) releaseStart() metav1.Time {
	if m.st.ReleaseStartedAt == nil {
		return metav1.Time{}
	}
	return metav1.NewTime(m.st.ReleaseStartedAt.UTC())
}
