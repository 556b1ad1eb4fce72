package zerodowntime

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// canaryWeight is the canary weight of the generated VirtualService, -1
// when it does not exist.
func canaryWeight(ns, name string) int32 {
	vs := &istionetworking.VirtualService{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, vs); err != nil {
		return -1
	}
	for _, r := range vs.Spec.Http {
		for _, d := range r.Route {
			if d.Destination.GetHost() == workload.CanaryName(name) {
				return d.Weight
			}
		}
	}
	return -1
}

func getCanary(ns, name string) *v1alpha1.Canary {
	c := &v1alpha1.Canary{}
	ExpectWithOffset(1, k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, c)).To(Succeed())
	return c
}

func getBlueGreen(ns, name string) *v1alpha1.BlueGreen {
	bg := &v1alpha1.BlueGreen{}
	ExpectWithOffset(1, k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, bg)).To(Succeed())
	return bg
}

// releaseToStep starts a release of v2 and waits for the canary to carry
// 25% of the traffic.
func releaseToStep(ns, name string) {
	setImage(ns, name, "podinfo:v2")
	Eventually(func() int32 { return canaryWeight(ns, name) }).Should(Equal(int32(25)))
	time.Sleep(time.Second) // traffic at 25%
}

// The lifecycle scenarios are independent (a namespace each) and run at
// once, to keep the suite within its share of make test.
var _ = Describe("Lifecycle operations under live traffic", func() {
	It("fail no request: onboarding, deletion at rest and mid-release, a lost target, BlueGreen deletions", func() {
		inParallel(onboardThenDelete, deleteMidRelease, loseTarget, deleteBlueGreenAtRest, deleteBlueGreenAfterFlip)
	})
})

// onboardThenDelete onboards a Canary next to the user's existing Service,
// then deletes it at rest: the user's Deployment serves again.
func onboardThenDelete() {
	const name = "podinfo"
	ns := newNamespace("onboard")
	{ // onboarding
		newApp(ns, name, "podinfo:v1", 3)
		newService(ns, name)
		m := startTraffic(ns, name, name)
		Eventually(func() int64 { return m.Sent(name) }).Should(BeNumerically(">", rate))

		Expect(k8s.Create(ctx, canary(ns, name))).To(Succeed())
		Eventually(func(g Gomega) {
			c := getCanary(ns, name)
			g.Expect(ready(c.Status.Conditions)).To(BeTrue())
			g.Expect(workload.DesiredReplicas(getDeployment(ns, name))).To(BeZero())
			g.Expect(getDeployment(ns, name).Status.Replicas).To(BeZero(), "the user's pods are gone")
		}).Should(Succeed())
		time.Sleep(time.Second)
		Expect(m.Sent(workload.PrimaryName(name))).To(BeNumerically(">", 0), "the primary serves")
		failed, row := measure(m, name)
		report("Canary: onboarding with an existing Service", row)
		Expect(failed).To(BeZero(), row)
	}
	{ // deletion at rest
		m := startTraffic(ns, name, name)
		Eventually(func() int64 { return m.Sent(workload.PrimaryName(name)) }).Should(BeNumerically(">", rate))
		c := getCanary(ns, name)
		Expect(k8s.Delete(ctx, c)).To(Succeed())
		gone(c, ns, workload.PrimaryName(name))
		before := m.Sent(name)
		time.Sleep(time.Second)
		Expect(m.Sent(name)).To(BeNumerically(">", before), "the user's own pods serve")
		failed, row := measure(m, name)
		report("Canary: deletion at rest", row)
		Expect(failed).To(BeZero(), row)
	}
}

// deleteMidRelease deletes a Canary whose canary carries 25%.
func deleteMidRelease() {
	const name = "podinfo"
	ns := newNamespace("midrelease")
	newApp(ns, name, "podinfo:v1", 2)
	Expect(k8s.Create(ctx, canary(ns, name))).To(Succeed())
	Eventually(func() bool { return ready(getCanary(ns, name).Status.Conditions) }).Should(BeTrue())
	m := startTraffic(ns, name, name)
	releaseToStep(ns, name)

	c := getCanary(ns, name)
	Expect(k8s.Delete(ctx, c)).To(Succeed())
	gone(c, ns, workload.PrimaryName(name))
	failed, row := measure(m, name)
	report("Canary: deletion mid-release (weight 25)", row)
	Expect(failed).To(BeZero(), row)
}

