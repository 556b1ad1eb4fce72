// Command manager runs the Sluice operator: it wires the Canary and BlueGreen
// reconcilers, the traffic routers and the metric providers into a
// controller-runtime manager. Nothing but wiring lives here.
package main

import (
	"flag"
	"os"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/internal/operator"
	"github.com/sluice-dev/sluice/internal/outbound"
)

func main() {
	var (
		metricsAddr    string
		probeAddr      string
		leaderElection bool
		namespaces     string
		allowCIDRs     string
		denyCIDRs      string
		hookAccounts   string
		ownNamespace   string
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the metrics endpoint binds to; 0 turns it off.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.BoolVar(&leaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&namespaces, "watch-namespaces", "", "Comma-separated namespaces to watch and reconcile; empty watches every namespace.")
	flag.StringVar(&allowCIDRs, "outbound-allow-cidrs", "", "Comma-separated CIDRs that webhooks and metric providers may reach although the outbound policy refuses them by default (loopback, link-local, cloud metadata).")
	flag.StringVar(&denyCIDRs, "outbound-deny-cidrs", "", "Comma-separated CIDRs that webhooks and metric providers may never reach; they win over --outbound-allow-cidrs.")
	flag.StringVar(&hookAccounts, "hook-service-accounts", "", "Comma-separated ServiceAccount names a Job hook may run as, besides the namespace's default one.")
	flag.StringVar(&ownNamespace, "operator-namespace", os.Getenv("POD_NAMESPACE"), "The operator's own namespace, where no Job hook runs; defaults to $POD_NAMESPACE.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 operator.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
		LeaderElection:         leaderElection,
		LeaderElectionID:       "sluice.rollouts.sluice.dev",
		Cache:                  cache.Options{DefaultNamespaces: watchNamespaces(namespaces)},
	})
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

	allow, err := outbound.ParsePrefixes(allowCIDRs)
	if err != nil {
		log.Error(err, "Invalid --outbound-allow-cidrs")
		os.Exit(1)
	}
	deny, err := outbound.ParsePrefixes(denyCIDRs)
	if err != nil {
		log.Error(err, "Invalid --outbound-deny-cidrs")
		os.Exit(1)
	}
	if err := operator.Setup(mgr, operator.Options{
		Outbound: outbound.Policy{Allow: allow, Deny: deny},
		Hooks:    hooks.JobPolicy{ServiceAccounts: splitList(hookAccounts), OperatorNamespace: ownNamespace},
	}); err != nil {
		log.Error(err, "Unable to set up the reconcilers")
		os.Exit(1)
	}

	log.Info("Starting the manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
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
