package cluster

import (
	"bytes"
	"fmt"
	"time"
)

// stagesWithDelays returns kwok's stages with a fixed delay before the
// pod-ready stage (a pod becomes Ready) and the pod-delete stage (a deleted
// pod goes away). A zero delay leaves a stage as it is.
func stagesWithDelays(stages []byte, ready, deleted time.Duration) []byte {
	out := withDelay(stages, "pod-ready", ready)
	return withDelay(out, "pod-delete", deleted)
}

// withDelay inserts spec.delay into the stage named name.
func withDelay(stages []byte, name string, d time.Duration) []byte {
	if d <= 0 {
		return stages
	}
	head := []byte("  name: " + name + "\nspec:\n")
	i := bytes.Index(stages, head)
	if i < 0 {
		return stages
	}
	at := i + len(head)
	delay := fmt.Appendf(nil, "  delay:\n    durationMilliseconds: %d\n", d.Milliseconds())
	out := append(append(append([]byte{}, stages[:at]...), delay...), stages[at:]...)
	return out
}
