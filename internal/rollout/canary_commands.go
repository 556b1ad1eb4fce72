package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// applyCommands carries out each pending manual command once, abort first.
// Why compare name and ID with status.commands: the annotations stay on the
// object, and a replay must not promote twice.
func (m *canaryMachine) applyCommands() {
	for _, c := range pendingCommands(m.obs.Commands, m.st.Commands) {
		msg, applied := m.command(c)
		m.noteCommand(c, msg, applied)
	}
}

// refuseCommands answers every pending command while the Canary is blocked
// (its target or route missing): nothing can be carried out, and a command
// left pending would fire much later on whatever comes back, so each is
// recorded as not carried out, with why.
func (m *canaryMachine) refuseCommands(why string) {
	for _, c := range pendingCommands(m.obs.Commands, m.st.Commands) {
		m.noteCommand(c, "not carried out, nothing changed: "+why+"; send it again once that is fixed", false)
	}
}

// noteCommand records a command in status and says what came of it: applied
// commands go to the audit trail, refused ones are an event.
func (m *canaryMachine) noteCommand(c PendingCommand, msg string, applied bool) {
	rec := commandRecord(c, m.now, msg)
	m.st.LastCommand = &rec
	m.st.Commands = putCommand(m.st.Commands, rec)
	text := fmt.Sprintf("%s: %s", commandText(c), msg)
	if applied {
		m.record(EventNormal, EventCommandApplied, text)
		return
	}
	m.events = append(m.events, Event{Type: EventNormal, Reason: EventCommandIgnored, Message: text})
}

// command runs one command and says what it did; applied is false when it
// did nothing, and the message then says why.
func (m *canaryMachine) command(c PendingCommand) (msg string, applied bool) {
	name := c.Name
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
		m.rollback(v1alpha1.ReasonAborted, "aborted by command "+commandText(c))
		return "rolled back", true
	case v1alpha1.CommandPause:
		return m.pause()
	case v1alpha1.CommandResume:
		return m.resume()
	}
	if m.st.PromotingAt != nil {
		return "already promoting", false
	}
	failed := failedChecks(m.spec.Analysis, m.st.Analysis)
	switch name {
	case v1alpha1.CommandPromote, v1alpha1.CommandPromoteFull:
		if failed != "" {
			// Why: promote skips checks still to come; after a failed
			// check that needs a person to say so explicitly.
			return fmt.Sprintf("refused: %s; %s", failed, overrideHint), false
		}
		if name == v1alpha1.CommandPromote {
			return m.promoteStep()
		}
		m.beginPromotion("promote-full command " + commandText(c))
		return "promoting, remaining steps skipped", true
	case v1alpha1.CommandPromoteOverride:
		if failed == "" {
			failed = "no failed check"
		}
		m.beginPromotion(fmt.Sprintf("promote-override command %s at %s, overriding %s",
			commandText(c), m.now.UTC().Format("2006-01-02T15:04:05Z"), failed))
		return "promoting despite the analysis, remaining steps skipped", true
	}
	return unknownCommand, false
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
