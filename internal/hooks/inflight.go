package hooks

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// DefaultAwait is how long Run waits for a webhook's answer before it
// returns the run as in flight. A webhook that answers within it completes
// in one call; a slower one goes on in the background, bounded by its own
// timeout, and a later call of Run collects its answer. No reconcile worker
// is held longer than this by a webhook, however long its timeout.
const DefaultAwait = time.Second

// forgetAnswersAfter is how long an answer nobody collected (the release
// object deleted, another revision started, leadership lost) is kept.
const forgetAnswersAfter = 15 * time.Minute

// callKey identifies one attempt of one webhook run.
type callKey struct {
	owner    types.UID
	hook     string
	revision string
	attempt  int32
}

// webhookCall is one attempt in flight or answered and not yet collected.
type webhookCall struct {
	started time.Time
	done    chan struct{} // closed once the fields below are set
	passed  bool
	answer  string
	ended   time.Time
}

// calls are the webhook attempts this process has started and not yet
// collected. They are the only in-process state of hooks, and none is
// needed across a restart: a new process finds the run Running in status,
// with the attempts that were collected, and makes the attempt that was in
// flight again (at-least-once; the payload's attempt number repeats, so a
// receiver can tell).
type calls struct {
	mu sync.Mutex
	m  map[callKey]*webhookCall
}

// startOrJoin returns the attempt in flight for key, or starts it with
// do, detached from ctx's cancellation (a reconcile's context ends when it
// returns; the attempt must not), and reports whether it started it. do
// must bound itself by the webhook's timeout.
func (c *calls) startOrJoin(ctx context.Context, key callKey, now time.Time,
	do func(context.Context) (bool, string)) (*webhookCall, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[callKey]*webhookCall{}
	}
	if call, ok := c.m[key]; ok {
		return call, false
	}
	for k, call := range c.m {
		if !call.ended.IsZero() && now.Sub(call.ended) > forgetAnswersAfter {
			delete(c.m, k)
		}
	}
	call := &webhookCall{started: now, done: make(chan struct{})}
	c.m[key] = call
	detached := context.WithoutCancel(ctx)
	go func() {
		passed, answer := do(detached)
		c.mu.Lock()
		call.passed, call.answer, call.ended = passed, answer, time.Now()
		c.mu.Unlock()
		close(call.done)
	}()
	return call, true
}

// forget drops a collected attempt.
func (c *calls) forget(key callKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// keyOf is the key of the next attempt of the run st of hook for owner.
func keyOf(owner client.Object, hook Hook, st v1alpha1.HookStatus) callKey {
	return callKey{owner: owner.GetUID(), hook: hook.Name, revision: st.Revision, attempt: st.Attempts + 1}
}

// await is how long Run waits for the answer of an attempt: Await (or
// DefaultAwait) right after starting it, so that a quick webhook completes
// in one call; not at all when polling one started before, so that a
// hanging webhook costs a poll no wait.
func (r *Runner) await(started bool) time.Duration {
	switch {
	case !started:
		return 0
	case r.Await > 0:
		return r.Await
	}
	return DefaultAwait
}
