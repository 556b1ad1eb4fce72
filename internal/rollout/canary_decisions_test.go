package rollout

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// lastCheck is an analysis status whose one check, at t0+d, had outcome o.
func lastCheck(o v1alpha1.MetricOutcome, d time.Duration) v1alpha1.AnalysisStatus {
	return v1alpha1.AnalysisStatus{Checks: 1, LastCheckAt: stamp(d), Results: []v1alpha1.MetricResult{result(o, d)}}
}

func TestCanaryHoldHoldsEveryStep(t *testing.T) {
	spec := analysed(canarySpec(weightStep(5), pauseStep(time.Minute), weightStep(25)))
	atPause := func(o v1alpha1.MetricOutcome) v1alpha1.CanaryStatus {
		return checked(releasing(1, time.Minute), lastCheck(o, 90*time.Second))
	}
	runCanaryCases(t, []canaryCase{{
		name: "hold a timed pause past its end while the last check had no data",
		spec: spec, status: atPause(v1alpha1.OutcomeNoData), obs: observed(5*time.Minute, 5),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "hold a timed pause past its end while the provider errors",
		spec: spec, status: atPause(v1alpha1.OutcomeError), obs: observed(5*time.Minute, 5),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.Actions).To(BeEmpty())
		},
	}, {
		name: "hold a timed pause past its end after a failed check",
		spec: spec, status: func() v1alpha1.CanaryStatus {
			st := atPause(v1alpha1.OutcomeFailed)
			st.Analysis.Failures = 1
			return st
		}(), obs: observed(5*time.Minute, 5),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
		},
	}, {
		name: "end a timed pause on its clock once the last check passed",
		spec: spec, status: atPause(v1alpha1.OutcomePassed), obs: observed(2*time.Minute, 5),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(2)))
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 25}}))
		},
	}, {
		name: "not end a timed pause before its time even on a passing check",
		spec: spec, status: atPause(v1alpha1.OutcomePassed), obs: observed(110*time.Second, 5),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
		},
	}, {
		name: "wait at a timed pause for a first check after the checks restarted",
		spec: spec, status: checked(releasing(1, time.Minute), v1alpha1.AnalysisStatus{}),
		obs: observed(5*time.Minute, 5),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
		},
	}, {
		name: "end a timed pause at weight 0 on its clock: there is no traffic to judge",
		spec: analysed(canarySpec(pauseStep(time.Minute), weightStep(10))),
		status: func() v1alpha1.CanaryStatus {
			st := releasing(0, 0)
			return checked(st, lastCheck(v1alpha1.OutcomeNoData, time.Minute))
		}(), obs: observed(time.Minute, 0),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
		},
	}})
}

func TestCanarySpecEdits(t *testing.T) {
	before := analysed(canarySpec(weightStep(5), weightStep(20), weightStep(50), weightStep(90)))
	after := analysed(canarySpec(weightStep(5), weightStep(50), weightStep(90))) // 20 removed
	at20 := func() v1alpha1.CanaryStatus {
		st := checked(releasing(1, time.Minute), lastCheck(v1alpha1.OutcomePassed, 90*time.Second))
		st.StepsDigest, st.CanaryWeight = stepsDigest(before.Steps), 20
		return st
	}
	judge := judged(before, false)
	mode := judged(before, false)
	mode.Analysis.Judge.Mode = v1alpha1.JudgePerInterval
	runCanaryCases(t, []canaryCase{{
		name: "re-anchor at the highest step not above the weight in place when a step is removed",
		spec: after, status: at20(), obs: observed(150*time.Second, 20),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(BeZero(), "step 0 (5%) is the highest not above 20%")
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 5}}))
			g.Expect(d.Status.StepStartedAt).To(BeNil())
			g.Expect(d.Status.Analysis.LastCheckAt).To(BeNil(), "the step's checks restart")
			g.Expect(d.Status.StepsDigest).To(Equal(stepsDigest(after.Steps)))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventSpecChanged}))
		},
	}, {
		name: "never raise the weight on a check taken before the steps were edited",
		spec: after, status: at20(), obs: func() CanaryObserved {
			o := observed(3*time.Minute, 20)
			o.Check = check(v1alpha1.OutcomePassed)
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			for _, a := range d.Actions {
				if sw, ok := a.(SetWeight); ok {
					g.Expect(sw.Weight).To(BeNumerically("<=", 20))
				}
			}
			g.Expect(d.Status.Analysis.LastCheckAt).To(BeNil())
		},
	}, {
		name: "keep failed checks across a steps edit",
		spec: after, status: func() v1alpha1.CanaryStatus {
			st := at20()
			st.Analysis.Failures = 1
			return st
		}(), obs: observed(150*time.Second, 20),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.Failures).To(Equal(int32(1)))
		},
	}, {
		name: "leave the release alone when the steps did not change",
		spec: before, status: at20(), obs: observed(150*time.Second, 20),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.Events).To(BeEmpty())
		},
	}, {
		name: "drop the judge's evidence when its mode changes, and say so",
		spec: mode, status: func() v1alpha1.CanaryStatus {
			st := at20()
			st.Analysis.Judge = judgeStatus(judge.Analysis, v1alpha1.JudgeContinue)
			st.Analysis.Judge.Metrics = []v1alpha1.JudgeMetricStatus{{Name: "errors", LogRollback: []float64{1, 2}}}
			return st
		}(), obs: observed(150*time.Second, 20),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.Judge).To(BeNil())
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventSpecChanged}))
		},
	}, {
		name: "keep the judge's evidence when only promoteOnEvidence changes",
		spec: judged(before, true), status: func() v1alpha1.CanaryStatus {
			st := at20()
			st.Analysis.Judge = judgeStatus(judge.Analysis, v1alpha1.JudgeContinue)
			return st
		}(), obs: observed(150*time.Second, 20),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.Analysis.Judge).NotTo(BeNil())
			g.Expect(d.Events).To(BeEmpty())
		},
	}})
}

