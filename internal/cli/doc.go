// Package cli is the kubectl plugin, kubectl-sluice: it lists Canaries and
// BlueGreens, shows where one release stands, and steers it. Its live views
// (`status --watch`, and Watch, the board the sandbox shows) redraw in place
// on a terminal and print one line per change anywhere else.
//
// The plugin never changes a release itself. A command (promote, abort,
// pause, ...) is a merge patch of two annotations, rollouts.sluice.dev/command
// and a fresh rollouts.sluice.dev/command-id; the operator carries it out once
// and records what it did in status.lastCommand. Everything shown comes from
// the object's status, the operator's single source of truth.
//
// The functions here take an io.Writer and a controller-runtime client, so
// tests drive them against a real API server; cmd/kubectl-sluice only builds
// the client from kubectl's flags (--kubeconfig, --context, --namespace).
package cli
