package rollout

import (
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// finishInit makes the target's revision stable once the primary runs it,
// ready, and the router reports every request going to the primary. Why all
// three: before that, moving the Canary to Ready would promise a primary that
// cannot serve.
func (m *canaryMachine) finishInit() bool {
	rev := m.obs.Target.Revision
	if !m.obs.Primary.readyAt(rev) || !m.obs.Route.carries(0) {
		return false
	}
	m.st.StableRevision = rev
	m.st.CanaryRevision = ""
	m.record(EventNormal, EventInitialized, fmt.Sprintf(
		"primary ready with revision %s (%d/%d replicas), 100%% of traffic on it",
		rev, m.obs.Primary.ReadyReplicas, m.obs.Primary.DesiredReplicas))
	return true
}

// advanceRelease takes the next transition of a release that is neither
// rolled back nor promoting.
func (m *canaryMachine) advanceRelease() bool {
	if reason, msg := m.rollbackCause(); reason != "" {
		m.rollback(reason, msg)
		return true
	}
	if m.providerPause(m.spec.Analysis) {
		return true
	}
	switch {
	case m.st.PausedAt != nil:
		return false
	case m.st.StepStartedAt == nil:
		return m.startStepClock()
	case int(m.st.CurrentStep) >= len(m.spec.Steps):
		return m.startPromotion()
	case m.stepComplete() && m.st.HeldWeight != nil:
		m.releaseHold()
		return true
	case m.stepComplete():
		m.advanceStep()
		return true
	}
	return false
}

// rollbackCause returns why the release must roll back now, or "".
func (m *canaryMachine) rollbackCause() (string, string) {
	if late, msg := m.pastDeadline(); late {
		return v1alpha1.ReasonProgressDeadline, msg
	}
	if verdict(m.spec.Analysis, m.st.Analysis) == VerdictRollback {
		return v1alpha1.ReasonAnalysisFailed, "analysis failed: " + analysisSummary(m.spec.Analysis, m.st.Analysis)
	}
	// Why: pre-rollout and confirm-promotion hooks are gates; a failed gate
	// is a verdict on the release.
	for _, typ := range []v1alpha1.CanaryHookType{v1alpha1.HookPreRollout, v1alpha1.HookConfirmPromotion} {
		if reason, msg := m.hookFailure(string(typ), m.st.CanaryRevision); reason != "" {
			return reason, msg
		}
	}
	return "", ""
}

// pastDeadline reports whether the canary failed to become ready in time.
func (m *canaryMachine) pastDeadline() (bool, string) {
	deadline, ok := m.readyDeadline()
	if !ok || m.now.Time.Before(deadline) {
		return false, ""
	}
	t := m.obs.Target
	return true, fmt.Sprintf("canary %s not ready (%d/%d replicas) within %s",
		m.st.CanaryRevision, t.ReadyReplicas, t.DesiredReplicas, m.progressDeadline())
}

// readyDeadline is when an unready canary rolls back, and false while the
// canary is ready enough. Why the two clocks: before any traffic, the canary
// has progressDeadlineSeconds from the release's start to become fully
// ready; once it carries traffic, a canary with no ready pod at all has that
// long from the start of the current step (a single restarting pod does not
// roll back). A paused release waits for a person instead.
func (m *canaryMachine) readyDeadline() (time.Time, bool) {
	if m.st.PausedAt != nil || m.st.ReleaseStartedAt == nil {
		return time.Time{}, false
	}
	since := m.st.ReleaseStartedAt.Time
	if m.trafficStarted() {
		if m.obs.Target.ReadyReplicas > 0 {
			return time.Time{}, false
		}
		if s := m.st.StepStartedAt; s != nil && s.After(since) {
			since = s.Time
		}
	} else if m.obs.Target.readyAt(m.st.CanaryRevision) {
		return time.Time{}, false
	}
	return since.Add(m.progressDeadline()), true
}

// trafficStarted reports whether the canary has carried a step's weight. Until
// then it is held at weight 0 behind the readiness and pre-rollout gate.
func (m *canaryMachine) trafficStarted() bool {
	return m.st.CurrentStep > 0 || m.st.StepStartedAt != nil
}

// gateOpen reports whether the canary may receive its first traffic: every pod
// ready, every pre-rollout hook passed.
func (m *canaryMachine) gateOpen() bool {
	rev := m.st.CanaryRevision
	g := m.gate(string(v1alpha1.HookPreRollout), rev)
	return m.obs.Target.readyAt(rev) && len(g.pending) == 0 && g.failed == ""
}

// startStepClock starts the current step's clock once the router reports the
// step's weight. Why not on writing it: a crash between the write and the
// status patch would otherwise start a clock for a weight never in place;
// this way the replay writes the same weight and waits to read it back.
func (m *canaryMachine) startStepClock() bool {
	if !m.trafficStarted() && !m.gateOpen() {
		return false
	}
	if !m.obs.Route.carries(m.weight()) {
		return false
	}
	now := m.now
	m.st.StepStartedAt = &now
	return true
}

// stepWeight is the canary weight step i asks for: the last setWeight at or
// before i (a pause holds the weight before it), 0 when none. Why from the
// index: a replayed reconcile asks for the same weight, never "last + step".
func stepWeight(steps []v1alpha1.CanaryStep, i int32) int32 {
	if int(i) >= len(steps) {
		i = int32(len(steps)) - 1
	}
	for ; i >= 0; i-- {
		if w := steps[i].SetWeight; w != nil {
			return *w
		}
	}
	return 0
}

// stepComplete reports whether the current step has done its job. With
// analysis, a step that carries traffic ends only on a passing check: a
// check that failed, errored or had no data holds the step, a timed pause
// included. Why: the next step raises the weight, and a weight never rises
// without a passing check; "hold" must mean hold, whatever the step's kind.
func (m *canaryMachine) stepComplete() bool {
	if m.obs.Target.ReadyReplicas == 0 {
		// Why: a canary without a ready pod proves nothing; hold the step
		// (the progress deadline bounds the wait).
		return false
	}
	if m.obs.Route.NotAccepted != "" {
		// Why: the implementation refused the route (or has not looked at
		// it yet), so the data plane may not carry the step's weight; the
		// next step would raise a weight nobody confirmed.
		return false
	}
	step := m.spec.Steps[m.st.CurrentStep]
	started := m.st.StepStartedAt.Time
	if p := step.Pause; p != nil && (p.Duration == nil || m.now.Time.Before(started.Add(p.Duration.Duration))) {
		// Why: an untimed pause waits for a promote command; a timed one
		// holds at least its duration. Analysis keeps running meanwhile and
		// can still roll back.
		return false
	}
	v := verdict(m.spec.Analysis, m.st.Analysis)
	if v == VerdictFail {
		// Why: after a failed check the weight must not move up, even from
		// 0; the next check passes, or failures reach the limit.
		return false
	}
	if m.spec.Analysis == nil || m.weight() == 0 {
		// Why: without analysis, or at weight 0 where there is no traffic to
		// judge, nothing but time gates a step; pause steps carry the time.
		return true
	}
	switch v {
	case VerdictPass:
		if step.Pause != nil {
			// Why: the pause's time is up and the last check, at this
			// weight, passed.
			return true
		}
		// Why: a full interval of traffic at this weight, and a passing
		// check at the end of it.
		return !m.st.Analysis.LastCheckAt.Time.Before(started.Add(limitsOf(m.spec.Analysis).interval))
	case VerdictPromote:
		// Why: the judge's evidence that the canary is within tolerance may
		// end the step early (promoteOnEvidence), but only on a check taken
		// at this weight; a pause still holds as a minimum (above).
		return step.Pause != nil || !m.st.Analysis.LastCheckAt.Time.Before(started)
	}
	// Why: no check yet, no data, a provider error or a failed check: hold.
	return false
}

// advanceStep moves to the next step; its clock starts once its weight is
// read back.
func (m *canaryMachine) advanceStep() {
	from := m.st.CurrentStep
	m.st.CurrentStep++
	m.st.StepStartedAt = nil
	msg := fmt.Sprintf("%s (%s) passed", stepName(m.spec.Steps, from), DescribeStep(m.spec.Steps[from]))
	if m.spec.Analysis != nil {
		msg += "; " + analysisSummary(m.spec.Analysis, m.st.Analysis)
	}
	if int(m.st.CurrentStep) < len(m.spec.Steps) {
		msg += fmt.Sprintf("; next: %s (%s)", stepName(m.spec.Steps, m.st.CurrentStep), DescribeStep(m.spec.Steps[m.st.CurrentStep]))
	} else {
		msg += "; " + everyStepPassed
	}
	m.record(EventNormal, EventStepAdvanced, msg)
}

// everyStepPassed ends the StepAdvanced message of the last step.
const everyStepPassed = "every step passed"

// stepName names a step for people: counted from 1, out of the total, as
// kubectl sluice shows it ("step 2/6"); status.currentStep counts from 0.
func stepName(steps []v1alpha1.CanaryStep, i int32) string {
	return fmt.Sprintf("step %d/%d", i+1, len(steps))
}
