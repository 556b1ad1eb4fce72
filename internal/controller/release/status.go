package release

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Status is a release object's status type (v1alpha1.CanaryStatus or
// v1alpha1.BlueGreenStatus), through its pointer.
type Status[S any] interface {
	*S
	DeepCopy() *S
}

// PersistDecision writes the status decide returns for obj, whose status is
// st, before anything acts on it (see Persist: on a conflict obj is read
// again and decide runs again on it). decide reads obj's status and
// annotations; it runs once per attempt. Once written, observe is given the
// status before and after (for the operator's metrics). Nothing is written
// when the status did not change.
func PersistDecision[S any, P Status[S]](ctx context.Context, c client.Client, reader client.Reader, obj client.Object,
	st P, decide func() S, observe func(prev, next S)) error {
	var prev, next S
	err := Persist(ctx, c, reader, obj, func() (bool, func()) {
		prev, next = *st.DeepCopy(), decide()
		return equality.Semantic.DeepEqual(*st, next), func() { *st = next }
	})
	if err == nil {
		observe(prev, next)
	}
	return err
}

// WriteDecided patches obj's status, st, to next once, and only when it
// changed (see WriteStatus); once written, observe is given the status
// before and after.
func WriteDecided[S any, P Status[S]](ctx context.Context, c client.Client, obj client.Object, st P, next S,
	observe func(prev, next S)) error {
	prev := *st.DeepCopy()
	err := WriteStatus(ctx, c, obj, equality.Semantic.DeepEqual(*st, next), func() { *st = next })
	if err == nil {
		observe(prev, next)
	}
	return err
}
