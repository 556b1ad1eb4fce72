// Package cli is the kubectl plugin, kubectl-sluice: it lists Canaries and
// BlueGreens, shows where one release stands, and steers it. Its live views
// (`status --watch`, and Watch, the board the sandbox shows) redraw in place
// on a terminal and print one line per change anywhere else.
//
// The plugin never changes a release itself. A command (promote, abort,
// pause, ...) is a merge patch of the command's own annotation,
// rollouts.sluice.dev/command.<name>, set to a fresh command ID, and of its
// .by annotation naming who gives it; the operator carries it out once and
// records what it did in status.commands. Everything shown comes from
// the object's status, the operator's single source of truth.
//
// The functions here take an io.Writer and a controller-runtime client, so
// tests drive them against a real API server; cmd/kubectl-sluice only builds
// the client from kubectl's flags (--kubeconfig, --context, --namespace).
package cli
