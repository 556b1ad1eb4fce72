// Package faults is Sluice's fault-injection suite: the sandbox's releases
// (test/sandbox: the local control plane, the mesh emulator's live traffic,
// a real Prometheus) run while the operator, a separate process built from
// cmd/, is killed with SIGKILL at random moments and started again. Every
// release must still end as it should, with the sandbox's invariants
// checked every 100 ms: the canary weight never above the step status had
// reached, back to 0 at the end, a blue-green Service flipping only on
// promotion, and the live traffic afterwards served by the right version.
//
// `make test` runs a reduced form (at least 30 kills); `make test-faults`
// runs the full one (at least 200), selected by SLUICE_FAULTS=full.
package faults
