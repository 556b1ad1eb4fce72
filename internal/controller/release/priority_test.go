package release

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func canaryWith(annotations map[string]string) *v1alpha1.Canary {
	return &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "podinfo", Annotations: annotations}}
}

func TestCommandChanged(t *testing.T) {
	abort := v1alpha1.CommandAnnotation(v1alpha1.CommandAbort)
	for _, tc := range []struct {
		name     string
		old, new map[string]string
		want     bool
	}{
		{"a new command", nil, map[string]string{abort: "1"}, true},
		{"a command asked again with a new request ID", map[string]string{abort: "1"}, map[string]string{abort: "2"}, true},
		{"another annotation changed", map[string]string{abort: "1", "x": "a"}, map[string]string{abort: "1", "x": "b"}, false},
		{"a command removed", map[string]string{abort: "1"}, nil, false},
		{"no command at all", nil, map[string]string{"x": "a"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			e := event.UpdateEvent{ObjectOld: canaryWith(tc.old), ObjectNew: canaryWith(tc.new)}
			g.Expect(commandChanged.Update(e)).To(Equal(tc.want))
		})
	}
}

func TestCommandsJumpTheQueue(t *testing.T) {
	g := NewWithT(t)
	q := priorityqueue.New[reconcile.Request]("test")
	defer q.ShutDown()
	routine := []reconcile.Request{
		{NamespacedName: canaryKey("a")}, {NamespacedName: canaryKey("b")}, {NamespacedName: canaryKey("c")},
	}
	for _, r := range routine {
		q.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(PriorityRoutine)}, r)
	}
	abort := v1alpha1.CommandAnnotation(v1alpha1.CommandAbort)
	enqueueCommand.Update(context.Background(), event.UpdateEvent{
		ObjectOld: canaryWith(nil), ObjectNew: canaryWith(map[string]string{abort: "1"}),
	}, q)
	g.Eventually(q.Len, time.Second).Should(Equal(4))
	item, priority, _ := q.GetWithPriority()
	g.Expect(item.Name).To(Equal("podinfo"), "the command is served before the routine work queued earlier")
	g.Expect(priority).To(Equal(PriorityCommand))

	res := Requeue(2*time.Second, false, 0)
	g.Expect(res.RequeueAfter).To(Equal(2 * time.Second))
	g.Expect(res.Priority).To(HaveValue(Equal(PriorityRoutine)), "a requeue after a command is routine work")
}

func TestRequeue(t *testing.T) {
	for _, tc := range []struct {
		name         string
		after        time.Duration
		poll         bool
		elapsed      time.Duration
		wantAfter    time.Duration
		wantPriority int
	}{
		{"a pause's end is routine work", 10 * time.Second, false, 0, 10 * time.Second, PriorityRoutine},
		{"the reconcile's own time is taken off, so that a pause's end is not late by it",
			10 * time.Second, false, 300 * time.Millisecond, 9700 * time.Millisecond, PriorityRoutine},
		{"a moment passed during the reconcile is looked at at once, never dropped",
			200 * time.Millisecond, false, time.Second, time.Millisecond, PriorityRoutine},
		{"a poll waits behind routine work", 5 * time.Second, true, 0, 5 * time.Second, PriorityPoll},
		{"nothing asked for: the rest resync, behind routine work", 0, false, 0, RestResync, PriorityPoll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			res := Requeue(tc.after, tc.poll, tc.elapsed)
			g.Expect(res.RequeueAfter).To(Equal(tc.wantAfter))
			g.Expect(res.Priority).To(HaveValue(Equal(tc.wantPriority)))
		})
	}
}

// TestPollsWaitBehindDueWork runs controller-runtime's priority queue: polls
// queued first are served after a pause's end and a watch event that came
// later, and before nothing else they are not starved of.
func TestPollsWaitBehindDueWork(t *testing.T) {
	g := NewWithT(t)
	q := priorityqueue.New[reconcile.Request]("test")
	defer q.ShutDown()
	add := func(name string, res ctrl.Result) {
		q.AddWithOpts(priorityqueue.AddOpts{After: res.RequeueAfter, Priority: res.Priority},
			reconcile.Request{NamespacedName: canaryKey(name)})
	}
	for _, name := range []string{"poll-1", "poll-2", "poll-3"} {
		add(name, Requeue(time.Millisecond, true, 0))
	}
	add("pause-end", Requeue(2*time.Millisecond, false, 0))
	q.Add(reconcile.Request{NamespacedName: canaryKey("event")})
	g.Eventually(q.Len, time.Second).Should(Equal(5))
	var order []string
	for range 5 {
		item, _, _ := q.GetWithPriority()
		order = append(order, item.Name)
		q.Done(item)
	}
	g.Expect(order[:2]).To(ConsistOf("pause-end", "event"), "due work first, whatever was queued before it")
	g.Expect(order[2:]).To(Equal([]string{"poll-1", "poll-2", "poll-3"}), "then the polls, in their order")
}

func canaryKey(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: "shop", Name: name}
}
