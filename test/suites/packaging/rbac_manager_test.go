package packaging

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/operator"
	"github.com/sluice-dev/sluice/internal/outbound"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// TestOperatorRunsWithTheChartsRBAC runs Sluice, wired as cmd/main.go wires
// it and with leader election on, as the chart's ServiceAccount (the API
// server's RBAC authorizer decides every request) and checks that it
// becomes leader, brings a Canary to Ready, and takes the paths that need
// the rest of the role (see exerciseReleases): the rendered RBAC is not only
// free of wildcards but enough. With watchNamespaces, a Canary outside the
// listed namespaces is left alone.
func TestOperatorRunsWithTheChartsRBAC(t *testing.T) {
	t.Parallel()
	env := apiServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline.Scale(3*time.Minute))
	defer cancel()
	// envtest has no Deployment controller or kubelet; the test's stand-in,
	// running as an administrator, plays them.
	clusterCtx, stopCluster := context.WithCancel(ctx)
	defer stopCluster()
	if _, err := env.StartCluster(clusterCtx); err != nil {
		t.Fatal(err)
	}

	t.Run("cluster-wide", func(t *testing.T) {
		runWithChartRBAC(ctx, t, env, "rbac-cluster", nil, []string{"apps-a"}, nil)
	})
	t.Run("listed namespaces", func(t *testing.T) {
		runWithChartRBAC(ctx, t, env, "rbac-listed", []string{"apps-b", "apps-c"}, []string{"apps-b", "apps-c"}, []string{"apps-d"})
	})
}

// runWithChartRBAC installs the chart's ServiceAccount and RBAC as release
// rel in namespace rel, runs the operator as that ServiceAccount, and checks
// that Canaries in served namespaces become Ready, those in ignored ones are
// not touched, and releases in the first served namespace go through.
func runWithChartRBAC(parent context.Context, t *testing.T, env *apiserver.Env, rel string, watch, served, ignored []string) {
	ctx, cancel := context.WithTimeout(parent, deadline.Scale(80*time.Second))
	defer cancel()
	ensureNamespace(ctx, t, env.Client, rel)
	for _, ns := range append(slices.Clone(served), ignored...) {
		ensureNamespace(ctx, t, env.Client, ns)
		createRelease(ctx, t, env.Client, ns)
	}
	args := []string{"template", rel, "charts/sluice", "--namespace", rel}
	if len(watch) > 0 {
		args = append(args, "--set", "watchNamespaces={"+strings.Join(watch, ",")+"}")
	}
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decode([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var sa string
	for _, o := range objs {
		switch o.GetKind() {
		case "ServiceAccount":
			sa = o.GetName()
		case "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
		default:
			continue
		}
		if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), fieldOwner, client.ForceOwnership); err != nil {
			t.Fatalf("apply %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	if sa == "" {
		t.Fatal("the chart rendered no ServiceAccount")
	}

	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + rel + ":" + sa,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + rel, "system:authenticated"},
	}
	log := &operatorLog{}
	mgr, err := newOperator(cfg, rel, watch, log.Logger())
	if err != nil {
		t.Fatal(err)
	}
	mgrCtx, stop := context.WithCancel(ctx)
	errs := make(chan error, 1)
	go func() { errs <- mgr.Start(mgrCtx) }()
	defer func() {
		stop()
		if err := <-errs; err != nil {
			t.Errorf("the operator stopped with an error: %v", err)
		}
	}()

	select {
	case <-mgr.Elected():
	case err := <-errs:
		errs <- err
		t.Fatalf("the operator stopped before it was elected leader: %v", err)
	case <-ctx.Done():
		t.Fatal("the operator was never elected leader: can it read and write its Lease?")
	}
	for _, ns := range served {
		if err := waitReady(ctx, env.Client, ns, errs); err != nil {
			t.Errorf("namespace %s: %v\n%s", ns, err, log.Forbidden())
		}
	}
	for _, ns := range ignored {
		c := &v1alpha1.Canary{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, c); err != nil {
			t.Fatal(err)
		}
		if len(c.Finalizers) > 0 || len(c.Status.Conditions) > 0 {
			t.Errorf("the Canary in %s, a namespace not listed, was reconciled: finalizers %v, conditions %v", ns, c.Finalizers, c.Status.Conditions)
		}
	}
	if !t.Failed() {
		exerciseReleases(ctx, t, env.Client, served[0], log)
	}
}

