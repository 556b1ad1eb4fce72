package cli_test

import (
	"bytes"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/cli"
)

// fields splits the table's lines into columns.
func fields(out string) [][]string {
	var rows [][]string
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

var _ = Describe("get", func() {
	It("lists canaries and blue-greens of the namespace with phase, traffic, step, ready and age", func() {
		ns := newNamespace()
		cn := newCanary(ns, "podinfo")
		patch := client.MergeFrom(cn.DeepCopy())
		cn.Status = v1alpha1.CanaryStatus{
			Phase: v1alpha1.PhaseProgressing, StableRevision: "aaaa", CanaryRevision: "bbbb",
			CurrentStep: 1, CanaryWeight: 10,
			ReleaseStatus: v1alpha1.ReleaseStatus{Conditions: []metav1.Condition{
				condition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonProgressing, "in flight")}},
		}
		Expect(k8s.Status().Patch(ctx, cn, patch)).To(Succeed())
		bg := newBlueGreen(ns, "checkout")
		patch = client.MergeFrom(bg.DeepCopy())
		bg.Status = v1alpha1.BlueGreenStatus{
			Phase: v1alpha1.PhaseStable, ActiveColor: v1alpha1.ColorGreen, ActiveRevision: "cccc",
			ReleaseStatus: v1alpha1.ReleaseStatus{Conditions: []metav1.Condition{
				condition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "stable")}},
		}
		Expect(k8s.Status().Patch(ctx, bg, patch)).To(Succeed())
		newCanary(newNamespace(), "elsewhere") // another namespace: not listed

		var out bytes.Buffer
		now := cn.CreationTimestamp.Add(90 * time.Second)
		Expect(cli.Get(ctx, &out, k8s, cli.GetOptions{Namespace: ns, Now: now})).To(Succeed())
		Expect(fields(out.String())).To(HaveExactElements(
			Equal([]string{"NAME", "KIND", "PHASE", "WEIGHT/ACTIVE", "STEP", "READY", "AGE"}),
			HaveExactElements("checkout", "bluegreen", "Stable", "green", "-", "True", MatchRegexp(`^1m[23]\ds$`)),
			Equal([]string{"podinfo", "canary", "Progressing", "10%", "2/3", "False", "1m30s"}),
		))
	})

	It("adds a namespace column with --all-namespaces", func() {
		ns := newNamespace()
		newCanary(ns, "podinfo")
		var out bytes.Buffer
		Expect(cli.Get(ctx, &out, k8s, cli.GetOptions{AllNamespaces: true, Now: time.Now()})).To(Succeed())
		rows := fields(out.String())
		Expect(rows[0]).To(Equal([]string{"NAMESPACE", "NAME", "KIND", "PHASE", "WEIGHT/ACTIVE", "STEP", "READY", "AGE"}))
		Expect(rows).To(ContainElement(HaveExactElements(ns, "podinfo", "canary", "Initializing", "0%", "-", "Unknown", "0s")))
	})

	It("says so when the namespace has no release", func() {
		var out bytes.Buffer
		Expect(cli.Get(ctx, &out, k8s, cli.GetOptions{Namespace: "empty", Now: time.Now()})).To(Succeed())
		Expect(out.String()).To(Equal("No canaries or bluegreens found in namespace empty.\n"))
	})
})
