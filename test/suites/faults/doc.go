// Package faults is Sluice's fault-injection suite: the sandbox's releases
// (test/framework/sandbox: the local control plane, the mesh emulator's live
// traffic, a real Prometheus) run, a Canary line and a BlueGreen line side by
// side, while faults are injected on purpose:
//
//   - kills: the operator, a separate process built from cmd/, is killed
//     with SIGKILL every 2-7 s and started again 0.2-2.2 s later; from a
//     point in the run on it runs as two replicas electing a leader, and
//     each kill hits the leader (a failover, whose takeover is measured);
//   - conflicts: a stand-in writer updates the release objects' annotations
//     and status every 100-600 ms with resourceVersion-guarded writes, so
//     Sluice's status writes are refused with 409s at random points (the
//     suite counts them from the operator's client metrics);
//   - a Prometheus outage: the real server stopped mid-analysis, started
//     again later;
//   - drift: a GitOps stand-in reverts the Canary's route weights mid-step
//     and at rest, and the suite measures how long Sluice takes to put
//     them back.
//
// Every release must still end as it should, and invariants are checked
// continuously (every 100 ms): the canary weight never above the step
// status had reached and back to 0 at the end, never rising after a
// rollback; a blue-green Service flipping only on promotion; the live
// traffic afterwards served by the right version; a Canary's steps taken
// in order, none repeated or skipped, across kills and failovers; during
// the outage nothing rolls back, and nothing moves once a check could not
// be run; afterwards a release paused for the provider stays paused until
// it is resumed, as docs/canary.md says.
//
// `make test` runs a reduced form (at least 30 kills, a 30 s outage);
// `make test-faults` runs the full one (at least 200 kills, a 3-minute
// outage), selected by SLUICE_FAULTS=full.
package faults
