package rollout

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Defaults of a BlueGreen, the same as the CRD's, for specs that reach
// NextBlueGreen without the API server's defaulting.
const (
	DefaultScaleDownDelay = 30 * time.Second
	DefaultPhaseChecks    = 3
)

// ServiceState is what the shell read from the active Service (<name>).
type ServiceState struct {
	// Exists is false when the Service was not found.
	Exists bool
	// Color is the color its selector names, "" when it names none yet.
	Color v1alpha1.Color
	// NotAccepted, with trafficRouting, quotes the implementation that
	// serves the route (a Gateway controller) when it has not accepted, or
	// refused, the weights the route carries; Color is "" then: no flip
	// counts as read back, and the release holds (see routeHealth).
	NotAccepted string
	// Unmanageable, with trafficRouting, says why the router cannot manage
	// the route (a named route missing, or with no managed route; a route
	// of the generated name someone else owns): Stalled until it changes.
	Unmanageable string
}

// BlueGreenObserved is everything the shell read for one reconcile of a
// BlueGreen. NextBlueGreen reads nothing else.
type BlueGreenObserved struct {
	// Now is the reconcile's clock reading, truncated to the second.
	Now time.Time
	// Generation is the BlueGreen's metadata.generation.
	Generation int64
	// Target is the user's Deployment: its template (Revision) is the
	// version to run. It runs no pods once the first color serves.
	Target WorkloadState
	// Blue and Green are the <name>-blue and <name>-green Deployments
	// (Exists false when missing).
	Blue, Green WorkloadState
	// ActiveService is what the active Service selects now.
	ActiveService ServiceState
	// Check is the analysis check the shell ran, only when
	// BlueGreenAnalysisDue(spec, status, Now) said so; it ran the analysis
	// BlueGreenAnalysis(spec, status) returned (pre- or post-promotion).
	// NextBlueGreen ignores a check that was not due.
	Check *Check
	// Hooks are the Running runs of status.hooks the shell progressed in this
	// reconcile (see CanaryObserved.Hooks: the same contract).
	Hooks []v1alpha1.HookStatus
	// Commands are the manual commands in the annotations (see
	// CanaryObserved.Commands).
	Commands []PendingCommand
}

// BlueGreenDecision is what NextBlueGreen decided.
type BlueGreenDecision struct {
	// Status to write, in one patch, when it differs from the current one.
	Status v1alpha1.BlueGreenStatus
	// Actions to carry out, in order; the shell stops at the first error.
	Actions []BlueGreenAction
	// Outcome is the events to emit and when to look again; NextBlueGreen
	// does not tell a poll apart yet (Poll is always false).
	Outcome
}

// blueGreenMachine is one evaluation of NextBlueGreen; the rules both kinds
// share come with the embedded release (see canaryMachine).
type blueGreenMachine struct {
	release
	spec v1alpha1.BlueGreenSpec
	cur  v1alpha1.BlueGreenStatus
	obs  BlueGreenObserved
	st   v1alpha1.BlueGreenStatus
}

// NextBlueGreen decides what a BlueGreen does now. Like Next it never reads
// the clock or the API, and given its own Status back with the same
// Observed it returns the same Status, the same Actions and no Events.
//
// A release: the target's new revision goes to the idle color with the
// active color's size; once ready, pre-promotion hooks and analysis run
// against the preview Service; then the release promotes (automatically, or
// on a promote command, or autoPromotionSeconds later); the active Service
// flips in one write; post-promotion hooks and analysis run on live traffic;
// on success the new color becomes active and the old one scales to zero
// scaleDownDelay later. A failure before the flip scales the idle color
// down; after it, the Service flips back at once to the old color, which
// is still scaled up.
func NextBlueGreen(spec v1alpha1.BlueGreenSpec, cur v1alpha1.BlueGreenStatus, obs BlueGreenObserved) BlueGreenDecision {
	m := &blueGreenMachine{spec: spec, cur: cur, obs: obs, st: *cur.DeepCopy()}
	m.release = newRelease(truncNow(obs.Now), &m.st.ReleaseStatus, blueGreenHooks(spec), spec.ProgressDeadlineSeconds, m.recordAt)
	m.st.ObservedGeneration = obs.Generation
	d := BlueGreenDecision{}
	if !obs.Target.Exists {
		// Why: without the template nothing can be deployed or compared;
		// traffic stays where it is and the conditions say what to fix.
		h := waitingForTarget(spec.TargetRef.Name)
		setConditions(&m.st.Conditions, obs.Generation, m.now, h,
			promotion{status: metav1.ConditionUnknown, reason: h.reason, message: h.message})
		m.refuseCommands(m.obs.Commands, h.message)
		d.RequeueAfter = BlockedRetryInterval
	} else {
		m.run()
		d.Actions = m.actions()
		d.RequeueAfter = m.requeue()
		setConditions(&m.st.Conditions, obs.Generation, m.now, m.health(), m.promotion())
	}
	m.st.Phase = BlueGreenPhase(m.st)
	m.st.Message = DisplayMessage(m.st.Conditions)
	d.Status, d.Events = m.st, m.events
	return d
}

