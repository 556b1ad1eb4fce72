// Command manager runs the Sluice operator: it wires the Canary and BlueGreen
// reconcilers, the traffic routers and the metric providers into a
// controller-runtime manager. Nothing but wiring lives here.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/operator"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// flags are the manager's command-line settings.
type flags struct {
	metricsAddr, probeAddr string
	namespaces             string
	workers                int
	leaderElection         bool
	leaderNamespace        string
	leaseDuration          time.Duration
	renewDeadline          time.Duration
	retryPeriod            time.Duration
	allowCIDRs, denyCIDRs  string
	hookAccounts           string
	ownNamespace           string
	defaultAddress         string
	defaultSecret          string
	zap                    zap.Options
}

func parseFlags() *flags {
	f := &flags{}
	flag.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "Address the metrics endpoint binds to; 0 turns it off.")
	flag.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.StringVar(&f.namespaces, "watch-namespaces", "", "Comma-separated namespaces to watch and reconcile; empty watches every namespace.")
	flag.IntVar(&f.workers, "workers", operator.DefaultWorkers,
		"Release objects of one kind reconciled at once; a slow one (a hook, a query) then holds one worker, not all.")
	flag.BoolVar(&f.leaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&f.leaderNamespace, "leader-elect-namespace", "",
		"Namespace of the leader election Lease. Empty: the namespace the manager runs in (required when it runs outside a cluster).")
	flag.DurationVar(&f.leaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long a replica waits after the leader stops renewing before it takes over.")
	flag.DurationVar(&f.renewDeadline, "leader-elect-renew-deadline", 10*time.Second,
		"How long the leader keeps trying to renew its Lease before it steps down.")
	flag.DurationVar(&f.retryPeriod, "leader-elect-retry-period", 2*time.Second,
		"How often replicas try to acquire or renew the Lease.")
	flag.StringVar(&f.allowCIDRs, "outbound-allow-cidrs", "", "Comma-separated CIDRs that webhooks and metric providers may reach although the outbound policy refuses them by default (loopback, link-local, cloud metadata).")
	flag.StringVar(&f.denyCIDRs, "outbound-deny-cidrs", "", "Comma-separated CIDRs that webhooks and metric providers may never reach; they win over --outbound-allow-cidrs.")
	flag.StringVar(&f.hookAccounts, "hook-service-accounts", "", "Comma-separated ServiceAccount names a Job hook may run as, besides the namespace's default one.")
	flag.StringVar(&f.ownNamespace, "operator-namespace", os.Getenv("POD_NAMESPACE"), "The operator's own namespace, where no Job hook runs; defaults to $POD_NAMESPACE.")
	flag.StringVar(&f.defaultAddress, "default-prometheus-address", "",
		"Prometheus base URL for analyses that name no provider (e.g. http://prometheus.monitoring:9090); empty: such an analysis stalls its release.")
	flag.StringVar(&f.defaultSecret, "default-prometheus-secret", "",
		"Secret in the operator's namespace with credentials for --default-prometheus-address (labelled rollouts.sluice.dev/provider-credentials=true).")
	f.zap.BindFlags(flag.CommandLine)
	flag.Parse()
	return f
}

// managerOptions turns the flags into the manager's options. The leader
// releases its Lease when it stops, so a rolling update hands over at once
// rather than after a lease duration.
func managerOptions(f *flags) ctrl.Options {
	return ctrl.Options{
		Scheme:                        operator.NewScheme(),
		Metrics:                       metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:        f.probeAddr,
		LeaderElection:                f.leaderElection,
		LeaderElectionID:              "sluice.rollouts.sluice.dev",
		LeaderElectionNamespace:       f.leaderNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &f.leaseDuration,
		RenewDeadline:                 &f.renewDeadline,
		RetryPeriod:                   &f.retryPeriod,
		Controller:                    config.Controller{MaxConcurrentReconciles: max(f.workers, 1)},
		Cache:                         operator.CacheOptions(watchNamespaces(f.namespaces)),
	}
}

func main() {
	f := parseFlags()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&f.zap)))
	log := ctrl.Log.WithName("setup")
	// The latency of the operator's API requests, next to their count: what
	// a reconcile waits on when many releases step at once.
	ctrlmetrics.RegisterRESTClientMetrics(ctrlmetrics.MetricRequestLatency)

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), managerOptions(f))
	if err != nil {
		log.Error(err, "Unable to create the manager")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "Unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "Unable to set up the readiness check")
		os.Exit(1)
	}

	opts, err := operatorOptions(f)
	if err != nil {
		log.Error(err, "Invalid flags")
		os.Exit(1)
	}
	if err := operator.Setup(mgr, opts); err != nil {
		log.Error(err, "Unable to set up the reconcilers")
		os.Exit(1)
	}

	log.Info("Starting the manager", "workers", f.workers, "leaderElection", f.leaderElection)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}

// operatorOptions turns the flags into Sluice's own options: the outbound
// policy and the Job hook policy.
func operatorOptions(f *flags) (operator.Options, error) {
	allow, err := outbound.ParsePrefixes(f.allowCIDRs)
	if err != nil {
		return operator.Options{}, fmt.Errorf("--outbound-allow-cidrs: %w", err)
	}
	deny, err := outbound.ParsePrefixes(f.denyCIDRs)
	if err != nil {
		return operator.Options{}, fmt.Errorf("--outbound-deny-cidrs: %w", err)
	}
	def, err := defaultProvider(f)
	if err != nil {
		return operator.Options{}, err
	}
	return operator.Options{
		Outbound:        outbound.Policy{Allow: allow, Deny: deny},
		Hooks:           hooks.JobPolicy{ServiceAccounts: splitList(f.hookAccounts), OperatorNamespace: f.ownNamespace},
		DefaultProvider: def,
	}, nil
}

// defaultProvider turns the --default-prometheus-* flags into the
// operator-wide provider; nil without an address.
func defaultProvider(f *flags) (*analysis.DefaultProvider, error) {
	if f.defaultAddress == "" {
		if f.defaultSecret != "" {
			return nil, fmt.Errorf("--default-prometheus-secret needs --default-prometheus-address")
		}
		return nil, nil
	}
	if u, err := url.Parse(f.defaultAddress); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--default-prometheus-address %q must be an http:// or https:// URL", f.defaultAddress)
	}
	d := &analysis.DefaultProvider{
		Spec:            v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: f.defaultAddress},
		SecretNamespace: f.ownNamespace,
	}
	if f.defaultSecret != "" {
		if f.ownNamespace == "" {
			return nil, fmt.Errorf("--default-prometheus-secret needs --operator-namespace (or $POD_NAMESPACE)")
		}
		d.Spec.SecretRef = &corev1.LocalObjectReference{Name: f.defaultSecret}
	}
	return d, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(flagValue string) []string {
	var out []string
	for _, item := range strings.Split(flagValue, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// watchNamespaces turns --watch-namespaces into the cache's namespaces; nil
// (every namespace) when the flag is empty.
func watchNamespaces(flagValue string) map[string]cache.Config {
	var out map[string]cache.Config
	for _, ns := range strings.Split(flagValue, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			if out == nil {
				out = map[string]cache.Config{}
			}
			out[ns] = cache.Config{}
		}
	}
	return out
}
