package canary_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sluice-dev/sluice/internal/controller/controllertest"
	"github.com/sluice-dev/sluice/internal/rollout"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// writeCounter counts the writes the operator's client sends for objects of
// one namespace, by verb and kind, and the reads of the target Deployment
// (one per reconcile: proof that a reconcile ran).
type writeCounter struct {
	ns         string
	mu         sync.Mutex
	writes     map[string]int
	targetGets int
	lastWrite  time.Time
}

func newWriteCounter(ns string) *writeCounter {
	return &writeCounter{ns: ns, writes: map[string]int{}}
}

func (w *writeCounter) record(verb, kind, ns string) {
	if ns != w.ns {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes[verb+" "+kind]++
	w.lastWrite = time.Now()
}

func kindOf(c client.Client, obj runtime.Object) string {
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return gvk.Kind
}

// funcs intercepts the operator client's writes; it passes every call on.
func (w *writeCounter) funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*appsv1.Deployment); ok && key.Namespace == w.ns && key.Name == target {
				w.mu.Lock()
				w.targetGets++
				w.mu.Unlock()
			}
			return c.Get(ctx, key, obj, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			w.record("create", kindOf(c, obj), obj.GetNamespace())
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			w.record("update", kindOf(c, obj), obj.GetNamespace())
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			w.record("patch", kindOf(c, obj), obj.GetNamespace())
			return c.Patch(ctx, obj, patch, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			w.record("delete", kindOf(c, obj), obj.GetNamespace())
			return c.Delete(ctx, obj, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			var head struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			data, err := json.Marshal(obj)
			Expect(err).NotTo(HaveOccurred())
			Expect(json.Unmarshal(data, &head)).To(Succeed())
			w.record("apply", head.Kind, head.Metadata.Namespace)
			return c.Apply(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			w.record("patch "+sub, kindOf(c, obj), obj.GetNamespace())
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			w.record("update "+sub, kindOf(c, obj), obj.GetNamespace())
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	}
}

// counts returns the writes so far, as sorted "verb kind=n" strings.
func (w *writeCounter) counts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []string{}
	for k, n := range w.writes {
		out = append(out, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(out)
	return out
}

func (w *writeCounter) count(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes[key]
}

func (w *writeCounter) reconciles() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.targetGets
}

func (w *writeCounter) quietFor() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Since(w.lastWrite)
}

func (w *writeCounter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes, w.targetGets = map[string]int{}, 0
}

// poke changes an annotation that is not a command: the Canary is
// reconciled and nothing in the world needs to change.
func poke(ns string, i int) {
	c := getCanary(ns)
	patch := client.MergeFrom(c.DeepCopy())
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations["example.com/poke"] = fmt.Sprint(i)
	Expect(k8s.Patch(ctx, c, patch)).To(Succeed())
}

var _ = Describe("Writes", func() {
	It("are sent only for a difference: none on a reconcile that changes nothing, none after a restart", func() {
		ns := newNamespace()
		counter := newWriteCounter(ns)
		controllertest.StopOperator(suite)
		DeferCleanup(func() {
			controllertest.StopOperator(suite)
			controllertest.StartOperator(suite)
		})
		Expect(suite.StartOperator(apiserver.WithInterceptor(counter.funcs()))).To(Succeed())

		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns)
		waitStable(ns)
		Eventually(counter.quietFor).Should(BeNumerically(">", 2*time.Second))
		Expect(counter.count("apply VirtualService")).To(Equal(1),
			"a new generated VirtualService is applied once: %v", counter.counts())
		for _, svc := range []string{"apply Service", "apply Deployment"} {
			Expect(counter.count(svc)).To(BeNumerically("<=", 4), "%v", counter.counts())
		}

		By("reconciling an unchanged Canary five times")
		counter.reset()
		for i := range 5 {
			before := counter.reconciles()
			poke(ns, i)
			Eventually(counter.reconciles).Should(BeNumerically(">", before))
		}
		Consistently(counter.counts, time.Second, 100*time.Millisecond).Should(BeEmpty())

		By("restarting the operator")
		controllertest.StopOperator(suite)
		counter.reset()
		Expect(suite.StartOperator(apiserver.WithInterceptor(counter.funcs()))).To(Succeed())
		Eventually(counter.reconciles).Should(BeNumerically(">", 0))
		Consistently(counter.counts, 2*time.Second, 100*time.Millisecond).Should(BeEmpty())

		By("releasing a new revision, then resting again")
		released := time.Now()
		rev := setImage(ns, "podinfo:v2")
		Eventually(func() string { return getCanary(ns).Status.StableRevision }).Should(Equal(rev))
		Expect(counter.counts()).NotTo(BeEmpty(), "a release writes: the counter counts")
		Eventually(counter.quietFor, 20*time.Second).Should(BeNumerically(">", 2*time.Second))
		expectReleaseBudget(ns, counter, released)
		counter.reset()
		poke(ns, 99)
		Eventually(counter.reconciles).Should(BeNumerically(">", 0))
		Consistently(counter.counts, time.Second, 100*time.Millisecond).Should(BeEmpty())
	})
})

