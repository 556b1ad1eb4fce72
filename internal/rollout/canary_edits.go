package rollout

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// EventSpecChanged is the reason of the event that says how a release
// adapted to an edit of its spec mid-release.
const EventSpecChanged = "SpecChanged"

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
	m.st.CurrentStep = anchorStep(m.spec.Steps, in)
	msg := fmt.Sprintf("steps edited: re-anchored from step %d to %s (%s, weight %d), the highest weight not above "+
		"the %d%% in place", from+1, stepName(m.spec.Steps, m.st.CurrentStep),
		describeStep(m.spec.Steps[m.st.CurrentStep]), stepWeight(m.spec.Steps, m.st.CurrentStep), in)
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
// weights not above w, or 0 when every step asks for more than w (the
// release then starts over from its first step, as a new release would).
func anchorStep(steps []v1alpha1.CanaryStep, w int32) int32 {
	best, at := int32(-1), int32(0)
	for i := range int32(len(steps)) {
		if sw := stepWeight(steps, i); sw <= w && sw > best {
			best, at = sw, i
		}
	}
	return at
}

// stepsDigest identifies a list of steps: their weights and pauses in order.
func stepsDigest(steps []v1alpha1.CanaryStep) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		parts = append(parts, describeStep(s))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, ";")))
	return hex.EncodeToString(sum[:8])
}
