package rollout

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// health summarizes the decided status for Ready, Reconciling and Stalled.
func (m *blueGreenMachine) health() health {
	if h, ok := m.routeHealth(); ok {
		return h
	}
	st := &m.st
	switch {
	case st.ActiveRevision == "":
		w := m.color(initColor)
		return health{reconciling: true, reason: v1alpha1.ReasonInitializing, message: fmt.Sprintf(
			"waiting for %s to run revision %s with every pod ready (%d/%d) and the active Service to select it (now %q)",
			initColor, m.obs.Target.Revision, w.ReadyReplicas, w.DesiredReplicas, m.serving())}
	case st.AbortedAt != nil && m.inFlight():
		return health{stalled: true, reason: abortReason(&st.ReleaseStatus), message: m.abortMessage()}
	case m.returning():
		return health{reconciling: true, reason: v1alpha1.ReasonProgressing, message: m.returnMessage()}
	case !m.inFlight():
		return health{ready: true, reason: v1alpha1.ReasonSucceeded, message: fmt.Sprintf(
			"revision %s on %s serves all traffic", st.ActiveRevision, st.ActiveColor)}
	}
	reason, msg := m.waitingFor()
	return health{reconciling: true, reason: reason, message: msg}
}

// returning reports whether the active Service must go back to the active
// color and does not select it yet.
func (m *blueGreenMachine) returning() bool {
	c, _ := m.wantedService()
	return m.st.ActiveRevision != "" && c == m.st.ActiveColor && m.serving() != c
}

// abortMessage says where a failed release stands, and what to do.
func (m *blueGreenMachine) abortMessage() string {
	st := &m.st
	msg := fmt.Sprintf("revision %s was rolled back (%s)", st.PreviewRevision, abortReason(&st.ReleaseStatus))
	for i := len(st.History) - 1; i >= 0; i-- {
		// Why the audit trail: it keeps the values behind the rollback (the
		// failed hook's answer, the analysis); this is display only.
		if r := st.History[i]; r.Reason == EventRolledBack && r.Revision == st.PreviewRevision {
			msg = r.Message
			break
		}
	}
	if m.serving() != st.ActiveColor {
		return msg + "; " + m.returnMessage()
	}
	return msg + fmt.Sprintf("; all traffic is on %s (revision %s); push a new revision or run retry",
		st.ActiveColor, st.ActiveRevision)
}

// returnMessage says why traffic is not on the active color yet.
func (m *blueGreenMachine) returnMessage() string {
	c, rev := m.st.ActiveColor, m.st.ActiveRevision
	w := m.color(c)
	if !m.canServe(c, rev) {
		return fmt.Sprintf("holding traffic on %q: %s is not ready at full size with revision %s (%d/%d ready, running %q), "+
			"and the active Service never points at a color that cannot take all the traffic", m.serving(), c, rev,
			w.ReadyReplicas, w.DesiredReplicas, w.Revision)
	}
	return fmt.Sprintf("switching the active Service back to %s (revision %s), now %q", c, rev, m.serving())
}