// releaseEvents are the Events of one release of the fixture's Canary (four
// steps, no analysis, no hooks) by reason: one per step passed, the last
// folded into Promoting (the same moment), and one per other transition.
// No Draining: the promotion's drain is said by Promoted.
var releaseEvents = map[string]int{
	rollout.EventNewRevision:     1,
	rollout.EventStepAdvanced:    3,
	rollout.EventPromoting:       1,
	rollout.EventTrafficOnCanary: 1,
	rollout.EventPromoted:        1,
}

// releaseWrites are the writes of that release: the weights 10, 50, 100
// and 0; the canary scaled up, then down; the primary given the new
// template; the canary Service given the new revision's pods.
var releaseWrites = map[string]int{
	"patch VirtualService": 4,
	"patch Deployment":     2,
	"apply Deployment":     1,
	"apply Service":        1,
}

// releaseStatusWrites bounds the status patches of that release: 12
// measured, 8 for its transitions (the release started, the first weight
// read back with its step passed, the first pause's end, 50% read back,
// the second pause's end with the promotion, 100% read back, 0% read
// back, promoted) and 4 that only the conditions' wait changed in (a
// replica count, the wait for a weight). One more per reconcile would
// exceed it.
const releaseStatusWrites = 14

// expectReleaseBudget checks what one whole release sent to the API
// server: its Events by reason (each is a request), counted on the API
// server, and its writes, counted by the operator's client.
func expectReleaseBudget(ns string, counter *writeCounter, since time.Time) {
	EventuallyWithOffset(1, func() map[string]int { return sluiceEvents(ns, since) }).Should(Equal(releaseEvents),
		"one Event per step and per transition of the release, no more")
	for key, n := range releaseWrites {
		ExpectWithOffset(1, counter.count(key)).To(Equal(n), "%s: %v", key, counter.counts())
	}
	ExpectWithOffset(1, counter.count("patch status Canary")).To(
		And(BeNumerically(">=", 8), BeNumerically("<=", releaseStatusWrites)), "%v", counter.counts())
}

// sluiceEvents counts by reason the Events Sluice emitted on the Canary in
// ns since t, each repeat of a series counted.
func sluiceEvents(ns string, since time.Time) map[string]int {
	list := &eventsv1.EventList{}
	ExpectWithOffset(1, k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	out := map[string]int{}
	for _, e := range list.Items {
		if e.ReportingController != "sluice" || e.Regarding.Kind != "Canary" || e.EventTime.Time.Before(since) {
			continue
		}
		n := 1
		if e.Series != nil {
			n = int(e.Series.Count)
		}
		out[e.Reason] += n
	}
	return out
}
