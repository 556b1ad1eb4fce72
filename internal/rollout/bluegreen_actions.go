package rollout

import (
	"time"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// actions derives the writes from the decided status and what was observed:
// each closes a gap between the two, so a replay asks for the same writes
// and a converged world asks for none. Order: traffic first (a flip back
// before anything else), then the colors, then the target. Two rules hold
// for every action: the color the active Service selects is never changed
// or scaled down, and the Service is only switched to a color observed
// ready at the revision it must run.
func (m *blueGreenMachine) actions() []BlueGreenAction {
	var out []BlueGreenAction
	if c, ok := m.switchTo(); ok {
		out = append(out, SwitchService{Color: c})
	}
	out = append(out, m.colorActions()...)
	if m.st.ActiveRevision != "" && m.obs.Target.DesiredReplicas != 0 {
		// Why: the user's Deployment is only the template; its own pods
		// would run every new version beside the live one.
		out = append(out, ScaleTarget{Replicas: 0})
	}
	return out
}

// wantedService is the color the active Service must select and the
// revision that color must run.
func (m *blueGreenMachine) wantedService() (c v1alpha1.Color, rev string) {
	switch {
	case m.st.ActiveRevision == "":
		return initColor, m.obs.Target.Revision
	case m.inFlight() && m.st.AbortedAt == nil && (m.st.PromotingAt != nil || m.st.SwitchedAt != nil):
		return m.releaseColor(), m.st.PreviewRevision
	}
	return m.st.ActiveColor, m.st.ActiveRevision
}

// switchTo returns the color to switch the active Service to, and false
// when it selects the wanted color already or that color cannot serve yet
// (then the release holds, and the conditions say so).
func (m *blueGreenMachine) switchTo() (v1alpha1.Color, bool) {
	c, rev := m.wantedService()
	if m.serving() == c {
		return "", false
	}
	return c, m.canServe(c, rev)
}

// canServe reports whether color c runs rev with every wanted pod ready, so
// that it can take all the traffic. Why for a flip back too: the flip moves
// all the traffic in one write, and a color with one ready pod of three
// would take three times its share (the old color is kept scaled for
// scaleDownDelay precisely so that a flip back finds it at full size).
func (m *blueGreenMachine) canServe(c v1alpha1.Color, rev string) bool {
	return m.color(c).readyAt(rev)
}

// colorActions are the writes to the two color Deployments.
func (m *blueGreenMachine) colorActions() []BlueGreenAction {
	if m.st.ActiveRevision == "" {
		// Why: the first version goes to blue with the target's size (the
		// target is scaled to zero only after blue serves; should that
		// scale survive a lost status patch, blue's own size is kept).
		r := m.obs.Target.DesiredReplicas
		if r <= 0 {
			r = max(m.obs.Blue.DesiredReplicas, 1)
		}
		return ensure(m.obs.Blue, initColor, m.obs.Target.Revision, r)
	}
	active, idle := m.st.ActiveColor, m.releaseColor()
	size := max(m.color(active).DesiredReplicas, 1)
	var out []BlueGreenAction
	switch {
	case m.serving() == idle:
		// Why: the idle color takes the traffic (a switched release, or a
		// flip back still waiting for a ready pod): leave it alone.
	case m.inFlight() && m.st.AbortedAt == nil:
		// Why: the release goes to the idle color with the active color's
		// size, so that the flip moves all the traffic to as many pods.
		out = ensure(m.color(idle), idle, m.st.PreviewRevision, size)
	case m.color(idle).DesiredReplicas > 0 && m.serving() == active && m.scaleDownDue():
		out = append(out, ScaleColor{Color: idle, Replicas: 0})
	}
	if w := m.color(active); !w.Exists || w.Revision != m.st.ActiveRevision {
		// Why last: restoring a deleted or edited active color needs the
		// target at the active revision, and must not block the rest.
		out = append(out, EnsureColor{Color: active, Revision: m.st.ActiveRevision, Replicas: size})
	}
	return out
}

// ensure asks for color c to run rev with r replicas unless it does.
func ensure(w WorkloadState, c v1alpha1.Color, rev string, r int32) []BlueGreenAction {
	if w.Exists && w.Revision == rev && w.DesiredReplicas == r {
		return nil
	}
	return []BlueGreenAction{EnsureColor{Color: c, Revision: rev, Replicas: r}}
}

// scaleDownDue reports whether the idle color may go to zero: after a
// failed release at once (its traffic is gone), after a success at
// scaleDownAt.
func (m *blueGreenMachine) scaleDownDue() bool {
	if m.inFlight() {
		return m.st.AbortedAt != nil
	}
	return m.st.ScaleDownAt == nil || !m.now.Time.Before(m.st.ScaleDownAt.Time)
}

// hookStage says which hooks run at this point of the release.
func (m *blueGreenMachine) hookStage() (v1alpha1.BlueGreenHookType, bool) {
	st := &m.st
	switch {
	case st.ActiveRevision == "" || !m.inFlight():
		return "", false
	case st.AbortedAt != nil:
		// Why after the flip back: rollback hooks describe a world where the
		// old version serves again.
		return v1alpha1.HookBlueGreenBack, m.serving() == st.ActiveColor
	case st.PausedAt != nil:
		return "", false
	case st.SwitchedAt != nil:
		return v1alpha1.HookPostPromotion, m.serving() == m.releaseColor()
	case st.PromotingAt == nil && st.PreviewReadyAt != nil && st.PrePromotionPassedAt == nil:
		return v1alpha1.HookPrePromotion, true
	}
	return "", false
}

// startHooks starts the hooks whose turn it is (see release.startHookRuns).
func (m *blueGreenMachine) startHooks() {
	if typ, ok := m.hookStage(); ok {
		m.startHookRuns(string(typ), m.st.PreviewRevision)
	}
}

// requeue is when to look again at the latest: the next check, a deadline,
// the auto-promotion or scale-down time, or a short poll while waiting on
// something read without a watch. Zero when only a person or a watched
// object can move the release.
func (m *blueGreenMachine) requeue() time.Duration {
	poll := m.now.Add(PollInterval)
	var at []time.Time
	if anyRunning(m.st.Hooks, m.st.PreviewRevision) {
		// Why: the shell progresses Running hook runs on each reconcile.
		at = append(at, poll)
	}
	if c, _ := m.wantedService(); m.serving() != c {
		// Why: waiting for a flip to be read back, or for a color to be
		// able to take the traffic.
		at = append(at, poll)
	}
	st := &m.st
	switch {
	case st.ActiveRevision == "":
		at = append(at, poll)
	case !m.inFlight():
		if st.ScaleDownAt != nil && m.color(m.releaseColor()).DesiredReplicas > 0 {
			at = append(at, st.ScaleDownAt.Time)
		}
	case st.AbortedAt != nil, st.PausedAt != nil:
	case st.PromotingAt != nil && st.SwitchedAt == nil:
		at = append(at, st.PromotingAt.Add(m.progressDeadline()))
	default:
		at = append(at, m.releaseTimers(poll)...)
	}
	return soonest(m.obs.Now, at)
}

// releaseTimers are the moments a release before or after the flip may move
// on its own.
func (m *blueGreenMachine) releaseTimers(poll time.Time) []time.Time {
	st := &m.st
	var at []time.Time
	if st.PreviewReadyAt == nil && st.SwitchedAt == nil {
		at = append(at, poll)
		if st.ReleaseStartedAt != nil {
			at = append(at, st.ReleaseStartedAt.Add(m.progressDeadline()))
		}
		return at
	}
	if t, ok := m.autoPromotionAt(); ok && st.SwitchedAt == nil {
		at = append(at, t)
	}
	start := st.SwitchedAt
	if start == nil && st.PrePromotionPassedAt == nil {
		start = st.PreviewReadyAt
	}
	if a := BlueGreenAnalysis(m.spec, *st); a != nil && start != nil {
		at = append(at, nextCheckAt(a, st.Analysis, start.Time))
	}
	return at
}
