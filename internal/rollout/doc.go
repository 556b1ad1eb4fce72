// Package rollout holds Sluice's release state machines as pure functions.
//
// A reconciler reads the world into an Observed value, calls Next with the
// object's spec and status, then carries out the returned Actions, emits the
// returned Events and patches the returned Status once. Nothing here reads a
// clock, talks to the API server or starts a goroutine: everything arrives in
// the arguments, so the same code drives the operator, the sandbox and the
// decision simulator, and a table of inputs and outputs tests it completely.
//
// Status is the only memory. Time is gated on timestamps kept in status
// (stepStartedAt, pausedAt, promotingAt, abortedAt) compared with
// Observed.Now; what is left to wait comes back as RequeueAfter. Feeding a
// decision's Status back with the same Observed changes nothing, so a
// reconcile replayed after a crash, or by a restarted operator, is harmless.
//
// The shell decides nothing of its own: besides Next and NextBlueGreen, the
// pure functions here say which pods a Canary's apex Service selects
// (CanaryApex), what a BlueGreen's Services select and which color is new
// (BlueGreenServiceSelectors, BlueGreenNewColor), and how a release is shown
// (display.go: the step or stage, the phase, the message), which kubectl
// sluice reads from here rather than deriving again.
//
// Files: canary*.go hold the Canary machine, bluegreen*.go the BlueGreen one;
// release_*.go the rules both share; analysis.go (applying a check's results
// to AnalysisStatus and reading a verdict from it), conditions.go and
// history.go are shared by both.
package rollout
