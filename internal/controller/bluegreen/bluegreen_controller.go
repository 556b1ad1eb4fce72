package bluegreen

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
	// Templates resolves analyses from their templates.
	Templates release.Resolver
	// Hooks runs webhooks and Jobs.
	Hooks *hooks.Runner
	// Routers are the traffic routers by name, for BlueGreens with
	// trafficRouting.
	Routers traffic.Registry
	// Metrics are the operator's collectors; nil turns them off.
	Metrics *metrics.Collectors
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=bluegreens,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=bluegreens/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=bluegreens/finalizers,verbs=update

// Reconcile brings one BlueGreen one step closer to what its spec and
// status call for: the steps every kind takes, and why status is written
// first, are release.Spine's; what a BlueGreen does in them is its pass.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return release.Spine[*v1alpha1.BlueGreen]{
		Kind: Kind, New: func() *v1alpha1.BlueGreen { return &v1alpha1.BlueGreen{} },
		Client: r.Client, APIReader: r.APIReader, Recorder: r.Recorder, Hooks: r.Hooks,
		Metrics: r.Metrics, Now: r.Now, HandBack: r.handBack, Admit: r.admit, WriteFailure: r.writeFailure,
	}.Reconcile(ctx, req)
}

// admit resolves the BlueGreen's spec and checks it before anything is
// observed or called (see the Canary reconciler's admit): its analysis
// templates, its spec, its router (nil without trafficRouting), then what
// every release checks (release.Admit). It returns the pass that carries
// the reconcile on, with the spec's analyses resolved, the pins and the
// router.
func (r *Reconciler) admit(ctx context.Context, bg *v1alpha1.BlueGreen) (release.Pass, error) {
	spec, pins, err := r.Templates.ResolveBlueGreen(ctx, bg)
	if err == nil {
		err = release.CheckBlueGreen(&spec)
	}
	if err != nil {
		return nil, err
	}
	router, err := r.routerFor(bg)
	if err == nil {
		_, err = release.Admit(ctx, r.Client, r.Hooks.Policy, bg, hooks.OfBlueGreen(bg), bg.Spec.Service, bg.Spec.TargetRef.Name)
	}
	if err != nil {
		return nil, err
	}
	return &pass{r: r, bg: bg, spec: spec, pins: pins, router: router}, nil
}

// pass is one reconcile of an admitted BlueGreen (see release.Pass).
type pass struct {
	r  *Reconciler
	bg *v1alpha1.BlueGreen
	// spec is the BlueGreen's spec with its analyses resolved; pins are
	// kept in status for the revision the decision leaves in flight.
	spec   v1alpha1.BlueGreenSpec
	pins   []v1alpha1.PinnedAnalysis
	router traffic.Router
	obs    *observation
	d      rollout.BlueGreenDecision
}

// Hooks are the BlueGreen's hook runs; those of the preview revision make
// progress.
func (p *pass) Hooks() release.HookRuns {
	return release.HookRuns{Runs: p.bg.Status.Hooks, Revision: p.bg.Status.PreviewRevision, Spec: hooks.OfBlueGreen(p.bg)}
}

// Decide runs NextBlueGreen and persists its status before anything acts on
// it, deciding again on a fresh read when the write meets a conflict (see
// release.PersistDecision). The commands are read again with the object;
// the route read back is kept in status.
func (p *pass) Decide(ctx context.Context, progressed []v1alpha1.HookStatus) (rollout.Outcome, error) {
	bg, obs := p.bg, p.obs
	obs.Hooks = progressed
	err := release.PersistDecision(ctx, p.r.Client, p.r.APIReader, bg, &bg.Status, func() v1alpha1.BlueGreenStatus {
		obs.Commands = release.PendingCommands(bg)
		p.d = rollout.NextBlueGreen(p.spec, bg.Status, obs.BlueGreenObserved)
		p.d.Status.PinnedAnalyses = analysis.PinsAt(p.pins, p.d.Status.PreviewRevision)
		p.d.Status.Route = obs.route
		return p.d.Status
	}, p.r.observeRelease(bg))
	return p.d.Outcome, err
}