func TestCanaryHoldsTheWeightWhenEveryEditedStepAsksForMore(t *testing.T) {
	g := NewWithT(t)
	before := analysed(canarySpec(weightStep(5), weightStep(20), weightStep(50)))
	after := analysed(canarySpec(weightStep(30), weightStep(60)))
	st := checked(releasing(1, time.Minute), lastCheck(v1alpha1.OutcomePassed, 90*time.Second))
	st.StepsDigest, st.CanaryWeight = stepsDigest(before.Steps), 20

	d := Next(after, st, observed(2*time.Minute, 20))
	g.Expect(d.Status.HeldWeight).To(Equal(ptrTo(int32(20))))
	g.Expect(d.Status.CurrentStep).To(BeZero())
	g.Expect(d.Actions).To(BeEmpty(), "the weight stays at 20, not 30")
	g.Expect(d.Status.StepStartedAt).To(Equal(stamp(2*time.Minute)), "the held weight is in place: its clock runs")
	g.Expect(condition(d.Status, v1alpha1.ConditionReconciling).Message).To(ContainSubstring("holding weight 20"))
	expectReplaySafe(g, after, d, observed(2*time.Minute, 20))

	noData := observed(3*time.Minute, 20)
	noData.Check = check(v1alpha1.OutcomeNoData)
	held := Next(after, d.Status, noData)
	g.Expect(held.Status.HeldWeight).NotTo(BeNil(), "no data does not end the hold")
	g.Expect(held.Actions).To(BeEmpty())

	passed := observed(4*time.Minute, 20)
	passed.Check = check(v1alpha1.OutcomePassed)
	released := Next(after, held.Status, passed)
	g.Expect(released.Status.HeldWeight).To(BeNil())
	g.Expect(released.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 30}}), "a check passed at 20 under the new steps")
}

func TestAnchorStep(t *testing.T) {
	steps := []v1alpha1.CanaryStep{pauseStep(time.Minute), weightStep(10), pauseStep(time.Minute), weightStep(50)}
	for _, c := range []struct {
		weight int32
		want   int32
	}{{0, 0}, {5, 0}, {10, 1}, {30, 1}, {50, 3}, {100, 3}} {
		if got, ok := anchorStep(steps, c.weight); got != c.want || !ok {
			t.Errorf("anchorStep(weight %d) = %d, %t, want %d, true", c.weight, got, ok, c.want)
		}
	}
	if got, ok := anchorStep([]v1alpha1.CanaryStep{weightStep(20), weightStep(40)}, 10); got != 0 || ok {
		t.Errorf("with every step above the weight in place, anchorStep = %d, %t, want 0, false", got, ok)
	}
}

