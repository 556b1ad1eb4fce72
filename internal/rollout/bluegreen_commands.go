package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// applyCommand carries out a manual command once. Why compare name and ID
// with status.lastCommand: the annotation stays on the object, and a replay
// must not promote twice.
func (m *blueGreenMachine) applyCommand() {
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
func (m *blueGreenMachine) command(name v1alpha1.Command) (string, bool) {
	if name == v1alpha1.CommandRetry {
		return m.retry()
	}
	if !m.inFlight() {
		return "no release in flight", false
	}
	if m.st.AbortedAt != nil {
		return fmt.Sprintf("revision %s was rolled back; push a new revision or retry", m.st.PreviewRevision), false
	}
	switch name {
	case v1alpha1.CommandAbort:
		// Why at any point: an abort returns traffic to the old colour,
		// which is still scaled up until the release succeeds.
		m.rollback(v1alpha1.ReasonAborted, "aborted by command")
		return fmt.Sprintf("rolled back; traffic on %s", m.st.ActiveColor), true
	case v1alpha1.CommandPause:
		return m.pause()
	case v1alpha1.CommandResume:
		return m.resume()
	case v1alpha1.CommandPromote:
		return m.promote(false)
	case v1alpha1.CommandPromoteFull:
		return m.promote(true)
	}
	return "unknown command; use promote, promote-full, abort, pause, resume or retry", false
}

// promote ends the wait for a manual promotion. promote-full also skips
// pre-promotion checks still running, or, after the flip, the remaining
// post-promotion checks. Neither overrides a failed check, nor switches to
// a colour that is not ready: a click must not send traffic where a test
// failed or no pod serves.
func (m *blueGreenMachine) promote(full bool) (string, bool) {
	c := m.releaseColor()
	if m.st.SwitchedAt != nil {
		return m.promoteSwitched(full)
	}
	switch {
	case m.st.PromotingAt != nil:
		return "already promoting", false
	case m.st.PreviewReadyAt == nil:
		return fmt.Sprintf("%s is not ready with revision %s yet", c, m.st.PreviewRevision), false
	case !m.colour(c).readyAt(m.st.PreviewRevision):
		return fmt.Sprintf("%s has unready pods; it cannot take all the traffic", c), false
	}
	if reason, msg := m.phaseFailure(m.spec.PrePromotionAnalysis, v1alpha1.HookPrePromotion); reason != "" {
		return "refused: " + msg, false
	}
	if m.st.PrePromotionPassedAt == nil && !full {
		return "pre-promotion checks are still running; promote-full skips them", false
	}
	m.beginPromotion(string(commandName(full)) + " command")
	return fmt.Sprintf("switching the active Service to %s", c), true
}

// promoteSwitched handles a promote after the flip: promote-full ends the
// release now; promote has nothing left to end.
func (m *blueGreenMachine) promoteSwitched(full bool) (string, bool) {
	switch {
	case !full:
		return "already switched; post-promotion checks are running (promote-full ends them)", false
	case m.serving() != m.releaseColor():
		return fmt.Sprintf("waiting for the active Service to report %s", m.releaseColor()), false
	}
	if reason, msg := m.phaseFailure(m.spec.PostPromotionAnalysis, v1alpha1.HookPostPromotion); reason != "" {
		return "refused: " + msg, false
	}
	m.succeed("promote-full command, remaining post-promotion checks skipped")
	return "promoted", true
}

func commandName(full bool) v1alpha1.Command {
	if full {
		return v1alpha1.CommandPromoteFull
	}
	return v1alpha1.CommandPromote
}

// pause holds the release where it is: no checks, no hooks started, no
// promotion. Why not between the decision to promote and the flip: the
// flip may already be written; holding it half-done helps nobody.
func (m *blueGreenMachine) pause() (string, bool) {
	switch {
	case m.st.PromotingAt != nil && m.st.SwitchedAt == nil:
		return "the active Service is being switched", false
	case m.st.PausedAt != nil:
		return "already paused", false
	}
	now := m.now
	m.st.PausedAt = &now
	return "paused", true
}

// resume lifts a pause. The provider error count restarts, so a pause for
// provider errors gives the provider errorLimit more tries. Clocks are not
// shifted: a check or an auto-promotion overdue during the pause is due now.
func (m *blueGreenMachine) resume() (string, bool) {
	if m.st.PausedAt == nil {
		return "not paused", false
	}
	m.st.PausedAt = nil
	if m.st.Analysis != nil {
		m.st.Analysis.ConsecutiveErrors = 0
	}
	return "resumed", true
}

// retry starts a rolled-back revision again, when the target still holds it.
func (m *blueGreenMachine) retry() (string, bool) {
	rev := m.st.PreviewRevision
	if m.st.AbortedAt == nil || !m.inFlight() {
		return "nothing was rolled back", false
	}
	if m.obs.Target.Revision != rev {
		return fmt.Sprintf("the target no longer holds revision %s", rev), false
	}
	m.resetRelease(rev)
	return fmt.Sprintf("revision %s starts again on %s", rev, m.releaseColor()), true
}
