package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func (m *blueGreenMachine) revision() string       { return m.st.PreviewRevision }
func (m *blueGreenMachine) targetRevision() string { return m.obs.Target.Revision }

// abortCommand rolls the release back. Why at any point: an abort returns
// traffic to the old color, which is still scaled up until the release
// succeeds.
func (m *blueGreenMachine) abortCommand(c PendingCommand) string {
	m.rollback(v1alpha1.ReasonAborted, "aborted by command "+commandText(c))
	return fmt.Sprintf("rolled back; traffic on %s", m.st.ActiveColor)
}

// promote ends the wait for a manual promotion. promote-full also skips
// pre-promotion checks still running, or, after the flip, the remaining
// post-promotion checks. Neither overrides a failed check (only
// promote-override does, recorded with who gave it), and nothing switches to
// a color that is not ready: a click must not send traffic where no pod
// serves.
func (m *blueGreenMachine) promote(cmd PendingCommand) (string, bool) {
	c, full := m.releaseColor(), cmd.Name != v1alpha1.CommandPromote
	if m.st.SwitchedAt != nil {
		return m.promoteSwitched(cmd)
	}
	switch {
	case m.st.PromotingAt != nil:
		return "already promoting", false
	case m.st.PreviewReadyAt == nil:
		return fmt.Sprintf("%s is not ready with revision %s yet", c, m.st.PreviewRevision), false
	case !m.color(c).readyAt(m.st.PreviewRevision):
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
	if g := m.gate(string(typ), m.st.PreviewRevision); g.failed != "" {
		return fmt.Sprintf("hook %s failed", g.failed)
	}
	return ""
}

// pause holds the release where it is: no checks, no hooks started, no
// promotion. Why not between the decision to promote and the flip: the
// flip may already be written; holding it half-done helps nobody.
func (m *blueGreenMachine) pause() (string, bool) {
	if m.st.PromotingAt != nil && m.st.SwitchedAt == nil {
		return "the active Service is being switched", false
	}
	return m.pauseNow("")
}

// resume lifts a pause. Clocks are not shifted: a check or an
// auto-promotion overdue during the pause is due now.
func (m *blueGreenMachine) resume() (string, bool) {
	if _, ok := m.resumeNow(); !ok {
		return "not paused", false
	}
	return "resumed", true
}

// retry starts a rolled-back revision again.
func (m *blueGreenMachine) retry() (string, bool) {
	rev := m.st.PreviewRevision
	m.resetRelease(rev)
	return fmt.Sprintf("revision %s starts again on %s", rev, m.releaseColor()), true
}
