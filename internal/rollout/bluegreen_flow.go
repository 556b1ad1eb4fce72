package rollout

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// initColor is the color the first version runs on.
const initColor = v1alpha1.ColorBlue

// finishInit makes the target's revision active once blue runs it with every
// pod ready and the active Service reports blue. Why both: before that,
// Ready would promise a Service that cannot serve.
func (m *blueGreenMachine) finishInit() bool {
	rev, c := m.obs.Target.Revision, initColor
	w := m.color(c)
	if !w.readyAt(rev) || m.serving() != c {
		return false
	}
	m.st.ActiveColor, m.st.ActiveRevision = c, rev
	m.record(EventNormal, EventInitialized, fmt.Sprintf(
		"%s ready with revision %s (%d/%d replicas), the active Service selects it", c, rev, w.ReadyReplicas, w.DesiredReplicas))
	return true
}

// advancePre takes the next transition before the promotion: the new color
// becomes ready, then passes its pre-promotion checks, then promotes.
func (m *blueGreenMachine) advancePre() bool {
	if reason, msg := m.preFailure(); reason != "" {
		m.rollback(reason, msg)
		return true
	}
	switch {
	case m.phaseProviderPause():
		return true
	case m.st.PausedAt != nil:
		return false
	case m.st.PreviewReadyAt == nil:
		return m.markReady()
	case m.st.PrePromotionPassedAt == nil:
		return m.passPre()
	}
	return m.promoteWhenDue()
}

// preFailure returns why the release fails before the flip, or "". A
// failure here never touches traffic: the idle color is scaled down.
func (m *blueGreenMachine) preFailure() (string, string) {
	rev, c := m.st.PreviewRevision, m.releaseColor()
	if m.st.PreviewReadyAt == nil && m.st.PausedAt == nil && m.st.ReleaseStartedAt != nil &&
		!m.now.Time.Before(m.st.ReleaseStartedAt.Add(m.progressDeadline())) {
		w := m.color(c)
		return v1alpha1.ReasonProgressDeadline, fmt.Sprintf("%s not ready with revision %s (%d/%d replicas) within %s",
			c, rev, w.ReadyReplicas, w.DesiredReplicas, m.progressDeadline())
	}
	return m.phaseFailure(m.spec.PrePromotionAnalysis, v1alpha1.HookPrePromotion)
}

// phaseFailure returns why the checks of one phase failed, or "": the
// analysis reached failureLimit or the judge found a regression, or a hook
// of the phase failed. Why a hook failure is a failure: hooks are tests of
// the release, not notifications.
func (m *blueGreenMachine) phaseFailure(p *v1alpha1.PhaseAnalysis, typ v1alpha1.BlueGreenHookType) (string, string) {
	if p != nil && verdict(&p.Analysis, m.st.Analysis) == VerdictRollback {
		return v1alpha1.ReasonAnalysisFailed, fmt.Sprintf("%s analysis failed: %s", typ, analysisSummary(&p.Analysis, m.st.Analysis))
	}
	return m.hookFailure(string(typ), m.st.PreviewRevision)
}

// phaseProviderPause pauses the release when the metric provider failed
// errorLimit checks in a row in the current phase (see
// release.providerPause); a phase without analysis has no provider.
func (m *blueGreenMachine) phaseProviderPause() bool {
	a := BlueGreenAnalysis(m.spec, m.st)
	return a != nil && m.providerPause(a)
}

// markReady starts the pre-promotion phase once the new color runs the
// revision with every pod ready. Why not while the Service selects it: a
// color still serving an earlier release's traffic is not a preview.
func (m *blueGreenMachine) markReady() bool {
	c := m.releaseColor()
	w := m.color(c)
	if !w.readyAt(m.st.PreviewRevision) || m.serving() == c {
		return false
	}
	now := m.now
	m.st.PreviewReadyAt = &now
	m.record(EventNormal, EventPreviewReady, fmt.Sprintf(
		"%s ready with revision %s (%d/%d replicas); pre-promotion checks run against the preview Service",
		c, m.st.PreviewRevision, w.ReadyReplicas, w.DesiredReplicas))
	return true
}

