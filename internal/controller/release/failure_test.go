package release_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/traffic/service"
	"github.com/sluice-dev/sluice/internal/workload"
)

func TestClassify(t *testing.T) {
	// Each error arrives wrapped, as it does from deep in the shell.
	wrap := func(err error) error { return fmt.Errorf("execute: set weight: %w", err) }
	cases := []struct {
		name   string
		err    error
		class  release.Class
		reason string
	}{
		{"an invalid spec stalls", &release.SpecError{Field: "spec.analysis", Problem: "bad"},
			release.Stalled, v1alpha1.ReasonInvalidSpec},
		{"a hook the policy refuses stalls", &hooks.PolicyError{Hook: "smoke", Reason: "no"},
			release.Stalled, v1alpha1.ReasonInvalidSpec},
		{"an unknown router stalls", fmt.Errorf("%w: linkerd", traffic.ErrUnknownRouter),
			release.Stalled, v1alpha1.ReasonInvalidSpec},
		{"a target selector without matchLabels stalls", workload.ErrNoMatchLabels,
			release.Stalled, v1alpha1.ReasonInvalidSpec},
		{"a route Sluice cannot manage stalls", &traffic.UnmanageableRouteError{Kind: "VirtualService", Name: "vs"},
			release.Stalled, v1alpha1.ReasonRouteUnmanageable},
		{"a named route that is missing stalls", &traffic.RouteNotFoundError{Kind: "HTTPRoute", Name: "r"},
			release.Stalled, v1alpha1.ReasonRouteNotFound},
		{"an object of Sluice's name that is not Sluice's stalls", &workload.NotOwnedError{Kind: "Deployment", Name: "app-primary"},
			release.Stalled, v1alpha1.ReasonObjectNotOwned},
		{"a route not accepted yet waits", &traffic.RouteNotAcceptedError{Kind: "HTTPRoute", Name: "r"},
			release.Waiting, v1alpha1.ReasonRouteNotAccepted},
		{"a Deployment without its ReplicaSet yet waits", workload.ErrNoReplicaSet,
			release.Waiting, v1alpha1.ReasonWaitingForReady},
		{"a color with unready pods waits", service.ErrColorNotReady,
			release.Waiting, v1alpha1.ReasonWaitingForReady},
		{"an API error is transient", errors.New("connection refused"), release.Transient, ""},
		{"a deadline is transient", context.DeadlineExceeded, release.Transient, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := release.Classify(wrap(tc.err))
			g.Expect(f.Class).To(Equal(tc.class))
			g.Expect(f.Reason).To(Equal(tc.reason))
			g.Expect(f.Message).To(Equal(wrap(tc.err).Error()))
		})
	}
}

func TestFailureConditionsAndResult(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	status := func(conds []metav1.Condition, typ string) metav1.ConditionStatus {
		c := meta.FindStatusCondition(conds, typ)
		if c == nil {
			return ""
		}
		return c.Status
	}

	t.Run("a stalled error is Stalled with its reason and is not retried", func(t *testing.T) {
		g := NewWithT(t)
		err := fmt.Errorf("wrapped: %w", &traffic.UnmanageableRouteError{Kind: "VirtualService", Name: "vs", Reasons: []string{"no route to the canary"}})
		f := release.Classify(err)
		var conds []metav1.Condition
		f.SetConditions(&conds, 3, now)
		g.Expect(status(conds, v1alpha1.ConditionStalled)).To(Equal(metav1.ConditionTrue))
		g.Expect(status(conds, v1alpha1.ConditionReady)).To(Equal(metav1.ConditionFalse))
		g.Expect(status(conds, v1alpha1.ConditionReconciling)).To(Equal(metav1.ConditionFalse))
		c := meta.FindStatusCondition(conds, v1alpha1.ConditionStalled)
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonRouteUnmanageable))
		g.Expect(c.Message).To(ContainSubstring("no route to the canary"))
		g.Expect(c.ObservedGeneration).To(Equal(int64(3)))
		res, rerr := f.Result(err)
		g.Expect(res).To(Equal(ctrl.Result{}))
		g.Expect(errors.Is(rerr, reconcile.TerminalError(nil))).To(BeTrue(), "a stalled error must not be retried with backoff")
	})

	t.Run("a waiting error is Reconciling with its reason and a requeue, no error", func(t *testing.T) {
		g := NewWithT(t)
		f := release.Classify(&traffic.RouteNotAcceptedError{Kind: "HTTPRoute", Name: "r", Reason: "parent gw has not reported"})
		var conds []metav1.Condition
		f.SetConditions(&conds, 1, now)
		g.Expect(status(conds, v1alpha1.ConditionReconciling)).To(Equal(metav1.ConditionTrue))
		g.Expect(status(conds, v1alpha1.ConditionStalled)).To(Equal(metav1.ConditionFalse))
		g.Expect(meta.FindStatusCondition(conds, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonRouteNotAccepted))
		res, rerr := f.Result(errors.New("x"))
		g.Expect(rerr).NotTo(HaveOccurred())
		g.Expect(res.RequeueAfter).To(Equal(rollout.PollInterval))
	})

	t.Run("a transient error writes no condition and is returned for backoff", func(t *testing.T) {
		g := NewWithT(t)
		err := errors.New("connection refused")
		f := release.Classify(err)
		conds := []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Succeeded"}}
		f.SetConditions(&conds, 1, now)
		g.Expect(conds).To(HaveLen(1))
		g.Expect(status(conds, v1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
		_, rerr := f.Result(err)
		g.Expect(rerr).To(MatchError(err))
		g.Expect(errors.Is(rerr, reconcile.TerminalError(nil))).To(BeFalse())
	})

	t.Run("an unchanged condition keeps its lastTransitionTime", func(t *testing.T) {
		g := NewWithT(t)
		f := release.Classify(&release.SpecError{Field: "spec.x", Problem: "bad"})
		var conds []metav1.Condition
		f.SetConditions(&conds, 1, now)
		f.SetConditions(&conds, 1, now.Add(time.Hour))
		g.Expect(meta.FindStatusCondition(conds, v1alpha1.ConditionStalled).LastTransitionTime.Time).To(Equal(now))
	})
}
