package release

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
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

	res := Requeue(2 * time.Second)
	g.Expect(res.RequeueAfter).To(Equal(2 * time.Second))
	g.Expect(res.Priority).To(HaveValue(Equal(PriorityRoutine)), "a requeue after a command is routine work")
	g.Expect(Requeue(0).RequeueAfter).To(Equal(RestResync))
}

func canaryKey(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: "shop", Name: name}
}
