package gitops

import (
	"testing"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// TestKstatusReadsEveryState computes each object's status the way Flux's
// health checks do (sigs.k8s.io/cli-utils kstatus, the generic rules: an
// observedGeneration behind metadata.generation is InProgress, then
// Reconciling=True is InProgress, Stalled=True is Failed, anything else
// Current).
func TestKstatusReadsEveryState(t *testing.T) {
	for _, s := range allStates(t) {
		t.Run(s.name, func(t *testing.T) {
			res, err := status.Compute(toUnstructured(t, s.obj))
			if err != nil {
				t.Fatalf("kstatus: %v", err)
			}
			if string(res.Status) != s.kstatus {
				t.Fatalf("kstatus reads %s (%q), want %s", res.Status, res.Message, s.kstatus)
			}
		})
	}
}
