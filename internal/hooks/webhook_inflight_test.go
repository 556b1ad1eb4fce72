package hooks

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// held is a webhook receiver that answers 200 only once let is closed, and
// records the attempt number of every call.
type held struct {
	*endpoint
	let      chan struct{}
	mu       sync.Mutex
	attempts []int32
}

func newHeld(t *testing.T) *held {
	h := &held{let: make(chan struct{})}
	h.endpoint = newEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		h.record()
		select {
		case <-h.let:
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
		}
	})
	t.Cleanup(h.letGo)
	return h
}

func (h *held) letGo() {
	select {
	case <-h.let:
	default:
		close(h.let)
	}
}

// record notes the attempt number of the call being answered.
func (h *held) record() {
	h.endpoint.mu.Lock()
	body := h.last
	h.endpoint.mu.Unlock()
	var p Payload
	if json.Unmarshal(body, &p) == nil {
		h.mu.Lock()
		h.attempts = append(h.attempts, p.Attempt)
		h.mu.Unlock()
	}
}

// seen returns the attempt numbers the receiver was called with.
func (h *held) seen() []int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int32(nil), h.attempts...)
}

// runSoon calls Run and fails the test if it does not return while the
// webhook still hangs.
func runSoon(g *WithT, r *Runner, hook Hook, prev *v1alpha1.HookStatus) v1alpha1.HookStatus {
	type result struct {
		st  v1alpha1.HookStatus
		err error
	}
	out := make(chan result, 1)
	go func() {
		st, err := r.Run(context.Background(), canaryOwner(), hook, "rev1", prev)
		out <- result{st, err}
	}()
	var res result
	g.Eventually(out, 5*time.Second).Should(Receive(&res), "Run returned while the webhook hangs")
	g.Expect(res.err).NotTo(HaveOccurred())
	return res.st
}

func TestAHangingWebhookIsPolledNotAwaited(t *testing.T) {
	g := NewWithT(t)
	ep := newHeld(t)
	r, clk := newWebhookRunner(t)
	r.Await = 50 * time.Millisecond
	hook := webhookHook(ep.URL, 30*time.Second, 2)

	st := runSoon(g, r, hook, nil)
	g.Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
	g.Expect(st.Attempts).To(BeZero(), "an attempt counts once its answer is in")
	g.Expect(st.StartedAt.Time).To(Equal(clk.Now()))
	g.Expect(st.Message).To(Equal("attempt 1 of 3 in flight since 2026-05-01T12:00:00Z (timeout 30s)"))
	g.Expect(r.RequeueAfter(hook, st)).To(Equal(time.Second), "polled every second")

	again := runSoon(g, r, hook, &st)
	g.Expect(again).To(Equal(st), "polling an attempt in flight changes nothing")
	g.Expect(ep.calls.Load()).To(BeEquivalentTo(1), "and calls the webhook no second time")

	ep.letGo()
	g.Eventually(func() v1alpha1.HookPhase {
		st = runSoon(g, r, hook, &st)
		return st.Phase
	}, deadline.Scale(5*time.Second)).Should(Equal(v1alpha1.HookSucceeded))
	g.Expect(st.Attempts).To(BeEquivalentTo(1))
	g.Expect(st.Message).To(Equal("answered 200 OK"))
	g.Expect(ep.calls.Load()).To(BeEquivalentTo(1))
}

func TestAWebhookHangingPastItsTimeoutFailsTheAttemptWhenCollected(t *testing.T) {
	g := NewWithT(t)
	ep := newHeld(t)
	r, _ := newWebhookRunner(t)
	r.Await = 20 * time.Millisecond
	hook := webhookHook(ep.URL, 300*time.Millisecond, 0)

	st := runSoon(g, r, hook, nil)
	g.Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
	g.Eventually(func() v1alpha1.HookPhase {
		st = runSoon(g, r, hook, &st)
		return st.Phase
	}, deadline.Scale(5*time.Second)).Should(Equal(v1alpha1.HookFailed))
	g.Expect(st.Attempts).To(BeEquivalentTo(1))
	g.Expect(st.Message).To(Equal("attempt 1 of 1 failed: timed out: no answer within 300ms"))
	g.Expect(ep.calls.Load()).To(BeEquivalentTo(1))
}

func TestAnAttemptInFlightWhenTheOperatorRestartsIsMadeAgainAndCollected(t *testing.T) {
	g := NewWithT(t)
	ep := newHeld(t)
	before, _ := newWebhookRunner(t)
	before.Await = 20 * time.Millisecond
	hook := webhookHook(ep.URL, 30*time.Second, 2)
	persisted := runSoon(g, before, hook, nil)
	g.Expect(persisted.Message).To(ContainSubstring("attempt 1 of 3 in flight"))
	g.Eventually(ep.seen).WithTimeout(deadline.Scale(5 * time.Second)).Should(Equal([]int32{1}))

	// A new process knows only what status says.
	after, _ := newWebhookRunner(t)
	after.Await = 20 * time.Millisecond
	st := runSoon(g, after, hook, &persisted)
	g.Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
	g.Expect(st.Attempts).To(BeZero())
	g.Eventually(ep.seen).WithTimeout(deadline.Scale(5*time.Second)).Should(Equal([]int32{1, 1}),
		"the attempt in flight is made again, with the same attempt number (at-least-once)")

	ep.letGo()
	g.Eventually(func() v1alpha1.HookPhase {
		st = runSoon(g, after, hook, &st)
		return st.Phase
	}, deadline.Scale(5*time.Second)).Should(Equal(v1alpha1.HookSucceeded))
	g.Expect(st.Attempts).To(BeEquivalentTo(1), "one attempt counted, however often it was sent")
	g.Expect(st.StartedAt.Time).To(Equal(persisted.StartedAt.Time), "the run keeps its start")
}