// passPre ends the pre-promotion phase once every pre-promotion hook
// succeeded and the analysis has its passing checks.
func (m *blueGreenMachine) passPre() bool {
	g := m.gate(string(v1alpha1.HookPrePromotion), m.st.PreviewRevision)
	if len(g.pending) > 0 || !phasePassed(m.spec.PrePromotionAnalysis, m.st.Analysis) {
		return false
	}
	now := m.now
	m.st.PrePromotionPassedAt = &now
	msg := fmt.Sprintf("pre-promotion checks of revision %s passed", m.st.PreviewRevision)
	if p := m.spec.PrePromotionAnalysis; p != nil {
		msg += "; " + analysisSummary(&p.Analysis, m.st.Analysis)
	}
	m.record(EventNormal, EventPrePromotionPassed, msg)
	return true
}

// phasePassed reports whether a phase's analysis is complete: `checks`
// passing checks, the last of them passing. No analysis passes at once.
func phasePassed(p *v1alpha1.PhaseAnalysis, st *v1alpha1.AnalysisStatus) bool {
	if p == nil {
		return true
	}
	v := verdict(&p.Analysis, st)
	return (v == VerdictPass || v == VerdictPromote) && st.Passed >= phaseChecks(p)
}

func phaseChecks(p *v1alpha1.PhaseAnalysis) int32 {
	if p.Checks <= 0 {
		return DefaultPhaseChecks
	}
	return p.Checks
}

// promoteWhenDue promotes after the pre-promotion checks passed: at once
// with autoPromotion, autoPromotionSeconds later without it, or never on its
// own (a promote command does it).
func (m *blueGreenMachine) promoteWhenDue() bool {
	if at, ok := m.autoPromotionAt(); ok && !m.now.Time.Before(at) {
		why := fmt.Sprintf("pre-promotion checks of revision %s passed", m.st.PreviewRevision)
		if passed, ok := m.takeEvent(EventPrePromotionPassed); ok {
			// Why one event: the checks passed in this same evaluation, and
			// the Promoting event carries their summary (see takeEvent).
			why = passed
		}
		m.beginPromotion(why)
		return true
	}
	return false
}

// autoPromotionAt is when the release promotes on its own, and false when
// only a person can promote it.
func (m *blueGreenMachine) autoPromotionAt() (time.Time, bool) {
	passed := m.st.PrePromotionPassedAt
	switch {
	case passed == nil:
		return time.Time{}, false
	case m.spec.AutoPromotion == nil || *m.spec.AutoPromotion:
		return passed.Time, true
	case m.spec.AutoPromotionSeconds != nil:
		return passed.Add(time.Duration(*m.spec.AutoPromotionSeconds) * time.Second), true
	}
	return time.Time{}, false
}

// beginPromotion stamps promotingAt: from now on the active Service is asked
// to select the new color until it reports it.
func (m *blueGreenMachine) beginPromotion(why string) {
	now := m.now
	m.st.PromotingAt = &now
	m.st.PausedAt = nil
	m.record(EventNormal, EventPromoting, fmt.Sprintf("%s; switching the active Service to %s", why, m.releaseColor()))
}

// advanceSwitch records the flip once the active Service reports the new
// color. Why not on asking for it: a crash between the write and the status
// patch would otherwise start post-promotion checks on traffic that never
// moved; this way the replay asks again and waits to read it back.
func (m *blueGreenMachine) advanceSwitch() bool {
	c, rev := m.releaseColor(), m.st.PreviewRevision
	if m.serving() == c {
		now := m.now
		m.st.SwitchedAt = &now
		m.st.Analysis = nil
		m.record(EventNormal, EventServiceSwitched, fmt.Sprintf(
			"the active Service selects %s (revision %s); %s (revision %s) stays scaled up until the release succeeds",
			c, rev, m.st.ActiveColor, m.st.ActiveRevision))
		return true
	}
	if !m.color(c).readyAt(rev) && !m.now.Time.Before(m.st.PromotingAt.Add(m.progressDeadline())) {
		// Why: a color that lost its pods after the checks cannot take the
		// traffic; give up rather than hang, traffic never moved.
		w := m.color(c)
		m.rollback(v1alpha1.ReasonProgressDeadline, fmt.Sprintf("%s not ready with revision %s (%d/%d replicas) within %s of promoting",
			c, rev, w.ReadyReplicas, w.DesiredReplicas, m.progressDeadline()))
		return true
	}
	return false
}

