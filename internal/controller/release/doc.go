// Package release holds the reads and writes the Canary and BlueGreen
// reconcilers share: the spine of their reconcile (Spine: read, hand back
// or add the finalizer, admit, observe, carry on hook runs, decide and
// persist, emit, execute, requeue), reading a Deployment into the state
// machine's terms, reading a manual command, progressing hook runs, writing
// status once, and emitting the state machine's events. It is shell code:
// it talks to the API server and decides nothing.
package release