func TestCanaryCommandQueue(t *testing.T) {
	spec := analysed(canarySpec(weightStep(10), pauseStep(0), weightStep(50)))
	failedOnce := checked(releasing(1, time.Minute), v1alpha1.AnalysisStatus{Checks: 2, Failures: 1,
		LastCheckAt: stamp(2 * time.Minute), Results: []v1alpha1.MetricResult{result(v1alpha1.OutcomePassed, 2*time.Minute)}})
	with := func(o CanaryObserved, cmds ...PendingCommand) CanaryObserved { o.Commands = cmds; return o }
	runCanaryCases(t, []canaryCase{{
		name: "carry out an abort before a promote given after it, and refuse the promote truthfully",
		spec: spec, status: releasing(1, time.Minute),
		obs: with(observed(5*time.Minute, 10), PendingCommand{Name: v1alpha1.CommandPromote, ID: "20261201T100001Z"},
			PendingCommand{Name: v1alpha1.CommandAbort, ID: "20261201T100000Z", By: "jane"}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortReason).To(Equal(v1alpha1.ReasonAborted))
			g.Expect(d.Actions).To(ContainElement(SetWeight{Weight: 0}))
			g.Expect(d.Status.Commands).To(HaveLen(2))
			g.Expect(d.Status.Commands[0].Name).To(Equal(v1alpha1.CommandAbort))
			g.Expect(d.Status.Commands[0].By).To(Equal("jane"))
			g.Expect(d.Status.Commands[1].Message).To(ContainSubstring("was rolled back"))
			g.Expect(d.Status.LastCommand.Name).To(Equal(v1alpha1.CommandPromote))
		},
	}, {
		name: "carry out an abort even when the promote's ID sorts first",
		spec: spec, status: releasing(1, time.Minute),
		obs: with(observed(5*time.Minute, 10), PendingCommand{Name: v1alpha1.CommandPromote, ID: "a"},
			PendingCommand{Name: v1alpha1.CommandAbort, ID: "b"}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).NotTo(BeNil())
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)), "the promote did not move the step")
		},
	}, {
		name: "refuse promote after a failed check, naming the override command",
		spec: spec, status: failedOnce,
		obs: with(observed(5*time.Minute, 10), PendingCommand{Name: v1alpha1.CommandPromote, ID: "1"}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.CurrentStep).To(Equal(int32(1)))
			g.Expect(d.Status.LastCommand.Message).To(And(ContainSubstring("refused: 1 failed check"),
				ContainSubstring("--override-failed-analysis"), Not(ContainSubstring("still running"))))
			g.Expect(eventReasons(d.Events)).To(Equal([]string{EventCommandIgnored}))
		},
	}, {
		name: "refuse promote-full after a failed check",
		spec: spec, status: failedOnce,
		obs: with(observed(5*time.Minute, 10), PendingCommand{Name: v1alpha1.CommandPromoteFull, ID: "1"}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PromotingAt).To(BeNil())
		},
	}, {
		name: "promote on promote-override after a failed check, recording who and when in history",
		spec: spec, status: failedOnce,
		obs: with(observed(5*time.Minute, 10), PendingCommand{Name: v1alpha1.CommandPromoteOverride, ID: "1", By: "jane"}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.PromotingAt).To(Equal(stamp(5 * time.Minute)))
			g.Expect(d.Status.Commands[0].By).To(Equal("jane"))
			var promoting string
			for _, r := range d.Status.History {
				if r.Reason == EventPromoting {
					promoting = r.Message
				}
			}
			g.Expect(promoting).To(And(ContainSubstring("promote-override (by jane)"),
				ContainSubstring(at(5*time.Minute).UTC().Format("2006-01-02T15:04:05Z")),
				ContainSubstring("1 failed check")))
		},
	}, {
		name: "apply an abort while the target is missing (the primary still serves), and never again when it returns",
		spec: spec, status: releasing(1, time.Minute), obs: func() CanaryObserved {
			o := with(observed(5*time.Minute, 10), PendingCommand{Name: v1alpha1.CommandAbort, ID: "1"})
			o.Target = WorkloadState{}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).NotTo(BeNil())
			g.Expect(d.Actions).To(Equal([]CanaryAction{SetWeight{Weight: 0}}))
			back := observed(6*time.Minute, 0)
			back.Commands = []PendingCommand{{Name: v1alpha1.CommandAbort, ID: "1"}}
			later := Next(spec, d.Status, back)
			g.Expect(eventReasons(later.Events)).NotTo(ContainElement(EventCommandApplied), "carried out once")
		},
	}, {
		name: "refuse a command while a named route is missing, and never carry it out later",
		spec: func() v1alpha1.CanarySpec {
			s := spec
			s.TrafficRouting = v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{
				VirtualService: v1alpha1.IstioVirtualService{Name: "shop"}}}
			return s
		}(), status: releasing(1, time.Minute), obs: func() CanaryObserved {
			o := with(observed(5*time.Minute, 10), PendingCommand{Name: v1alpha1.CommandAbort, ID: "1"})
			o.Route = RouteState{}
			return o
		}(),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.AbortedAt).To(BeNil())
			g.Expect(d.Status.LastCommand.Message).To(And(ContainSubstring("not carried out, nothing changed"),
				ContainSubstring("not found")))
		},
	}, {
		name: "refuse an unknown command by name",
		spec: spec, status: releasing(1, time.Minute),
		obs: with(observed(5*time.Minute, 10), PendingCommand{Name: "bogus", ID: "1"}),
		expect: func(g Gomega, d CanaryDecision) {
			g.Expect(d.Status.LastCommand.Message).To(ContainSubstring("unknown command"))
		},
	}})
}

func TestCommandsFromAnnotations(t *testing.T) {
	g := NewWithT(t)
	got := pendingCommands(CommandsFromAnnotations(map[string]string{
		"rollouts.sluice.dev/command.promote":    "2",
		"rollouts.sluice.dev/command.promote.by": "joe",
		"rollouts.sluice.dev/command.abort":      "3",
		"rollouts.sluice.dev/command.pause":      "1",
		"rollouts.sluice.dev/other":              "x",
		"rollouts.sluice.dev/command.prmote":     "4",
		"team":                                   "shop",
	}), []v1alpha1.CommandStatus{{Name: v1alpha1.CommandPause, ID: "1"}})
	g.Expect(got).To(Equal([]PendingCommand{{Name: v1alpha1.CommandAbort, ID: "3"},
		{Name: v1alpha1.CommandPromote, ID: "2", By: "joe"}}), "abort first, the done pause and the unknown name skipped")
}
