package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// applyCommands carries out each pending manual command once, abort first.
// Why compare name and ID with status.commands: the annotations stay on the
// object, and a replay must not promote twice.
func (m *blueGreenMachine) applyCommands() {
	for _, c := range pendingCommands(m.obs.Commands, m.st.Commands) {
		msg, applied := m.command(c)
		m.noteCommand(c, msg, applied)
	}
}

// refuseCommands answers every pending command while the target is missing:
// nothing can be carried out, and a command left pending would fire much
// later on whatever comes back.
func (m *blueGreenMachine) refuseCommands(why string) {
	for _, c := range pendingCommands(m.obs.Commands, m.st.Commands) {
		m.noteCommand(c, "not carried out, nothing changed: "+why+"; send it again once that is fixed", false)
	}
}

// noteCommand records a command in status and says what came of it.
func (m *blueGreenMachine) noteCommand(c PendingCommand, msg string, applied bool) {
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
func (m *blueGreenMachine) command(c PendingCommand) (string, bool) {
	if c.Name == v1alpha1.CommandRetry {
		return m.retry()
	}
	if !m.inFlight() {
		return "no release in flight", false
	}
	if m.st.AbortedAt != nil {
		return fmt.Sprintf("revision %s was rolled back; push a new revision or retry", m.st.PreviewRevision), false
	}
	switch c.Name {
	case v1alpha1.CommandAbort:
		// Why at any point: an abort returns traffic to the old colour,
		// which is still scaled up until the release succeeds.
		m.rollback(v1alpha1.ReasonAborted, "aborted by command "+commandText(c))
		return fmt.Sprintf("rolled back; traffic on %s", m.st.ActiveColor), true
	case v1alpha1.CommandPause:
		return m.pause()
	case v1alpha1.CommandResume:
		return m.resume()
	case v1alpha1.CommandPromote:
		return m.promote(c, false)
	case v1alpha1.CommandPromoteFull:
		return m.promote(c, true)
	case v1alpha1.CommandPromoteOverride:
		return m.promote(c, true)
	}
	return unknownCommand, false
}

// promote ends the wait for a manual promotion. promote-full also skips
// pre-promotion checks still running, or, after the flip, the remaining
// post-promotion checks. Neither overrides a failed check (only
// promote-override does, recorded with who gave it), and nothing switches to
// a colour that is not ready: a click must not send traffic where no pod
// serves.
func (m *blueGreenMachine) promote(cmd PendingCommand, full bool) (string, bool) {
	c := m.releaseColor()
	if m.st.SwitchedAt != nil {
		return m.promoteSwitched(cmd)
	}
	switch {
	case m.st.PromotingAt != nil:
		return "already promoting", false
	case m.st.PreviewReadyAt == nil:
		return fmt.Sprintf("%s is not ready with revision %s yet", c, m.st.PreviewRevision), false
	case !m.colour(c).readyAt(m.st.PreviewRevision):
		return fmt.Sprintf("%s has unready pods; it cannot take all the traffic", c), false
	}
	why := string(cmd.Name) + " command " + commandText(cmd)
	if failed := m.phaseFailed(m.spec.PrePromotionAnalysis, v1alpha1.HookPrePromotion); failed != "" &&
		m.st.PrePromotionPassedAt == nil {
		if cmd.Name != v1alpha1.CommandPromoteOverride {
			return fmt.Sprintf("refused: pre-promotion %s; %s", failed, overrideHint), false
		}
		why = m.overrideText(cmd, "pre-promotion "+failed)
	}
	if m.st.PrePromotionPassedAt == nil && !full {
		return "pre-promotion checks are still running, none has failed; promote-full skips them", false
	}
	m.beginPromotion(why)
	return fmt.Sprintf("switching the active Service to %s", c), true
}

// promoteSwitched handles a promote after the flip: promote-full ends the
// release now, unless a post-promotion check failed; promote has nothing
// left to end.
func (m *blueGreenMachine) promoteSwitched(cmd PendingCommand) (string, bool) {
	switch {
	case cmd.Name == v1alpha1.CommandPromote:
		return "already switched; post-promotion checks are running (promote-full ends them)", false
	case m.serving() != m.releaseColor():
		return fmt.Sprintf("waiting for the active Service to report %s", m.releaseColor()), false
	}
	why := "promote-full command " + commandText(cmd) + ", remaining post-promotion checks skipped"
	if failed := m.phaseFailed(m.spec.PostPromotionAnalysis, v1alpha1.HookPostPromotion); failed != "" {
		if cmd.Name != v1alpha1.CommandPromoteOverride {
			return fmt.Sprintf("refused: post-promotion %s; %s", failed, overrideHint), false
		}
		why = m.overrideText(cmd, "post-promotion "+failed)
	}
	m.succeed(why)
	return "promoted", true
}

// phaseFailed describes the failed checks and hooks of one phase so far, or
// "" when none failed.
func (m *blueGreenMachine) phaseFailed(p *v1alpha1.PhaseAnalysis, typ v1alpha1.BlueGreenHookType) string {
	var a *v1alpha1.Analysis
	if p != nil {
		a = &p.Analysis
	}
	if f := failedChecks(a, m.st.Analysis); f != "" {
		return f
	}
	if g := gateOf(blueGreenHooksOf(m.spec, typ), m.st.Hooks, m.st.PreviewRevision); g.failed != "" {
		return fmt.Sprintf("hook %s failed", g.failed)
	}
	return ""
}

// overrideText is the record of a promote-override: who, when and what it
// overrode.
func (m *blueGreenMachine) overrideText(cmd PendingCommand, failed string) string {
	return fmt.Sprintf("promote-override command %s at %s, overriding %s", commandText(cmd),
		m.now.UTC().Format("2006-01-02T15:04:05Z"), failed)
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
