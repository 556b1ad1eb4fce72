package bluegreen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// Kind is the kind this reconciler serves, for events and metrics.
const Kind = "BlueGreen"

// Reconciler reconciles BlueGreen objects.
type Reconciler struct {
	// Client reads through the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads the BlueGreen itself straight from the API server: a
	// decision must never be taken on a status older than the last one
	// written, which a cache may still hold.
	APIReader client.Reader
	// Recorder emits Kubernetes Events.
	Recorder events.EventRecorder
	// Analysis runs analysis checks.
	Analysis *analysis.Runner
	// Hooks runs webhooks and Jobs.
	Hooks *hooks.Runner
	// Metrics are the operator's collectors; nil turns them off.
	Metrics *metrics.Collectors
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=bluegreens,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=bluegreens/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=bluegreens/finalizers,verbs=update

// Reconcile brings one BlueGreen one step closer to what its spec and status
// call for.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	bg := &v1alpha1.BlueGreen{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, bg); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.Namespace, req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get BlueGreen %s: %w", req.NamespacedName, err)
	}
	if !bg.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, bg)
	}
	if err := release.AddFinalizer(ctx, r.Client, bg); err != nil {
		return ctrl.Result{}, err
	}
	obs, err := r.observe(ctx, bg)
	if err != nil {
		return ctrl.Result{}, err
	}
	d := rollout.NextBlueGreen(bg.Spec, bg.Status, obs.BlueGreenObserved)
	if err := r.execute(ctx, bg, obs, d); err != nil {
		return ctrl.Result{}, errors.Join(err, r.writeStatus(ctx, bg, d))
	}
	if err := r.writeStatus(ctx, bg, d); err != nil {
		return ctrl.Result{}, err
	}
	release.Emit(r.Recorder, bg, d.Events)
	return ctrl.Result{RequeueAfter: release.Sooner(d.RequeueAfter, obs.hookWait)}, nil
}

// writeStatus patches status once, and only when the decision changed it.
func (r *Reconciler) writeStatus(ctx context.Context, bg *v1alpha1.BlueGreen, d rollout.BlueGreenDecision) error {
	r.observeRelease(bg, d.Status)
	return release.WriteStatus(ctx, r.Client, bg, equality.Semantic.DeepEqual(bg.Status, d.Status),
		func() { bg.Status = d.Status })
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the reconciler and what it watches: its
// BlueGreens, the objects they own, and the target Deployments they name.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts ...func(*builder.Builder)) error {
	return release.NewController(mgr, release.Watch{
		Name:    "bluegreen",
		Object:  &v1alpha1.BlueGreen{},
		NewList: func() client.ObjectList { return &v1alpha1.BlueGreenList{} },
		Target:  func(o client.Object) string { return o.(*v1alpha1.BlueGreen).Spec.TargetRef.Name },
	}, r, opts...)
}

func (r *Reconciler) forget(namespace, name string) {
	if r.Metrics != nil {
		r.Metrics.Forget(Kind, namespace, name)
	}
}

// observeRelease updates the operator's metrics from a status about to be
// written; promotions and rollbacks count on the transition.
func (r *Reconciler) observeRelease(bg *v1alpha1.BlueGreen, next v1alpha1.BlueGreenStatus) {
	if r.Metrics == nil {
		return
	}
	r.Metrics.ObserveRelease(Kind, bg.Namespace, bg.Name, next.Phase, 0)
	if next.Analysis != nil {
		r.Metrics.ObserveJudge(Kind, bg.Namespace, bg.Name, next.Analysis.Judge)
	}
	if bg.Status.AbortedAt == nil && next.AbortedAt != nil {
		r.Metrics.Rollbacks.WithLabelValues(Kind, bg.Namespace, bg.Name, next.AbortReason).Inc()
	}
	if bg.Status.ActiveRevision != next.ActiveRevision && bg.Status.ActiveRevision != "" {
		r.Metrics.Promotions.WithLabelValues(Kind, bg.Namespace, bg.Name).Inc()
	}
}
