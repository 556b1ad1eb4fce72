package rollout

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// followSpec adapts the release to edits of its spec made since the last
// reconcile. The rule: never raise a weight without a check passing under the
// new spec, and never mix the judge's evidence from two judge specs.
func (m *canaryMachine) followSpec() {
	m.followSteps()
	if a, dropped := dropStaleJudge(m.spec.Analysis, m.st.Analysis); dropped {
		m.st.Analysis = a
		if m.inFlight() && m.st.AbortedAt == nil && m.spec.Analysis != nil && m.spec.Analysis.Judge != nil {
			m.record(EventNormal, EventSpecChanged, "the judge's spec changed; its evidence restarts from "+
				"the next check (evidence gathered under another spec is never mixed in)")
		}
	}
}

// followSteps re-anchors a release whose steps were edited. Why: currentStep
// is an index into spec.steps, and after an edit the same index may name a
// step of a higher weight (removing a step once sent a release from 20% to
// 90% on a check taken at 20%). The release moves to the first step whose
// weight is the highest not above the weight in place, and restarts that
// step's clock and checks, so the next increase needs a check passing under
// the new steps. Failed checks still count: an edit forgives nothing.
func (m *canaryMachine) followSteps() {
	digest := stepsDigest(m.spec.Steps)
	old := m.st.StepsDigest
	m.st.StepsDigest = digest
	if n := int32(len(m.spec.Steps)); m.st.CurrentStep > n {
		// Why: a status written before the digest existed, with steps
		// edited to fewer: the release is past all of them.
		m.st.CurrentStep = n
	}
	if old == "" || old == digest || !m.inFlight() || m.st.AbortedAt != nil || !m.trafficStarted() {
		return
	}
	in := min(m.reportedWeight(), m.cur.CanaryWeight)
	from := m.st.CurrentStep
	at, fits := anchorStep(m.spec.Steps, in)
	m.st.CurrentStep, m.st.HeldWeight = at, nil
	msg := fmt.Sprintf("steps edited: re-anchored from step %d to %s (%s, weight %d), the highest weight not above "+
		"the %d%% in place", from+1, stepName(m.spec.Steps, at), DescribeStep(m.spec.Steps[at]),
		stepWeight(m.spec.Steps, at), in)
	if !fits {
		// Why: every step asks for more than the weight in place; going to
		// the first one would raise the weight on no check at all.
		held := in
		m.st.HeldWeight = &held
		msg = fmt.Sprintf("steps edited: every step asks for more than the %d%% in place; holding %d%% until a "+
			"check passes under the new steps, then %s (%s)", in, in, stepName(m.spec.Steps, at), DescribeStep(m.spec.Steps[at]))
	}
	if m.st.PromotingAt == nil {
		m.st.StepStartedAt = nil
		if a := m.st.Analysis; a != nil {
			a.LastCheckAt, a.Results = nil, nil
		}
		msg += "; its clock and checks restart"
	}
	m.record(EventNormal, EventSpecChanged, msg)
}

// anchorStep is the first step whose weight is the highest of the steps'
// weights not above w, and false (with step 0) when every step asks for more
// than w.
func anchorStep(steps []v1alpha1.CanaryStep, w int32) (int32, bool) {
	best, at := int32(-1), int32(0)
	for i := range int32(len(steps)) {
		if sw := stepWeight(steps, i); sw <= w && sw > best {
			best, at = sw, i
		}
	}
	return at, best >= 0
}

// weight is the canary weight the current step asks for, capped by a held
// weight (see followSteps).
func (m *canaryMachine) weight() int32 {
	w := stepWeight(m.spec.Steps, m.st.CurrentStep)
	if h := m.st.HeldWeight; h != nil && *h < w {
		return *h
	}
	return w
}

// releaseHold ends a hold once a check passed at the held weight under the
// new steps: the current step then runs at its own weight, with its own
// clock and checks.
func (m *canaryMachine) releaseHold() {
	held := *m.st.HeldWeight
	m.st.HeldWeight = nil
	m.st.StepStartedAt = nil
	m.record(EventNormal, EventSpecChanged, fmt.Sprintf("a check passed at the held %d%% under the edited steps; "+
		"%s (%s) runs now", held, stepName(m.spec.Steps, m.st.CurrentStep), DescribeStep(m.spec.Steps[m.st.CurrentStep])))
}

// stepsDigest identifies a list of steps: their weights and pauses in order.
func stepsDigest(steps []v1alpha1.CanaryStep) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		parts = append(parts, DescribeStep(s))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, ";")))
	return hex.EncodeToString(sum[:8])
}