// waitingFor says what a release in flight waits for.
func (m *blueGreenMachine) waitingFor() (string, string) {
	st := &m.st
	c, rev := m.releaseColor(), st.PreviewRevision
	w := m.color(c)
	switch {
	case st.PausedAt != nil && verdict(BlueGreenAnalysis(m.spec, *st), st.Analysis) == VerdictPause:
		return v1alpha1.ReasonProviderUnavailable, providerPausedText(BlueGreenAnalysis(m.spec, *st), st.Analysis)
	case st.PausedAt != nil:
		return v1alpha1.ReasonPaused, fmt.Sprintf("%s paused since %s; resume to continue", m.phaseName(), stampText(st.PausedAt))
	case st.SwitchedAt != nil:
		return v1alpha1.ReasonAnalysing, fmt.Sprintf("post-promotion checks of revision %s on %s: %s",
			rev, c, m.checksText(m.spec.PostPromotionAnalysis, v1alpha1.HookPostPromotion))
	case st.PromotingAt != nil:
		return v1alpha1.ReasonPromoting, fmt.Sprintf("switching the active Service to %s (%d/%d ready, revision %s); it selects %q",
			c, w.ReadyReplicas, w.DesiredReplicas, rev, m.serving())
	case st.PreviewReadyAt == nil:
		return v1alpha1.ReasonWaitingForReady, fmt.Sprintf("waiting for %s to run revision %s with every pod ready (%d/%d) before %s",
			c, rev, w.ReadyReplicas, w.DesiredReplicas, stampText(&metav1.Time{Time: st.ReleaseStartedAt.Add(m.progressDeadline())}))
	case st.PrePromotionPassedAt == nil:
		return v1alpha1.ReasonAnalysing, fmt.Sprintf("pre-promotion checks of revision %s against the preview Service: %s",
			rev, m.checksText(m.spec.PrePromotionAnalysis, v1alpha1.HookPrePromotion))
	}
	msg := fmt.Sprintf("pre-promotion checks of revision %s passed; waiting for a promote command", rev)
	if at, ok := m.autoPromotionAt(); ok {
		msg += " or until " + stampText(&metav1.Time{Time: at})
	}
	return v1alpha1.ReasonWaitingForPromotion, msg
}

// checksText describes a phase's analysis and pending hooks.
func (m *blueGreenMachine) checksText(p *v1alpha1.PhaseAnalysis, typ v1alpha1.BlueGreenHookType) string {
	var parts []string
	if p != nil {
		passed := int32(0)
		if m.st.Analysis != nil {
			passed = m.st.Analysis.Passed
		}
		parts = append(parts, fmt.Sprintf("%d/%d passing checks, %s", passed, phaseChecks(p),
			analysisSummary(&p.Analysis, m.st.Analysis)))
	}
	if g := m.gate(string(typ), m.st.PreviewRevision); len(g.pending) > 0 {
		parts = append(parts, "hooks running: "+strings.Join(g.pending, ", "))
	}
	if len(parts) == 0 {
		return "none configured"
	}
	return strings.Join(parts, "; ")
}

func stampText(t *metav1.Time) string { return t.UTC().Format(time.RFC3339) }

// promotion is the Promoted condition: True once the active revision is the
// latest, False while another is in flight or was rolled back, Unknown
// before the first revision is active.
func (m *blueGreenMachine) promotion() promotion {
	st := &m.st
	return promotionOf(&st.ReleaseStatus, st.ActiveRevision, m.inFlight(), promotionText{
		none: "no revision is active yet",
		rolledBack: fmt.Sprintf("revision %s was rolled back; %s stays active on %s",
			st.PreviewRevision, st.ActiveRevision, st.ActiveColor),
		releasing: fmt.Sprintf("revision %s is being released on %s; %s is active on %s",
			st.PreviewRevision, m.releaseColor(), st.ActiveRevision, st.ActiveColor),
		promoted: fmt.Sprintf("revision %s is promoted and active on %s", st.ActiveRevision, st.ActiveColor),
	})
}

// BlueGreenPhase derives the one-word phase shown by `kubectl get` from the
// rest of status. It is for display only: nothing decides on it.
func BlueGreenPhase(st v1alpha1.BlueGreenStatus) v1alpha1.Phase {
	invalid := []string{v1alpha1.ReasonTargetNotFound, v1alpha1.ReasonInvalidSpec}
	if p, ok := releasePhase(st.Conditions, invalid, st.ActiveRevision, blueGreenInFlight(st), &st.ReleaseStatus); ok {
		return p
	}
	switch {
	case st.PausedAt != nil:
		return v1alpha1.PhasePaused
	case st.PromotingAt != nil, st.SwitchedAt != nil:
		return v1alpha1.PhasePromoting
	}
	if conditionReason(st.Conditions, v1alpha1.ConditionReconciling, metav1.ConditionTrue) == v1alpha1.ReasonWaitingForPromotion {
		return v1alpha1.PhaseWaitingPromotion
	}
	return v1alpha1.PhaseProgressing
}
