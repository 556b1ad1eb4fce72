package rollout

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// byteSource turns fuzz input into choices; once the input is exhausted it
// goes on with a small linear congruential generator seeded from the input,
// so short inputs still drive long, varied runs.
type byteSource struct {
	data []byte
	i    int
	lcg  uint32
}

func (s *byteSource) byte() byte {
	if s.i < len(s.data) {
		s.lcg = s.lcg*31 + uint32(s.data[s.i])
		s.i++
		return s.data[s.i-1]
	}
	s.i++
	s.lcg = s.lcg*1664525 + 1013904223
	return byte(s.lcg >> 24)
}

func (s *byteSource) intn(n int) int      { return int(s.byte()) % n }
func (s *byteSource) chance(pct int) bool { return s.intn(100) < pct }

// fuzzSpec builds a spec the API server would accept: 1 to 8 steps with at
// least one setWeight, weights strictly increasing within 0-100, pauses of 1s
// to 10m or untimed, intervals of 5s to 5m, limits of 1 to 4.
func fuzzSpec(s *byteSource) v1alpha1.CanarySpec {
	var steps []v1alpha1.CanaryStep
	w := int32(-1)
	for n := 1 + s.intn(8); len(steps) < n; {
		if s.chance(35) || w >= 100 {
			steps = append(steps, pauseStep(time.Duration(s.intn(4)*(1+s.intn(150)))*time.Second))
			continue
		}
		w = min(w+1+int32(s.intn(40)), 100)
		steps = append(steps, weightStep(w))
	}
	if w < 0 {
		steps = append(steps, weightStep(int32(s.intn(101))))
	}
	spec := canarySpec(steps...)
	spec.ProgressDeadlineSeconds = int32(30 + s.intn(256)*4)
	if s.chance(60) {
		spec = analysed(spec)
		if a := spec.Analysis; fuzzAnalysis(s, a, 50) {
			a.Judge.PromoteOnEvidence = s.chance(50)
		}
	}
	for _, typ := range []v1alpha1.CanaryHookType{v1alpha1.HookPreRollout, v1alpha1.HookConfirmPromotion,
		v1alpha1.HookPostRollout, v1alpha1.HookRollback} {
		if s.chance(20) {
			spec.Hooks = append(spec.Hooks, hook(string(typ)+"-hook", typ))
		}
	}
	return spec
}

// fuzzEdit edits a spec mid-release as a person might, keeping it valid:
// removes a step, or changes the judge's mode or tolerance.
func fuzzEdit(s *byteSource, spec v1alpha1.CanarySpec) v1alpha1.CanarySpec {
	spec = *spec.DeepCopy()
	if a := spec.Analysis; a != nil && a.Judge != nil && s.chance(50) {
		if s.chance(50) {
			a.Judge.Mode = v1alpha1.JudgePerInterval
		} else {
			a.Judge.Tolerance = 1 + float64(s.intn(10))/10
		}
		return spec
	}
	i := s.intn(len(spec.Steps))
	steps := append(append([]v1alpha1.CanaryStep{}, spec.Steps[:i]...), spec.Steps[i+1:]...)
	for _, st := range steps {
		if st.SetWeight != nil {
			spec.Steps = steps
			break
		}
	}
	return spec
}

// fuzzCheck is a random check: outcomes per metric and a judge verdict.
func fuzzCheck(s *byteSource, spec v1alpha1.CanarySpec, now time.Time) *Check {
	c := &Check{}
	for i := range 1 + s.intn(2) {
		c.Results = append(c.Results, v1alpha1.MetricResult{Name: fmt.Sprintf("m%d", i),
			Outcome: fuzzOutcome(s), Time: metav1.NewTime(now)})
	}
	if spec.Analysis.Judge != nil {
		decisions := []v1alpha1.JudgeDecision{v1alpha1.JudgeContinue, v1alpha1.JudgeContinue, v1alpha1.JudgeContinue,
			v1alpha1.JudgePromote, v1alpha1.JudgeRollback}
		c.Judge = judgeStatus(spec.Analysis, decisions[s.intn(len(decisions))])
	}
	return c
}

// fuzzWorld changes the world at random: new revisions, reverts, commands,
// pods becoming ready, hooks finishing.
func fuzzWorld(s *byteSource, w *world, st v1alpha1.CanaryStatus, round int) {
	fuzzRelease(s, w.release, 3, round, st.StableRevision)
	if s.chance(70) {
		w.target.ReadyReplicas = w.target.DesiredReplicas
	}
	if s.chance(70) {
		w.primary.ReadyReplicas = w.primary.DesiredReplicas
	}
	if s.chance(10) {
		w.target.ReadyReplicas = 0
	}
	w.hooks = fuzzHookPhase(s)
	if s.chance(8) {
		w.command(fuzzCommand(s), fmt.Sprint(round))
	}
}

