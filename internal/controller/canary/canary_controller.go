package canary

import (
	"context"
	"time"

	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/controller/release"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/internal/traffic"
	"github.com/sluice-dev/sluice/internal/workload"
)

// Kind is the kind this reconciler serves, for events and metrics.
const Kind = "Canary"

// Reconciler reconciles Canary objects.
type Reconciler struct {
	// Client reads through the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads the Canary itself straight from the API server: a
	// decision must never be taken on a status older than the last one
	// written, which a cache may still hold.
	APIReader client.Reader
	// Reads, when set, serves the Canary from the cache once the cache
	// holds the newest version this process wrote or read, and from the API
	// server otherwise (see release.FreshReader); nil reads every Canary
	// through APIReader.
	Reads *release.FreshReader
	// Recorder emits Kubernetes Events.
	Recorder events.EventRecorder
	// Routers are the traffic routers by name.
	Routers traffic.Registry
	// Analysis runs analysis checks.
	Analysis *analysis.Runner
	// Templates resolves analyses from their templates.
	Templates release.Resolver
	// Hooks runs webhooks and Jobs.
	Hooks *hooks.Runner
	// Metrics are the operator's collectors; nil turns them off.
	Metrics *metrics.Collectors
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=canaries,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=canaries/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=canaries/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods/log,verbs=get
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.istio.io,resources=virtualservices,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Canary one step closer to what its spec and status
// call for: the steps every kind takes, and why status is written first,
// are release.Spine's; what a Canary does in them is its pass.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return release.Spine[*v1alpha1.Canary]{
		Kind: Kind, New: func() *v1alpha1.Canary { return &v1alpha1.Canary{} },
		Client: r.Client, APIReader: r.APIReader, Reads: r.Reads, Recorder: r.Recorder, Hooks: r.Hooks,
		Metrics: r.Metrics, Now: r.Now, HandBack: r.handBack, Admit: r.admit, WriteFailure: r.writeFailure,
	}.Reconcile(ctx, req)
}

// admit resolves the Canary's spec and checks it before anything is
// observed or called: its router, its analysis templates (a template that
// is missing or an argument that does not fit stalls the Canary before a
// release can start on it; a release in flight runs the analysis pinned
// when it started, whatever happened to the template since), its spec, then
// what every release checks (release.Admit) and the target's labels. It
// returns the pass that carries the reconcile on, with the spec's analysis
// resolved, the pins and the router.
func (r *Reconciler) admit(ctx context.Context, c *v1alpha1.Canary) (release.Pass, error) {
	router, err := r.Routers.For(c.Spec.TrafficRouting)
	if err != nil {
		return nil, err
	}
	spec, pins, err := r.Templates.ResolveCanary(ctx, c)
	if err == nil {
		err = release.CheckCanary(&spec)
	}
	if err != nil {
		return nil, err
	}
	target, err := release.Admit(ctx, r.Client, r.Hooks.Policy, c, hooks.OfCanary(c), c.Spec.Service, c.Spec.TargetRef.Name)
	if err == nil && target != nil {
		// Why: the primary's pods carry the target's matchLabels renamed; a
		// target with none, or with a value too long to rename, cannot be
		// told apart from its primary, and only a spec change fixes that.
		_, err = workload.PrimaryPodLabels(target)
	}
	if err != nil {
		return nil, err
	}
	return &pass{r: r, c: c, spec: spec, pins: pins, router: router}, nil
}

// writeFailure writes a Stalled or Waiting failure to the Canary's status,
// with the phase and message derived from it (see release.Spine).
func (r *Reconciler) writeFailure(ctx context.Context, c *v1alpha1.Canary, f release.Failure) error {
	st := *c.Status.DeepCopy()
	st.ObservedGeneration = c.Generation
	f.SetConditions(&st.Conditions, c.Generation, r.now())
	st.Phase, st.Message = rollout.CanaryPhase(st), rollout.DisplayMessage(st.Conditions)
	return release.WriteDecided(ctx, r.Client, c, &c.Status, st, r.observeRelease(c))
}

// handBack is what differs in a Canary's hand-back (see release.Finalize):
// the primary serves; the apex Service, which selects the primary's renamed
// labels, gets the target's matchLabels unless it had a selector of its own
// before Sluice adopted it. The objects Sluice created and still owns (the
// primary, the primary and canary Services) are garbage-collected after.
func (r *Reconciler) handBack(c *v1alpha1.Canary) release.HandBack {
	h := release.HandBack{Conditions: &c.Status.Conditions, Target: c.Spec.TargetRef.Name,
		Serving: workload.PrimaryName(c.Spec.TargetRef.Name), SelectTargetPods: true, Split: traffic.CanarySplit(c)}
	if router, err := r.Routers.For(c.Spec.TrafficRouting); err == nil {
		// Why only a known router: an unknown one wrote nothing that could
		// need handing back.
		h.Router = router
	}
	return h
}

func (r *Reconciler) now() time.Time { return release.Now(r.Now) }

// SetupWithManager registers the reconciler and what it watches: its
// Canarys, the objects they own, and the target Deployments they name.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts ...func(*builder.Builder)) error {
	return release.NewController(mgr, release.Watch{
		Name:    "canary",
		Object:  &v1alpha1.Canary{},
		NewList: func() client.ObjectList { return &v1alpha1.CanaryList{} },
		Target:  func(o client.Object) string { return o.(*v1alpha1.Canary).Spec.TargetRef.Name },
		Routes:  []client.Object{&istionetworking.VirtualService{}, &gatewayv1.HTTPRoute{}},
		Route:   func(o client.Object) string { return traffic.RouteName(o.(*v1alpha1.Canary)) },
	}, r, append([]func(*builder.Builder){watchAutoscalers(mgr.GetClient()),
		release.WatchTemplates(mgr.GetClient(), func() client.ObjectList { return &v1alpha1.CanaryList{} })}, opts...)...)
}