// run applies, in order: the release the target's revision calls for, a due
// analysis check, a new command and hook results; then it takes transitions
// until none applies, so that the returned status is a fixed point; last it
// starts the hook runs whose turn it is.
func (m *blueGreenMachine) run() {
	m.followTarget()
	m.applyDueCheck()
	m.dropStaleJudge()
	m.applyCommands(m.obs.Commands, m)
	m.mergeHooks(m.obs.Hooks, m.st.PreviewRevision)
	for range 12 {
		if !m.hop() {
			break
		}
	}
	m.startHooks()
}

// hop takes at most one transition and reports whether it did.
func (m *blueGreenMachine) hop() bool {
	if m.st.ActiveRevision == "" {
		return m.finishInit()
	}
	switch BlueGreenStageOf(m.st) {
	case StageNone:
		return false
	case StageRolledBack:
		return m.settleAbort()
	case StagePostPromotion:
		return m.advancePost()
	case StageSwitching:
		return m.advanceSwitch()
	}
	return m.advancePre()
}

func (m *blueGreenMachine) inFlight() bool { return blueGreenInFlight(m.st) }

func blueGreenInFlight(st v1alpha1.BlueGreenStatus) bool {
	return st.PreviewRevision != "" && st.PreviewRevision != st.ActiveRevision
}

// releaseColor is the color a release goes to: the one that is not active.
func (m *blueGreenMachine) releaseColor() v1alpha1.Color { return m.st.ActiveColor.Other() }

// color is the observed Deployment of c.
func (m *blueGreenMachine) color(c v1alpha1.Color) WorkloadState {
	if c == v1alpha1.ColorGreen {
		return m.obs.Green
	}
	return m.obs.Blue
}

// serving is the color the active Service selects, "" when none.
func (m *blueGreenMachine) serving() v1alpha1.Color {
	if !m.obs.ActiveService.Exists {
		return ""
	}
	return m.obs.ActiveService.Color
}

// recordAt is where an audit record says a BlueGreen stands: the revision
// in flight (else the active one), no step, and a weight of 100 while the
// release's color takes the traffic.
func (m *blueGreenMachine) recordAt() (string, int32, int32) {
	rev, weight := m.st.ActiveRevision, int32(0)
	if m.inFlight() {
		rev = m.st.PreviewRevision
		if m.st.ActiveColor != "" && m.serving() == m.releaseColor() {
			weight = 100
		}
	}
	return rev, 0, weight
}

// followTarget starts, restarts or cancels a release from the target's
// revision. Why first: the target's template is the desired state; whatever
// was in flight for another revision is moot once it changes.
func (m *blueGreenMachine) followTarget() {
	target, active := m.obs.Target.Revision, m.st.ActiveRevision
	switch {
	case active == "":
		return
	case target == active && m.st.PreviewRevision != "":
		// Why: the user went back to the active template (a Git revert):
		// the release is over and traffic stays on, or returns to, the
		// active color.
		prev := m.st.PreviewRevision
		m.resetRelease("")
		m.record(EventNormal, EventReleaseCanceled, fmt.Sprintf(
			"target is back at active revision %s; release of %s canceled, traffic stays on %s",
			active, prev, m.st.ActiveColor))
	case target != active && target != m.st.PreviewRevision:
		// Why: a new template starts over on the idle color: checks of
		// another version say nothing about it. A release already switched
		// first returns traffic to the active color (it never succeeded).
		msg := fmt.Sprintf("new revision %s detected (active %s on %s); deploying it to %s",
			target, active, m.st.ActiveColor, m.releaseColor())
		if m.inFlight() {
			msg += fmt.Sprintf("; replaces revision %s", m.st.PreviewRevision)
		}
		m.resetRelease(target)
		m.record(EventNormal, EventNewRevision, msg)
	}
}

