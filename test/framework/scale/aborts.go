package scale

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// abort aborts the i-th Canary once its canary weight is above 0 and
// returns how long the VirtualService took to carry weight 0.
func (b *bench) abort(ctx context.Context, i int) (time.Duration, error) {
	select {
	case <-b.rec.when(name(i), func(w int32) bool { return w > 0 }):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	zero := b.rec.when(name(i), func(w int32) bool { return w == 0 })
	t0 := time.Now()
	if err := annotate(ctx, b.k8s, b.ns, i, v1alpha1.CommandAnnotation(v1alpha1.CommandAbort), t0.Format(time.RFC3339Nano)); err != nil {
		return 0, err
	}
	select {
	case t1 := <-zero:
		return t1.Sub(t0), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (b *bench) abortIdle(ctx context.Context, res *Result) error {
	idle := indexes(0, b.o.Aborts/2)
	if err := b.bump(ctx, idle); err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for _, i := range idle {
		d, err := b.abort(actx, i)
		if err != nil {
			return fmt.Errorf("abort %s: %w", name(i), err)
		}
		res.AbortIdle = append(res.AbortIdle, d)
	}
	return nil
}