// writeFailure writes a Stalled or Waiting failure to the BlueGreen's status,
// with the phase and message derived from it (see release.Spine).
func (r *Reconciler) writeFailure(ctx context.Context, bg *v1alpha1.BlueGreen, f release.Failure) error {
	st := *bg.Status.DeepCopy()
	st.ObservedGeneration = bg.Generation
	f.SetConditions(&st.Conditions, bg.Generation, r.now())
	st.Phase, st.Message = rollout.BlueGreenPhase(st), rollout.DisplayMessage(st.Conditions)
	return release.WriteDecided(ctx, r.Client, bg, &bg.Status, st, r.observeRelease(bg))
}

// handBack is what differs in a BlueGreen's hand-back (see
// release.Finalize): the active color serves; the active Service gets back
// the selector it had before Sluice adopted it, or the user's pods; with
// trafficRouting its route is handed back too (a named route is the user's
// and stays). The colors and the preview and color Services, which Sluice
// created and owns, are garbage-collected after; nothing else is.
func (r *Reconciler) handBack(bg *v1alpha1.BlueGreen) release.HandBack {
	h := release.HandBack{Conditions: &bg.Status.Conditions, Target: bg.Spec.TargetRef.Name,
		Split: traffic.BlueGreenSplit(bg)}
	if active := bg.Status.ActiveColor; active != "" {
		h.Serving = workload.ColorName(bg.Spec.TargetRef.Name, active)
	}
	if router, err := r.routerFor(bg); err == nil && router != nil {
		// Why only a known router: without trafficRouting, or with an
		// unknown router, nothing was written that could need handing back.
		h.Router = router
	}
	return h
}

func (r *Reconciler) now() time.Time { return release.Now(r.Now) }

// SetupWithManager registers the reconciler and what it watches: its
// BlueGreens, the objects they own, and the target Deployments they name.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts ...func(*builder.Builder)) error {
	return release.NewController(mgr, release.Watch{
		Name:    "bluegreen",
		Object:  &v1alpha1.BlueGreen{},
		NewList: func() client.ObjectList { return &v1alpha1.BlueGreenList{} },
		Target:  func(o client.Object) string { return o.(*v1alpha1.BlueGreen).Spec.TargetRef.Name },
		Routes:  []client.Object{&istionetworking.VirtualService{}, &gatewayv1.HTTPRoute{}},
		Route:   routeName,
	}, r, append([]func(*builder.Builder){
		release.WatchTemplates(mgr.GetClient(), func() client.ObjectList { return &v1alpha1.BlueGreenList{} })}, opts...)...)
}

// observeRelease updates the operator's metrics from a status of bg just
// written (see release.ObserveRelease).
func (r *Reconciler) observeRelease(bg *v1alpha1.BlueGreen) func(prev, next v1alpha1.BlueGreenStatus) {
	released := func(st *v1alpha1.BlueGreenStatus) release.Released {
		return release.Released{Phase: st.Phase, Stable: st.ActiveRevision, Status: &st.ReleaseStatus}
	}
	return func(prev, next v1alpha1.BlueGreenStatus) {
		release.ObserveRelease(r.Metrics, Kind, bg.Namespace, bg.Name, released(&prev), released(&next))
	}
}

// routeName is the name of the route object a BlueGreen writes to, or ""
// without trafficRouting: the route watch maps a change of it (a weight
// written, a status from its implementation, a drift) to the BlueGreen.
func routeName(o client.Object) string {
	bg := o.(*v1alpha1.BlueGreen)
	if bg.Spec.TrafficRouting == nil {
		return ""
	}
	return traffic.SplitRouteName(traffic.BlueGreenSplit(bg))
}