// resetRelease starts a fresh release of rev ("" for none): no clocks, no
// analysis, no hook runs, no pending scale-down (the idle color is about
// to run rev, or returns to zero at once).
func (m *blueGreenMachine) resetRelease(rev string) {
	st := &m.st
	st.PreviewRevision = rev
	st.PreviewReadyAt, st.PrePromotionPassedAt = nil, nil
	st.SwitchedAt, st.ScaleDownAt = nil, nil
	m.release.resetRelease(rev)
}

// applyDueCheck records the shell's check when it was due for the status the
// shell saw, and for the same release and phase. Why the guard: a replayed
// reconcile carries the same check, and counting it twice would double a
// failure or a pass.
func (m *blueGreenMachine) applyDueCheck() {
	c := m.obs.Check
	if c == nil || m.cur.PreviewRevision != m.st.PreviewRevision ||
		(m.cur.SwitchedAt == nil) != (m.st.SwitchedAt == nil) || !BlueGreenAnalysisDue(m.spec, m.cur, m.obs.Now) {
		return
	}
	m.takeCheck(*c, BlueGreenAnalysis(m.spec, m.st), m.phaseName()+" analysis: ")
}

// dropStaleJudge discards judge evidence gathered under another judge spec
// than the current phase's (see dropStaleJudge for why).
func (m *blueGreenMachine) dropStaleJudge() {
	a := BlueGreenAnalysis(m.spec, m.st)
	if !m.inFlight() || m.st.AbortedAt != nil {
		return
	}
	if st, dropped := dropStaleJudge(a, m.st.Analysis); dropped {
		m.st.Analysis = st
		if a != nil && a.Judge != nil {
			m.record(EventNormal, EventSpecChanged, m.phaseName()+" judge's spec changed; its evidence restarts "+
				"from the next check (evidence gathered under another spec is never mixed in)")
		}
	}
}

// phaseName names the phase of the release for messages.
func (m *blueGreenMachine) phaseName() string {
	if m.st.SwitchedAt != nil {
		return string(v1alpha1.HookPostPromotion)
	}
	return string(v1alpha1.HookPrePromotion)
}

// BlueGreenAnalysis returns the analysis a due check runs: the
// post-promotion one once the active Service was switched, the
// pre-promotion one before; nil when no release is in flight, it was rolled
// back, or the spec has no analysis for the phase.
func BlueGreenAnalysis(spec v1alpha1.BlueGreenSpec, st v1alpha1.BlueGreenStatus) *v1alpha1.Analysis {
	p := spec.PrePromotionAnalysis
	if st.SwitchedAt != nil {
		p = spec.PostPromotionAnalysis
	}
	if p == nil || !blueGreenInFlight(st) || st.AbortedAt != nil {
		return nil
	}
	return &p.Analysis
}

// BlueGreenAnalysisDue reports whether the shell should run a check now.
// Pre-promotion checks run against the preview from the moment the new
// color is ready until they pass (not while waiting for a promotion or for
// the flip); post-promotion checks run from the flip until the release
// succeeds. None run while paused or after a rollback. The first check of a
// phase comes a full interval after its clock started.
func BlueGreenAnalysisDue(spec v1alpha1.BlueGreenSpec, st v1alpha1.BlueGreenStatus, now time.Time) bool {
	a := BlueGreenAnalysis(spec, st)
	if a == nil || st.PausedAt != nil {
		return false
	}
	start := st.SwitchedAt
	if start == nil {
		if st.PrePromotionPassedAt != nil || st.PromotingAt != nil {
			return false
		}
		start = st.PreviewReadyAt
	}
	if start == nil {
		return false
	}
	return !truncNow(now).Time.Before(nextCheckAt(a, st.Analysis, start.Time))
}
