// Package gitops tests what GitOps and monitoring tools read from Sluice's
// objects and metrics, as they ship in config/: the Argo CD health checks and
// actions (Lua, run in gopher-lua, the interpreter Argo CD embeds), kstatus
// (the library Flux and kpt compute health with) and the Grafana dashboard's
// queries against the collectors the operator registers.
//
// The Canary and BlueGreen objects under test are built by running the real
// state machines (rollout.Next and rollout.NextBlueGreen) against a small
// simulated cluster, so that every state is one Sluice actually writes. The
// package has no non-test code besides this file; it needs no network and no
// API server.
package gitops
