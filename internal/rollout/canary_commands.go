package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// applyCommand carries out a manual command once. Why compare name and ID
// with status.lastCommand: the annotation stays on the object, and a replay
// must not promote twice.
func (m *canaryMachine) applyCommand() {
	c := m.obs.Command
	if c == nil {
		return
	}
	if last := m.st.LastCommand; last != nil && last.Name == c.Name && last.ID == c.ID {
		return
	}
	msg, applied := m.command(c.Name)
	m.st.LastCommand = &v1alpha1.CommandStatus{Name: c.Name, ID: c.ID, ProcessedAt: m.now, Message: msg}
	if applied {
		m.record(EventNormal, EventCommandApplied, fmt.Sprintf("%s: %s", c.Name, msg))
		return
	}
	m.events = append(m.events, Event{Type: EventNormal, Reason: EventCommandIgnored,
		Message: fmt.Sprintf("%s: %s", c.Name, msg)})
}

// command runs one command and says what it did; applied is false when it
// did nothing, and the message then says why.
func (m *canaryMachine) command(name v1alpha1.Command) (msg string, applied bool) {
	if name == v1alpha1.CommandRetry {
		return m.retry()
	}
	if !m.inFlight() {
		return "no release in flight", false
	}
	if m.st.AbortedAt != nil {
		return fmt.Sprintf("revision %s was rolled back; push a new revision or retry", m.st.CanaryRevision), false
	}
	switch name {
	case v1alpha1.CommandAbort:
		m.rollback(v1alpha1.ReasonAborted, "aborted by command")
		return "rolled back", true
	case v1alpha1.CommandPause:
		return m.pause()
	case v1alpha1.CommandResume:
		return m.resume()
	}
	if m.st.PromotingAt != nil {
		return "already promoting", false
	}
	switch name {
	case v1alpha1.CommandPromote:
		return m.promoteStep()
	case v1alpha1.CommandPromoteFull:
		m.beginPromotion("promote-full command")
		return "promoting, remaining steps skipped", true
	}
	return "unknown command; use promote, promote-full, abort, pause, resume or retry", false
}

// promoteStep ends the current step now, or starts the promotion after the
// last. Why not before traffic: a canary that is not ready, or failed its
// pre-rollout hooks, must not receive traffic on a click.
func (m *canaryMachine) promoteStep() (string, bool) {
	if !m.trafficStarted() {
		return "the canary has no traffic yet (waiting for ready pods and pre-rollout hooks)", false
	}
	m.st.PausedAt = nil
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
	switch {
	case m.st.PromotingAt != nil:
		return "already promoting", false
	case m.st.PausedAt != nil:
		return "already paused", false
	}
	now := m.now
	m.st.PausedAt = &now
	return "paused at " + stepName(m.spec.Steps, m.st.CurrentStep), true
}

// resume lifts a pause. Why shift stepStartedAt by the time paused: a timed
// pause step or an analysis interval resumes where it stopped instead of
// ending at once or starting over. The provider error count restarts, so a
// pause for provider errors gives the provider errorLimit more tries.
func (m *canaryMachine) resume() (string, bool) {
	if m.st.PausedAt == nil {
		return "not paused", false
	}
	paused := m.now.Sub(m.st.PausedAt.Time)
	if s := m.st.StepStartedAt; s != nil {
		shifted := s.DeepCopy()
		shifted.Time = s.Add(paused)
		m.st.StepStartedAt = shifted
	}
	m.st.PausedAt = nil
	if m.st.Analysis != nil {
		m.st.Analysis.ConsecutiveErrors = 0
	}
	return fmt.Sprintf("resumed after %s", paused), true
}

// retry starts a rolled-back revision again from step 0, when the target
// still holds it.
func (m *canaryMachine) retry() (string, bool) {
	rev := m.st.CanaryRevision
	if m.st.AbortedAt == nil || !m.inFlight() {
		return "nothing was rolled back", false
	}
	if m.obs.Target.Revision != rev {
		return fmt.Sprintf("the target no longer holds revision %s", rev), false
	}
	if m.primaryTouched() && !m.trafficOffCanary() {
		// Why: the canary carries the traffic while the primary gets its
		// stable template back; a retry now would take the traffic off it.
		return fmt.Sprintf("the primary is still being restored to revision %s; retry once it is", m.st.StableRevision), false
	}
	m.resetRelease(rev)
	return fmt.Sprintf("revision %s restarts from step 0", rev), true
}