// loseTarget deletes the target mid-release: all traffic goes to the
// primary at once.
func loseTarget() {
	const name = "podinfo"
	ns := newNamespace("losttarget")
	newApp(ns, name, "podinfo:v1", 2)
	Expect(k8s.Create(ctx, canary(ns, name))).To(Succeed())
	Eventually(func() bool { return ready(getCanary(ns, name).Status.Conditions) }).Should(BeTrue())
	m := startTraffic(ns, name, name)
	releaseToStep(ns, name)

	deleted := time.Now()
	Expect(k8s.Delete(ctx, getDeployment(ns, name), &deleteForeground)).To(Succeed())
	Eventually(func() int32 { return canaryWeight(ns, name) }).WithTimeout(10 * time.Second).
		WithPolling(20 * time.Millisecond).Should(BeZero())
	toZero := time.Since(deleted)
	time.Sleep(2 * time.Second)
	Expect(getCanary(ns, name).Status.Conditions).To(ContainElement(And(
		HaveField("Type", v1alpha1.ConditionStalled), HaveField("Reason", v1alpha1.ReasonTargetNotFound))))
	failed, row := measure(m, name)
	row = fmt.Sprintf("%s; weight 0 after %s", row, toZero.Round(10*time.Millisecond))
	report("Canary: target deleted mid-release (weight 25)", row)
	// Why this bound: at most the canary's share of the requests sent
	// between the delete and the weight read back at 0, plus a refresh
	// of the mesh's view (200 ms).
	bound := int64(float64(rate) * 0.25 * (toZero + 500*time.Millisecond).Seconds())
	Expect(failed).To(BeNumerically("<=", bound), row)
}

// deleteForeground deletes the target's pods with it, as a Replace would.
var deleteForeground = client.DeleteOptions{PropagationPolicy: ptrTo(metav1.DeletePropagationForeground)}

func ptrTo[T any](v T) *T { return &v }

// checkout is the BlueGreen scenarios' app.
const checkout = "checkout"

// deleteBlueGreenAtRest onboards a BlueGreen next to the user's Service,
// then deletes it at rest.
func deleteBlueGreenAtRest() {
	const name = checkout
	ns := newNamespace("bg-rest")
	newApp(ns, name, "podinfo:v1", 2)
	newService(ns, name)
	m := startTraffic(ns, name, "")
	bg := blueGreen(ns, name)
	Expect(k8s.Create(ctx, bg)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(ready(getBlueGreen(ns, name).Status.Conditions)).To(BeTrue())
		g.Expect(getDeployment(ns, name).Status.Replicas).To(BeZero())
	}).Should(Succeed())
	Expect(k8s.Delete(ctx, bg)).To(Succeed())
	gone(bg, ns, workload.ColorName(name, v1alpha1.ColorBlue))
	failed, row := measure(m, name)
	report("BlueGreen: onboarding, then deletion at rest", row)
	Expect(failed).To(BeZero(), row)
}

// deleteBlueGreenAfterFlip deletes a BlueGreen right after a flip, the old
// color still scaled.
func deleteBlueGreenAfterFlip() {
	const name = checkout
	ns := newNamespace("bg-flip")
	newApp(ns, name, "podinfo:v1", 2)
	bg := blueGreen(ns, name)
	Expect(k8s.Create(ctx, bg)).To(Succeed())
	Eventually(func() bool { return ready(getBlueGreen(ns, name).Status.Conditions) }).Should(BeTrue())
	m := startTraffic(ns, name, "")
	setImage(ns, name, "podinfo:v2")
	Eventually(func() v1alpha1.Color { return getBlueGreen(ns, name).Status.ActiveColor }).
		Should(Equal(v1alpha1.ColorGreen), "flipped to green")
	Expect(k8s.Delete(ctx, bg)).To(Succeed())
	gone(bg, ns, workload.ColorName(name, v1alpha1.ColorBlue), workload.ColorName(name, v1alpha1.ColorGreen))
	failed, row := measure(m, name)
	report("BlueGreen: deletion after a flip", row)
	Expect(failed).To(BeZero(), row)
}
