package release

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sluice-dev/sluice/internal/rollout"
)

// Execute carries out a decision's actions in the order given, each through
// do (one idempotent write, or none when the world already matches), logs
// each with keysAndValues (the revision, step, weight it serves), and stops
// at the first error, returned with the action that failed.
func Execute[A rollout.Action](ctx context.Context, actions []A, do func(A) error, keysAndValues ...any) error {
	log := ctrl.LoggerFrom(ctx)
	for _, a := range actions {
		log.V(1).Info("Carrying out action", append([]any{"action", a.String()}, keysAndValues...)...)
		if err := do(a); err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
	}
	return nil
}