// fuzzAnalysis sets a's interval (5 s to 5 min) and limits (1 to 4) at
// random and, judge times in 100, a judge; it reports whether it set one.
func fuzzAnalysis(s *byteSource, a *v1alpha1.Analysis, judge int) bool {
	a.Interval.Duration = time.Duration(5+s.intn(60)*5) * time.Second
	a.FailureLimit, a.ErrorLimit = int32(1+s.intn(4)), int32(1+s.intn(4))
	if !s.chance(judge) {
		return false
	}
	a.Judge = &v1alpha1.Judge{Requests: "r", Errors: "e"}
	return true
}

// fuzzRelease releases a new revision, pct times in 100, or else, once in
// 100, reverts to live, the revision that serves (when there is one).
func fuzzRelease(s *byteSource, release func(rev string), pct, round int, live string) {
	switch {
	case s.chance(pct):
		release(fmt.Sprintf("r%d", round))
	case s.chance(1) && live != "":
		release(live)
	}
}

// fuzzHookPhase is how the hooks of a round end: not yet, succeeded (twice
// as likely) or failed.
func fuzzHookPhase(s *byteSource) v1alpha1.HookPhase {
	return []v1alpha1.HookPhase{"", v1alpha1.HookSucceeded, v1alpha1.HookSucceeded, v1alpha1.HookFailed}[s.intn(4)]
}

// fuzzOutcome is one metric's outcome in a random check, passing half the
// time.
func fuzzOutcome(s *byteSource) v1alpha1.MetricOutcome {
	outcomes := []v1alpha1.MetricOutcome{v1alpha1.OutcomePassed, v1alpha1.OutcomePassed, v1alpha1.OutcomePassed,
		v1alpha1.OutcomeFailed, v1alpha1.OutcomeNoData, v1alpha1.OutcomeError}
	return outcomes[s.intn(len(outcomes))]
}

// fuzzNextLook is when the fuzzed operator reconciles next: after 1 to 90
// s, or, half the time, when the decision asked to be requeued.
func fuzzNextLook(s *byteSource, requeue time.Duration) time.Duration {
	step := time.Duration(1+s.intn(90)) * time.Second
	if requeue > 0 && s.chance(50) {
		step = requeue
	}
	return step
}

// fuzzCommand picks a command, an unknown one included.
func fuzzCommand(s *byteSource) v1alpha1.Command {
	cmds := []v1alpha1.Command{v1alpha1.CommandPromote, v1alpha1.CommandPromoteFull, v1alpha1.CommandAbort,
		v1alpha1.CommandPause, v1alpha1.CommandResume, v1alpha1.CommandRetry, v1alpha1.CommandPromoteOverride, "bogus"}
	return cmds[s.intn(len(cmds))]
}

// releaseTrack is what the fuzz harness remembers of the release in flight.
type releaseTrack struct {
	rev       string
	advanced  int  // StepAdvanced events seen
	commanded bool // a command was applied
	edited    bool // the release adapted to an edit of its spec
}