// advancePost takes the next transition after the flip: a failure flips
// back, success makes the new color active.
func (m *blueGreenMachine) advancePost() bool {
	if reason, msg := m.phaseFailure(m.spec.PostPromotionAnalysis, v1alpha1.HookPostPromotion); reason != "" {
		m.rollback(reason, msg)
		return true
	}
	switch {
	case m.phaseProviderPause():
		return true
	case m.st.PausedAt != nil, m.serving() != m.releaseColor():
		// Why the Service: success must describe traffic that is really on
		// the new color; a Service changed behind Sluice's back is switched
		// again first.
		return false
	}
	g := m.gate(string(v1alpha1.HookPostPromotion), m.st.PreviewRevision)
	if len(g.pending) > 0 || !phasePassed(m.spec.PostPromotionAnalysis, m.st.Analysis) {
		return false
	}
	m.succeed(m.postPassed())
	return true
}

// postPassed says what passed after the flip, truthfully: the checks and
// hooks run, or that none is defined.
func (m *blueGreenMachine) postPassed() string {
	hooks := hookNames(m.hooks, string(v1alpha1.HookPostPromotion))
	p := m.spec.PostPromotionAnalysis
	switch {
	case p == nil && len(hooks) == 0:
		return "no post-promotion checks are defined"
	case p == nil:
		return fmt.Sprintf("post-promotion hooks passed: %s", strings.Join(hooks, ", "))
	}
	msg := "post-promotion checks passed: " + analysisSummary(&p.Analysis, m.st.Analysis)
	if len(hooks) > 0 {
		msg += "; hooks " + strings.Join(hooks, ", ")
	}
	return msg
}

// succeed makes the release's color active. The old color keeps running
// until scaleDownAt, so that a revert is one more flip and connections to
// it drain; the delay counts from success, which is never before the flip.
func (m *blueGreenMachine) succeed(why string) {
	old, oldRev := m.st.ActiveColor, m.st.ActiveRevision
	at := metav1.NewTime(m.now.Add(m.scaleDownDelay()))
	m.st.ActiveColor, m.st.ActiveRevision = m.releaseColor(), m.st.PreviewRevision
	m.st.PreviewRevision = ""
	m.st.PromotingAt, m.st.PausedAt = nil, nil
	m.st.ScaleDownAt = &at
	m.record(EventNormal, EventPromoted, fmt.Sprintf(
		"revision %s promoted (%s): %s serves all traffic; %s (revision %s) scales down at %s",
		m.st.ActiveRevision, why, m.st.ActiveColor, old, oldRev, at.UTC().Format(time.RFC3339)))
}

// rollback marks the release failed. Traffic follows from abortedAt in the
// actions: the active Service goes back to the old color at once (when it
// has a ready pod), and the release's color is scaled down once the Service
// no longer selects it.
func (m *blueGreenMachine) rollback(reason, msg string) {
	m.abort(reason)
	where := "traffic stays on"
	if m.st.SwitchedAt != nil {
		where = "flipping the active Service back to"
	}
	m.record(EventWarning, EventRolledBack, fmt.Sprintf("revision %s on %s rolled back (%s): %s; %s %s (revision %s)",
		m.st.PreviewRevision, m.releaseColor(), reason, msg, where, m.st.ActiveColor, m.st.ActiveRevision))
}

// settleAbort records the flip back once the active Service reports the old
// color again, the moment the rollback hooks may run.
func (m *blueGreenMachine) settleAbort() bool {
	if m.st.SwitchedAt == nil || m.serving() != m.st.ActiveColor {
		return false
	}
	m.st.SwitchedAt = nil
	m.record(EventWarning, EventSwitchedBack, fmt.Sprintf("the active Service selects %s (revision %s) again",
		m.st.ActiveColor, m.st.ActiveRevision))
	return true
}

func (m *blueGreenMachine) scaleDownDelay() time.Duration {
	if d := m.spec.ScaleDownDelay; d != nil && d.Duration >= 0 {
		return d.Duration
	}
	return DefaultScaleDownDelay
}
