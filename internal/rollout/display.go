package rollout

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// maxDisplayMessage bounds status.message, so that `kubectl get` stays one
// readable line per release.
const maxDisplayMessage = 80

// CanaryStepLabel is the step in progress counted from 1 with the number of
// steps, such as "2/6", for display; "6/6" once every step passed, and
// empty when no release is in flight.
func CanaryStepLabel(steps int, st v1alpha1.CanaryStatus) string {
	if !canaryInFlight(st) || st.StableRevision == "" || steps == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", min(int(st.CurrentStep)+1, steps), steps)
}

// DisplayMessage says in a few words what a release does, waits for, or why
// it stopped: the first clause of the message of the condition that is True
// among Stalled, Reconciling and Ready (in that order), cut to 80
// characters. It is for display only.
func DisplayMessage(conds []metav1.Condition) string {
	for _, typ := range []string{v1alpha1.ConditionStalled, v1alpha1.ConditionReconciling, v1alpha1.ConditionReady} {
		c := meta.FindStatusCondition(conds, typ)
		if c == nil || c.Status != metav1.ConditionTrue {
			continue
		}
		return shorten(c.Message)
	}
	return ""
}

// shorten keeps the first clause of msg (up to "; ") within
// maxDisplayMessage characters.
func shorten(msg string) string {
	if i := strings.Index(msg, "; "); i >= 0 {
		msg = msg[:i]
	}
	if utf8.RuneCountInString(msg) <= maxDisplayMessage {
		return msg
	}
	r := []rune(msg)
	return strings.TrimSpace(string(r[:maxDisplayMessage-1])) + "…"
}

// waitingForTarget is the health of a release object whose target
// Deployment does not exist (yet): under GitOps the release object often
// arrives first, so this is waiting (Reconciling), not a stalled spec.
func waitingForTarget(name string) health {
	return health{reconciling: true, reason: v1alpha1.ReasonWaitingForTarget, message: fmt.Sprintf(
		"waiting for Deployment %s to exist; the release starts when it is created (check spec.targetRef.name if it already exists)", name)}
}

// DescribeStep says what a Canary step does, as events, conditions and
// kubectl sluice say it: "setWeight 10", "pause 1m0s", "pause until
// promoted".
func DescribeStep(s v1alpha1.CanaryStep) string {
	switch {
	case s.SetWeight != nil:
		return fmt.Sprintf("setWeight %d", *s.SetWeight)
	case s.Pause != nil && s.Pause.Duration != nil:
		return "pause " + s.Pause.Duration.Duration.String()
	}
	return "pause until promoted"
}

// CanaryProgress is where a Canary's release stands among its steps, for
// display.
type CanaryProgress struct {
	// InFlight is false when no revision other than the stable one is
	// released; the other fields are then zero.
	InFlight bool
	// Step is the step in progress counted from 1 (status.currentStep
	// counts from 0), at most Steps.
	Step int
	// Steps is the number of steps.
	Steps int
	// Done is true once every step passed.
	Done bool
	// What says what the step in progress does (DescribeStep); "" when
	// Done.
	What string
}

// CanaryProgressOf is where a Canary's release stands among steps, from
// status as the state machine keeps it.
func CanaryProgressOf(steps []v1alpha1.CanaryStep, st v1alpha1.CanaryStatus) CanaryProgress {
	if !canaryInFlight(st) {
		return CanaryProgress{}
	}
	p := CanaryProgress{InFlight: true, Steps: len(steps)}
	i := int(st.CurrentStep)
	if i >= len(steps) {
		p.Step, p.Done = len(steps), true
		return p
	}
	p.Step, p.What = i+1, DescribeStep(steps[i])
	return p
}

// BlueGreenStage names where a BlueGreen release stands; a BlueGreen has
// stages rather than numbered steps, and goes through them in the order of
// BlueGreenStages (a rollback may come at any of them).
type BlueGreenStage string

// The stages of a BlueGreen release, in their order.
const (
	// StageNone: no release in flight.
	StageNone BlueGreenStage = "-"
	// StageStartingPreview: the new color is being deployed.
	StageStartingPreview BlueGreenStage = "starting-preview"
	// StagePrePromotion: the new color is ready; pre-promotion hooks and
	// analysis run against the preview Service.
	StagePrePromotion BlueGreenStage = "pre-promotion"
	// StageAwaitingPromote: the pre-promotion checks passed; the release
	// waits for a promote command or autoPromotionSeconds.
	StageAwaitingPromote BlueGreenStage = "awaiting-promote"
	// StageSwitching: promoting; the active Service (or route) flips.
	StageSwitching BlueGreenStage = "switching"
	// StagePostPromotion: the new color serves; post-promotion hooks and
	// analysis run on live traffic.
	StagePostPromotion BlueGreenStage = "post-promotion"
	// StageRolledBack: the release failed or was aborted.
	StageRolledBack BlueGreenStage = "rolled-back"
)

// BlueGreenStages are the stages of a release in the order it goes through
// them, StageRolledBack last (it may follow any of the others).
var BlueGreenStages = []BlueGreenStage{
	StageNone, StageStartingPreview, StagePrePromotion, StageAwaitingPromote, StageSwitching,
	StagePostPromotion, StageRolledBack,
}

// BlueGreenStageOf is the stage a BlueGreen release stands at, from status
// as NextBlueGreen keeps it: the later timestamps win, a rollback over all.
func BlueGreenStageOf(st v1alpha1.BlueGreenStatus) BlueGreenStage {
	switch {
	case !blueGreenInFlight(st):
		return StageNone
	case st.AbortedAt != nil:
		return StageRolledBack
	case st.SwitchedAt != nil:
		return StagePostPromotion
	case st.PromotingAt != nil:
		return StageSwitching
	case st.PrePromotionPassedAt != nil:
		return StageAwaitingPromote
	case st.PreviewReadyAt != nil:
		return StagePrePromotion
	}
	return StageStartingPreview
}