// checkInvariants checks one reconcile's decision against its input.
func checkInvariants(g Gomega, spec v1alpha1.CanarySpec, cur v1alpha1.CanaryStatus, obs CanaryObserved,
	d CanaryDecision, track *releaseTrack) {
	st := d.Status
	commandApplied := false
	for _, e := range d.Events {
		commandApplied = commandApplied || e.Reason == EventCommandApplied
	}
	for _, a := range d.Actions {
		if sw, ok := a.(SetWeight); ok {
			g.Expect(sw.Weight).To(And(BeNumerically(">=", 0), BeNumerically("<=", 100)), "weight out of range")
			if st.AbortedAt != nil && canaryInFlight(st) && (st.CanaryFullAt == nil || st.DrainStartedAt != nil) {
				// (While a primary a promotion changed is restored, the
				// canary carries all traffic: see checkHandover.)
				g.Expect(sw.Weight).To(BeZero(), "weight above 0 after a rollback")
			}
		}
	}
	g.Expect(st.CanaryWeight).To(And(BeNumerically(">=", 0), BeNumerically("<=", 100)))
	failedCheck := st.Analysis != nil && cur.Analysis != nil && st.Analysis.Failures > cur.Analysis.Failures ||
		st.Analysis != nil && cur.Analysis == nil && st.Analysis.Failures > 0
	if failedCheck && !commandApplied && st.CanaryRevision == cur.CanaryRevision {
		g.Expect(st.CurrentStep).To(BeNumerically("<=", cur.CurrentStep), "a failed check advanced a step: %v %+v %+v", d.Events, cur.Analysis, st.Analysis)
		g.Expect(st.PromotingAt).To(Equal(cur.PromotingAt), "a failed check started a promotion")
	}
	if st.CanaryRevision != track.rev || st.ReleaseStartedAt != nil && cur.ReleaseStartedAt != nil &&
		!st.ReleaseStartedAt.Equal(cur.ReleaseStartedAt) {
		*track = releaseTrack{rev: st.CanaryRevision}
	}
	for _, e := range d.Events {
		// The last step's StepAdvanced is folded into Promoting when both
		// happen in one evaluation; Promoting then starts with that step.
		if e.Reason == EventStepAdvanced || e.Reason == EventPromoting && strings.HasPrefix(e.Message, "step ") {
			track.advanced++
		}
		track.edited = track.edited || e.Reason == EventSpecChanged
	}
	track.commanded = track.commanded || commandApplied
	if cur.PromotingAt == nil && st.PromotingAt != nil && !track.commanded {
		if !track.edited {
			g.Expect(track.advanced).To(Equal(len(spec.Steps)), "promotion before every step passed")
		}
		g.Expect(st.CurrentStep).To(Equal(int32(len(spec.Steps))))
		if spec.Analysis != nil {
			g.Expect(verdict(spec.Analysis, st.Analysis)).To(BeElementOf(VerdictPass, VerdictPromote),
				"promotion without a passing check")
		}
	}
	sameRelease := st.CanaryRevision == cur.CanaryRevision && cur.ReleaseStartedAt != nil &&
		st.ReleaseStartedAt != nil && st.ReleaseStartedAt.Equal(cur.ReleaseStartedAt)
	if spec.Analysis != nil && !commandApplied && sameRelease && st.AbortedAt == nil && st.PromotingAt == nil &&
		cur.CanaryWeight > 0 && effectiveWeight(spec, st) > cur.CanaryWeight &&
		(st.CurrentStep != cur.CurrentStep || (cur.HeldWeight != nil) != (st.HeldWeight != nil)) {
		g.Expect(verdict(spec.Analysis, st.Analysis)).To(BeElementOf(VerdictPass, VerdictPromote),
			"the weight rose from %d to %d without a passing check under the current spec: %v",
			cur.CanaryWeight, effectiveWeight(spec, st), d.Events)
	}
	if st.StableRevision != cur.StableRevision && cur.StableRevision != "" {
		g.Expect(eventReasons(d.Events)).To(ContainElement(EventPromoted), "stable revision changed without a promotion")
	}
	checkHandover(g, spec, obs, d)
	g.Expect(len(st.History)).To(BeNumerically("<=", v1alpha1.MaxDecisionRecords))
	g.Expect(st.Conditions).To(HaveLen(4))
	for _, c := range st.Conditions {
		g.Expect(c.Reason).NotTo(BeEmpty())
	}
	expectReplaySafe(g, spec, d, obs)
}

// effectiveWeight is the weight status asks for: its step's, capped by a
// held weight.
func effectiveWeight(spec v1alpha1.CanarySpec, st v1alpha1.CanaryStatus) int32 {
	w := stepWeight(spec.Steps, st.CurrentStep)
	if st.HeldWeight != nil {
		w = min(w, *st.HeldWeight)
	}
	return w
}

// FuzzCanary drives random valid specs through random observation sequences
// (new revisions, reverts, commands, lost writes, crashes before the status
// patch, random checks and hook results) and checks the invariants on every
// reconcile.
func FuzzCanary(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a good release with analysis and hooks goes through every step"))
	f.Add([]byte{7, 200, 3, 90, 10, 10, 10, 255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18})
	f.Fuzz(fuzzBody)
}

// fuzzBody is one FuzzCanary run.
func fuzzBody(t *testing.T, data []byte) {
	g := NewWithT(t)
	s := &byteSource{data: data}
	spec := fuzzSpec(s)
	w, st := newWorld("r0"), v1alpha1.CanaryStatus{}
	track := &releaseTrack{}
	for round := 1; round <= 60; round++ {
		obs := w.observe(1)
		if s.chance(3) {
			spec = fuzzEdit(s, spec)
		}
		fuzzWorld(s, w, st, round)
		obs.Commands = CommandsFromAnnotations(w.annotations)
		obs.Hooks = w.runHooks(st)
		obs = w.observeWith(obs)
		if AnalysisDue(spec, st, w.now) && s.chance(85) {
			obs.Check = fuzzCheck(s, spec, w.now)
		}
		d := Next(spec, st, obs)
		next := *track
		checkInvariants(g, spec, st, obs, d, &next)
		for _, a := range d.Actions {
			if s.chance(85) { // else the write is lost
				w.apply(a)
			}
		}
		if !s.chance(10) { // else the operator dies before its status patch
			st, *track = d.Status, next
		}
		w.now = w.now.Add(fuzzNextLook(s, d.RequeueAfter))
	}
}
