package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/analysis/prometheus"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// Env is what the commands need from their surroundings. cmd/kubectl-sluice
// builds it from kubectl's flags; tests build it from the test API server.
type Env struct {
	// Out receives what the commands print.
	Out io.Writer
	// Client returns a client for the cluster the flags select.
	Client func() (client.Client, error)
	// Namespace returns the namespace of --namespace or of the kubeconfig's
	// context.
	Namespace func() (string, error)
	// Terminal reports whether Out is a terminal, for the live views
	// (`status --watch`, `watch`).
	Terminal bool
}

// NewRootCommand returns the kubectl-sluice command tree. Global flags such
// as kubectl's are added by the caller.
func NewRootCommand(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "kubectl-sluice",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl sluice"},
		Short:         "Watch and steer Sluice releases (Canary, BlueGreen)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newGetCommand(env), newStatusCommand(env), newWatchCommand(env), newAnalysisCommand(env))
	for _, c := range []struct {
		cmd   v1alpha1.Command
		short string
	}{
		{v1alpha1.CommandPromote, "End the current step or pause now (--full: skip every remaining step and promote)"},
		{v1alpha1.CommandAbort, "Roll the release back now"},
		{v1alpha1.CommandPause, "Hold the release where it is"},
		{v1alpha1.CommandResume, "Lift a pause"},
		{v1alpha1.CommandRetry, "Start a rolled-back revision again"},
	} {
		root.AddCommand(newActionCommand(env, c.cmd, c.short))
	}
	return root
}

// resolve returns the client and namespace the flags select.
func (e Env) resolve() (client.Client, string, error) {
	c, err := e.Client()
	if err != nil {
		return nil, "", fmt.Errorf("connect to the cluster: %w", err)
	}
	ns, err := e.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("read the namespace: %w", err)
	}
	return c, ns, nil
}

func newGetCommand(env Env) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "get",
		Short: "List canaries and blue-greens with their phase, traffic and step",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ns, err := env.resolve()
			if err != nil {
				return err
			}
			return Get(cmd.Context(), env.Out, c, GetOptions{Namespace: ns, AllNamespaces: all, Now: time.Now()})
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list releases in every namespace")
	return cmd
}

func newStatusCommand(env Env) *cobra.Command {
	var (
		kind     string
		watch    bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show where one release stands: phase, traffic, step, metrics, judge, conditions, decisions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := ParseKind(kind)
			if err != nil {
				return err
			}
			c, ns, err := env.resolve()
			if err != nil {
				return err
			}
			return Status(cmd.Context(), env.Out, c, StatusOptions{
				Namespace: ns, Name: args[0], Kind: k, Watch: watch, Terminal: env.Terminal, Interval: interval,
			})
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "canary or bluegreen, when both kinds use NAME")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "re-print on every change until interrupted")
	cmd.Flags().DurationVar(&interval, "interval", 2*time.Second, "how often --watch polls")
	return cmd
}

func newAnalysisCommand(env Env) *cobra.Command {
	var kind, output, address string
	cmd := &cobra.Command{
		Use:   "analysis NAME",
		Short: "Run a release's analysis queries now: each value against its threshold, no data with a likely cause, the judge's counters",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := ParseKind(kind)
			if err != nil {
				return err
			}
			if output != "" && output != "json" {
				return fmt.Errorf("unknown --output %q: use json, or leave it out for a table", output)
			}
			c, ns, err := env.resolve()
			if err != nil {
				return err
			}
			return Analysis(cmd.Context(), env.Out, c, AnalysisOptions{
				Namespace: ns, Name: args[0], Kind: k, JSON: output == "json", Address: address,
				// The plugin runs as its user, on their machine: a
				// port-forwarded Prometheus on localhost is fine.
				Providers: analysis.Registry{v1alpha1.ProviderPrometheus: prometheus.Factory(
					prometheus.WithOutbound(outbound.Policy{Allow: outbound.Loopback()}))},
				Credentials: analysis.SecretCredentials(c, prometheus.CredentialsFromSecret),
			})
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "canary or bluegreen, when both kinds use NAME")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json for a machine-readable report")
	cmd.Flags().StringVar(&address, "prometheus-address", "", "send every query to this Prometheus instead of the "+
		"spec's (e.g. http://localhost:9090 after kubectl port-forward); needed when the analysis names no provider")
	return cmd
}

func newWatchCommand(env Env) *cobra.Command {
	var (
		all      bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "watch [NAME...]",
		Short: "Watch releases live: weight, step, metrics, judge and events of every release (or those named)",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := env.resolve()
			if err != nil {
				return err
			}
			if all {
				ns = ""
			}
			return Watch(cmd.Context(), env.Out, c, WatchOptions{
				Namespace: ns, Names: args, Terminal: env.Terminal, Interval: interval,
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "watch releases in every namespace")
	cmd.Flags().DurationVar(&interval, "interval", 2*time.Second, "how often to poll")
	return cmd
}

func newActionCommand(env Env, action v1alpha1.Command, short string) *cobra.Command {
	var (
		kind     string
		full     bool
		override bool
		wait     time.Duration
	)
	cmd := &cobra.Command{
		Use:   string(action) + " NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := ParseKind(kind)
			if err != nil {
				return err
			}
			c, ns, err := env.resolve()
			if err != nil {
				return err
			}
			sent := action
			switch {
			case override:
				sent = v1alpha1.CommandPromoteOverride
			case full:
				sent = v1alpha1.CommandPromoteFull
			}
			return SendCommand(cmd.Context(), env.Out, c, sent, CommandOptions{
				Namespace: ns, Name: args[0], Kind: k, Wait: wait, Now: time.Now(),
			})
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "canary or bluegreen, when both kinds use NAME")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the operator to carry the command out (e.g. 30s)")
	if action == v1alpha1.CommandPromote {
		cmd.Flags().BoolVar(&full, "full", false, "skip every remaining step and promote")
		cmd.Flags().BoolVar(&override, "override-failed-analysis", false, "promote fully although a check of "+
			"the release failed (refused otherwise); recorded in history with your user name")
	}
	return cmd
}

// Execute runs the command tree with ctx, so that Ctrl-C ends a watch.
func Execute(ctx context.Context, root *cobra.Command) error {
	return root.ExecuteContext(ctx)
}
