package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func (m *canaryMachine) revision() string       { return m.st.CanaryRevision }
func (m *canaryMachine) targetRevision() string { return m.obs.Target.Revision }

// abortCommand rolls the release back at any point: traffic goes back to a
// pod set that is ready and untouched (see rollback).
func (m *canaryMachine) abortCommand(c PendingCommand) string {
	m.rollback(v1alpha1.ReasonAborted, "aborted by command "+commandText(c))
	return "rolled back"
}

// promote ends the current step (promote) or starts the promotion at once
// (promote-full, promote-override). Neither promote nor promote-full
// overrides a failed check; promote-override does, recorded with who gave
// it.
func (m *canaryMachine) promote(c PendingCommand) (string, bool) {
	if m.st.PromotingAt != nil {
		return "already promoting", false
	}
	failed := failedChecks(m.spec.Analysis, m.st.Analysis)
	if c.Name == v1alpha1.CommandPromoteOverride {
		if failed == "" {
			failed = "no failed check"
		}
		m.beginPromotion(m.overrideText(c, failed))
		return "promoting despite the analysis, remaining steps skipped", true
	}
	if failed != "" {
		// Why: promote skips checks still to come; after a failed check
		// that needs a person to say so explicitly.
		return fmt.Sprintf("refused: %s; %s", failed, overrideHint), false
	}
	if c.Name == v1alpha1.CommandPromote {
		return m.promoteStep()
	}
	m.beginPromotion("promote-full command " + commandText(c))
	return "promoting, remaining steps skipped", true
}

// promoteStep ends the current step now, or starts the promotion after the
// last. Why not before traffic: a canary that is not ready, or failed its
// pre-rollout hooks, must not receive traffic on a click.
func (m *canaryMachine) promoteStep() (string, bool) {
	if !m.trafficStarted() {
		return "the canary has no traffic yet (waiting for ready pods and pre-rollout hooks)", false
	}
	m.st.PausedAt = nil
	if m.st.HeldWeight != nil {
		// Why: a person ends the hold of an edit; the step runs now.
		m.st.HeldWeight = nil
		m.st.StepStartedAt = nil
		return "ended the hold at the weight in place; " + stepName(m.spec.Steps, m.st.CurrentStep) + " runs now", true
	}
	if int(m.st.CurrentStep) >= len(m.spec.Steps) {
		m.beginPromotion("promote command after the last step")
		return "promoting", true
	}
	m.st.CurrentStep++
	m.st.StepStartedAt = nil
	return "moved to " + stepName(m.spec.Steps, m.st.CurrentStep), true
}

// pause holds the release where it is; every clock stops with it (see
// resume).
func (m *canaryMachine) pause() (string, bool) {
	if m.st.PromotingAt != nil {
		return "already promoting", false
	}
	return m.pauseNow(" at " + stepName(m.spec.Steps, m.st.CurrentStep))
}

// resume lifts a pause. Why shift stepStartedAt by the time paused: a timed
// pause step or an analysis interval resumes where it stopped instead of
// ending at once or starting over.
func (m *canaryMachine) resume() (string, bool) {
	paused, ok := m.resumeNow()
	if !ok {
		return "not paused", false
	}
	if s := m.st.StepStartedAt; s != nil {
		shifted := s.DeepCopy()
		shifted.Time = s.Add(paused)
		m.st.StepStartedAt = shifted
	}
	return fmt.Sprintf("resumed after %s", paused), true
}

// retry starts a rolled-back revision again from step 0.
func (m *canaryMachine) retry() (string, bool) {
	rev := m.st.CanaryRevision
	if m.primaryTouched() && !m.trafficOffCanary() {
		// Why: the canary carries the traffic while the primary gets its
		// stable template back; a retry now would take the traffic off it.
		return fmt.Sprintf("the primary is still being restored to revision %s; retry once it is", m.st.StableRevision), false
	}
	m.resetRelease(rev)
	return fmt.Sprintf("revision %s restarts from step 0", rev), true
}
