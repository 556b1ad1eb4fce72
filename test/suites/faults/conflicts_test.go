//go:build linux

package faults

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

// Who the stand-in writer is on the objects it touches: an annotation and
// a status condition of its own, as a policy engine, a dashboard or a
// second tool writing next to Sluice would leave.
const (
	pokeAnnotation = "faults.sluice.dev/poke"
	pokeCondition  = "faults.sluice.dev/Poked"
)

// writer is the stand-in concurrent writer: every 100-600 ms it reads a
// release object and writes it back with one change, an annotation or its
// own status condition, through an update that carries the resourceVersion
// it read. Each of its writes moves the object's resourceVersion, so a
// status write Sluice prepared on the older one is refused with a 409 at
// whatever point it was; a write of its own that meets one of Sluice's is
// refused in turn.
type writer struct {
	c   client.Client
	rng *rand.Rand

	mu                   sync.Mutex
	writes, refused, err int
}

// run writes until stop is closed.
func (w *writer) run(ctx context.Context, stop <-chan struct{}) {
	for n := 1; ; n++ {
		select {
		case <-stop:
			return
		case <-time.After(100*time.Millisecond + time.Duration(w.rng.Int64N(int64(500*time.Millisecond)))):
		}
		var obj client.Object = &v1alpha1.Canary{}
		key := types.NamespacedName{Namespace: sandbox.Namespace, Name: "podinfo"}
		if w.rng.IntN(2) == 0 {
			obj, key.Name = &v1alpha1.BlueGreen{}, "checkout"
		}
		w.count(w.poke(ctx, obj, key, n, w.rng.IntN(2) == 0))
	}
}

// poke reads obj and writes it back with the n-th change: an annotation, or
// its status condition.
func (w *writer) poke(ctx context.Context, obj client.Object, key types.NamespacedName, n int, status bool) error {
	if err := w.c.Get(ctx, key, obj); err != nil {
		return err
	}
	if !status {
		ann := obj.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[pokeAnnotation] = strconv.Itoa(n)
		obj.SetAnnotations(ann)
		return w.c.Update(ctx, obj)
	}
	var conds *[]metav1.Condition
	switch o := obj.(type) {
	case *v1alpha1.Canary:
		conds = &o.Status.Conditions
	case *v1alpha1.BlueGreen:
		conds = &o.Status.Conditions
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: pokeCondition, Status: metav1.ConditionTrue,
		Reason: "Poked", Message: "poke " + strconv.Itoa(n), LastTransitionTime: metav1.Now()})
	// Update sends the resourceVersion read: a write guarded by the
	// optimistic lock, refused when the object changed since.
	return w.c.Status().Update(ctx, obj)
}

func (w *writer) count(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		w.writes++
	case apierrors.IsConflict(err):
		w.refused++
	default:
		w.err++
	}
}

// counts are the writer's successful writes, its writes refused with a
// conflict, and its other errors.
func (w *writer) counts() (writes, refused, errs int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes, w.refused, w.err
}