// newOperator builds a manager as cmd/main.go does (leader election on,
// the cache limited to the watched namespaces), on cfg, logging to log.
func newOperator(cfg *rest.Config, leaseNamespace string, watch []string, log logr.Logger) (ctrl.Manager, error) {
	var namespaces map[string]cache.Config
	for _, ns := range watch {
		if namespaces == nil {
			namespaces = map[string]cache.Config{}
		}
		namespaces[ns] = cache.Config{}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  operator.NewScheme(),
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          true,
		LeaderElectionID:        "sluice.rollouts.sluice.dev",
		LeaderElectionNamespace: leaseNamespace,
		Cache:                   cache.Options{DefaultNamespaces: namespaces},
		Controller:              config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:                  log,
	})
	if err != nil {
		return nil, fmt.Errorf("create the manager: %w", err)
	}
	err = operator.Setup(mgr, operator.Options{
		Metrics: metrics.New(),
		// The test's Prometheus stand-in listens on loopback.
		Outbound: outbound.Policy{Allow: outbound.Loopback()},
		Controller: func(b *builder.Builder) {
			// A watch the RBAC forbids never syncs: fail in seconds, not minutes.
			b.WithOptions(controller.Options{SkipNameValidation: ptr.To(true), CacheSyncTimeout: deadline.Scale(20 * time.Second)})
		},
	})
	return mgr, err
}

// createRelease creates a Deployment and a Canary for it in ns.
func createRelease(ctx context.Context, t testing.TB, c client.Client, ns string) {
	t.Helper()
	d, canary := releaseObjects(ns, "podinfo")
	for _, o := range []client.Object{d, canary} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("create %T in %s: %v", o, ns, err)
		}
	}
}

// releaseObjects returns a Deployment named name and a Canary for it.
func releaseObjects(ns, name string) (*appsv1.Deployment, *v1alpha1.Canary) {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "podinfo", Image: "podinfo:6.0.0", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
	}
	canary := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.CanarySpec{
			TargetRef:               v1alpha1.TargetRef{Name: name},
			Service:                 v1alpha1.ServicePort{Port: 9898},
			TrafficRouting:          v1alpha1.TrafficRouting{Istio: &v1alpha1.IstioRouting{}},
			Steps:                   []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](10)}},
			ProgressDeadlineSeconds: 60,
		},
	}
	return d, canary
}

// waitReady waits until the Canary in ns is Ready with a stable revision
// and Sluice has recorded an Event for it.
func waitReady(ctx context.Context, c client.Client, ns string, errs chan error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	canary := &v1alpha1.Canary{}
	for {
		select {
		case err := <-errs:
			errs <- err
			return fmt.Errorf("the operator stopped: %w", err)
		case <-ctx.Done():
			return errors.Join(errors.New("the Canary never became Ready (missing permissions show in the operator's log as \"forbidden\")"),
				fmt.Errorf("last status: %+v", canary.Status))
		case <-tick.C:
		}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, canary); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(canary.Status.Conditions, v1alpha1.ConditionReady) || canary.Status.StableRevision == "" {
			continue
		}
		events := &eventsv1.EventList{}
		if err := c.List(ctx, events, client.InNamespace(ns)); err != nil {
			return err
		}
		if slices.ContainsFunc(events.Items, func(e eventsv1.Event) bool { return e.ReportingController == "sluice" }) {
			return nil
		}
	}
}
