package cluster

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestPodDelaysGoIntoThePodReadyAndPodDeleteStagesOnly(t *testing.T) {
	g := NewWithT(t)
	out := string(stagesWithDelays(kwokStages, 2*time.Second, 1500*time.Millisecond))
	ready := out[strings.Index(out, "name: pod-ready"):]
	ready = ready[:strings.Index(ready, "---")]
	g.Expect(ready).To(ContainSubstring("spec:\n  delay:\n    durationMilliseconds: 2000\n  resourceRef:"))
	del := out[strings.Index(out, "name: pod-delete"):]
	g.Expect(del).To(ContainSubstring("spec:\n  delay:\n    durationMilliseconds: 1500\n"))
	g.Expect(strings.Count(out, "durationMilliseconds:")).To(Equal(strings.Count(string(kwokStages), "durationMilliseconds:") + 2))
	g.Expect(stagesWithDelays(kwokStages, 0, 0)).To(Equal(kwokStages))
}
