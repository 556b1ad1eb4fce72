// Command kubectl-sluice is the kubectl plugin for Sluice: `kubectl sluice
// get|status|promote|abort|pause|resume|retry`. It only wires kubectl's
// flags to internal/cli, where the commands live.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/cli"
	"github.com/sluice-dev/sluice/internal/operator"
)

func main() {
	flags := genericclioptions.NewConfigFlags(true)
	env := cli.Env{
		Out: os.Stdout,
		Client: func() (client.Client, error) {
			cfg, err := flags.ToRESTConfig()
			if err != nil {
				return nil, err
			}
			return client.New(cfg, client.Options{Scheme: operator.NewScheme()})
		},
		Namespace: func() (string, error) {
			ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
			return ns, err
		},
		Terminal: isTerminal(os.Stdout),
	}
	root := cli.NewRootCommand(env)
	flags.AddFlags(root.PersistentFlags())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Execute(ctx, root)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
