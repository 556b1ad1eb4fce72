package hooks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// clock is a settable clock for the Runner.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// endpoint is a webhook receiver that counts and records its calls.
type endpoint struct {
	*httptest.Server
	calls atomic.Int32
	mu    sync.Mutex
	last  []byte
	ctype string
}

func newEndpoint(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *endpoint {
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.last, e.ctype = body, r.Header.Get("Content-Type")
		e.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(e.Close)
	return e
}

func answer(code int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func newWebhookRunner(t *testing.T) (*Runner, *clock) {
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	// The endpoints listen on loopback, which the suite allows as a user
	// on a laptop would; the default policy refuses it.
	return &Runner{Client: fake.NewClientBuilder().WithScheme(s).Build(), Now: c.Now,
		HTTP: outbound.Policy{Allow: outbound.Loopback()}.HTTPClient()}, c
}

func canaryOwner() *v1alpha1.Canary {
	return &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "shop", UID: "uid-1"}}
}

func webhookHook(url string, timeout time.Duration, retries int32) Hook {
	return Hook{Name: "smoke", Type: string(v1alpha1.HookPreRollout), Action: v1alpha1.HookAction{
		Webhook: &v1alpha1.WebhookHook{URL: url, Timeout: &metav1.Duration{Duration: timeout}, Retries: &retries},
	}}
}

func TestWebhookPassesOnA2xxAnswer(t *testing.T) {
	g := NewWithT(t)
	ep := newEndpoint(t, answer(http.StatusAccepted, "queued"))
	r, clk := newWebhookRunner(t)

	st, err := r.Run(context.Background(), canaryOwner(), webhookHook(ep.URL, time.Second, 2), "rev1", nil)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookSucceeded))
	g.Expect(st.Name).To(Equal("smoke"))
	g.Expect(st.Type).To(Equal("pre-rollout"))
	g.Expect(st.Revision).To(Equal("rev1"))
	g.Expect(st.Attempts).To(BeEquivalentTo(1))
	g.Expect(st.StartedAt.Time).To(Equal(clk.Now()))
	g.Expect(st.FinishedAt.Time).To(Equal(clk.Now()))
	g.Expect(st.Message).To(Equal("answered 202 Accepted: queued"))
	g.Expect(r.RequeueAfter(webhookHook(ep.URL, time.Second, 2), st)).To(BeZero())
	g.Expect(ep.calls.Load()).To(BeEquivalentTo(1))
}

func TestWebhookRetriesAcrossCallsUntilRetriesAreExhausted(t *testing.T) {
	g := NewWithT(t)
	ep := newEndpoint(t, answer(http.StatusInternalServerError, "database is down"))
	r, clk := newWebhookRunner(t)
	hook := webhookHook(ep.URL, 2*time.Second, 2)
	ctx := context.Background()

	st, err := r.Run(ctx, canaryOwner(), hook, "rev1", nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
	g.Expect(st.Attempts).To(BeEquivalentTo(1))
	g.Expect(st.FinishedAt).To(BeNil())
	g.Expect(st.Message).To(Equal("attempt 1 of 3 failed, retrying: answered 500 Internal Server Error: database is down"))
	// The next attempt waits for the timeout plus RetryDelay.
	g.Expect(r.RequeueAfter(hook, st)).To(Equal(2*time.Second + RetryDelay))

	again, err := r.Run(ctx, canaryOwner(), hook, "rev1", &st)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(st), "a call before the next attempt is due changes nothing")
	g.Expect(ep.calls.Load()).To(BeEquivalentTo(1), "and makes no request")

	clk.Add(r.RequeueAfter(hook, st))
	st, err = r.Run(ctx, canaryOwner(), hook, "rev1", &st)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
	g.Expect(st.Attempts).To(BeEquivalentTo(2))
	g.Expect(r.RequeueAfter(hook, st)).To(Equal(2*time.Second+2*RetryDelay), "the pause doubles")

	clk.Add(r.RequeueAfter(hook, st))
	st, err = r.Run(ctx, canaryOwner(), hook, "rev1", &st)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
	g.Expect(st.Attempts).To(BeEquivalentTo(3))
	g.Expect(st.FinishedAt.Time).To(Equal(clk.Now()))
	g.Expect(st.Message).To(Equal("attempt 3 of 3 failed: answered 500 Internal Server Error: database is down"))
	g.Expect(ep.calls.Load()).To(BeEquivalentTo(3))
}

func TestWebhookSlowerThanItsTimeoutFailsTheAttempt(t *testing.T) {
	g := NewWithT(t)
	ep := newEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusOK)
	})
	r, _ := newWebhookRunner(t)

	st, err := r.Run(context.Background(), canaryOwner(), webhookHook(ep.URL, 200*time.Millisecond, 0), "rev1", nil)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookFailed))
	g.Expect(st.Attempts).To(BeEquivalentTo(1))
	g.Expect(st.Message).To(Equal("attempt 1 of 1 failed: timed out: no answer within 200ms"))
}

func TestWebhookPayloadNamesTheOwnerTheRevisionAndTheHook(t *testing.T) {
	g := NewWithT(t)
	ep := newEndpoint(t, answer(http.StatusOK, ""))
	r, _ := newWebhookRunner(t)
	hook := webhookHook(ep.URL, time.Second, 0)
	hook.Action.Webhook.Metadata = map[string]string{"suite": "checkout", "env": "prod"}

	st, err := r.Run(context.Background(), canaryOwner(), hook, "7d9f8c6b5", nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Message).To(Equal("answered 200 OK"))

	ep.mu.Lock()
	defer ep.mu.Unlock()
	g.Expect(ep.ctype).To(Equal("application/json"))
	var got map[string]any
	g.Expect(json.Unmarshal(ep.last, &got)).To(Succeed())
	g.Expect(got).To(Equal(map[string]any{
		"name":      "podinfo",
		"namespace": "shop",
		"kind":      "Canary",
		"revision":  "7d9f8c6b5",
		"hookType":  "pre-rollout",
		"hookName":  "smoke",
		"attempt":   float64(1),
		"metadata":  map[string]any{"suite": "checkout", "env": "prod"},
	}))
}

func TestAFinishedRunIsReturnedWithoutARequest(t *testing.T) {
	ep := newEndpoint(t, answer(http.StatusOK, ""))
	started := metav1.NewTime(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	for _, phase := range []v1alpha1.HookPhase{v1alpha1.HookSucceeded, v1alpha1.HookFailed} {
		t.Run("a "+string(phase)+" run stays "+string(phase), func(t *testing.T) {
			g := NewWithT(t)
			r, _ := newWebhookRunner(t)
			prev := v1alpha1.HookStatus{Name: "smoke", Type: "pre-rollout", Revision: "rev1", Phase: phase,
				Attempts: 3, StartedAt: &started, FinishedAt: &started, Message: "earlier"}

			st, err := r.Run(context.Background(), canaryOwner(), webhookHook(ep.URL, time.Second, 2), "rev1", &prev)

			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(st).To(Equal(prev))
			g.Expect(ep.calls.Load()).To(BeZero())
		})
	}
}

func TestARunOfAnotherRevisionStartsAFreshRun(t *testing.T) {
	g := NewWithT(t)
	ep := newEndpoint(t, answer(http.StatusOK, ""))
	r, _ := newWebhookRunner(t)
	started := metav1.NewTime(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	prev := v1alpha1.HookStatus{Name: "smoke", Revision: "rev0", Phase: v1alpha1.HookFailed, Attempts: 3, StartedAt: &started}

	st, err := r.Run(context.Background(), canaryOwner(), webhookHook(ep.URL, time.Second, 2), "rev1", &prev)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Revision).To(Equal("rev1"))
	g.Expect(st.Phase).To(Equal(v1alpha1.HookSucceeded))
	g.Expect(st.Attempts).To(BeEquivalentTo(1))
	g.Expect(ep.calls.Load()).To(BeEquivalentTo(1))
}

func TestARefusedConnectionFailsTheAttemptWithoutQuotingTheURL(t *testing.T) {
	g := NewWithT(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL + "/hook?token=s3cret"
	closed.Close()
	r, _ := newWebhookRunner(t)

	st, err := r.Run(context.Background(), canaryOwner(), webhookHook(url, time.Second, 1), "rev1", nil)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookRunning))
	g.Expect(st.Message).To(HavePrefix("attempt 1 of 2 failed, retrying: call failed: "))
	g.Expect(st.Message).To(ContainSubstring("connection refused"))
	g.Expect(st.Message).NotTo(ContainSubstring("s3cret"))
}

func TestALongAnswerIsQuotedShortAndOnOneLine(t *testing.T) {
	g := NewWithT(t)
	body := "line one\r\n\tline two\x00\x1b[31m" + strings.Repeat("x", 20000)
	ep := newEndpoint(t, answer(http.StatusBadGateway, body))
	r, _ := newWebhookRunner(t)

	st, err := r.Run(context.Background(), canaryOwner(), webhookHook(ep.URL, time.Second, 0), "rev1", nil)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Message).To(HavePrefix("attempt 1 of 1 failed: answered 502 Bad Gateway: line one line two [31mxxx"))
	g.Expect(st.Message).To(HaveSuffix("…"))
	g.Expect(len(st.Message)).To(BeNumerically("<=", 100+excerptBytes))
	g.Expect(st.Message).NotTo(ContainSubstring("\n"))
	g.Expect(st.Message).NotTo(ContainSubstring("\x00"))
}

func TestACanceledContextIsAnErrorAndNoAttempt(t *testing.T) {
	g := NewWithT(t)
	ep := newEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	r, _ := newWebhookRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)

	st, err := r.Run(ctx, canaryOwner(), webhookHook(ep.URL, time.Second, 0), "rev1", nil)

	g.Expect(err).To(MatchError(context.Canceled))
	g.Expect(st.Attempts).To(BeZero())
	g.Expect(st.StartedAt).To(BeNil())
}

func TestRetryDelayDoublesUpToItsBound(t *testing.T) {
	cases := []struct {
		name    string
		attempt int32
		want    time.Duration
	}{
		{name: "the first pause is RetryDelay", attempt: 1, want: RetryDelay},
		{name: "the second pause is twice as long", attempt: 2, want: 2 * RetryDelay},
		{name: "the fourth pause is eight times as long", attempt: 4, want: 8 * RetryDelay},
		{name: "pauses stop growing at MaxRetryDelay", attempt: 10, want: MaxRetryDelay},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(retryDelay(tc.attempt)).To(Equal(tc.want))
		})
	}
}

func TestABlueGreenHookSendsItsOwnKindAndType(t *testing.T) {
	g := NewWithT(t)
	ep := newEndpoint(t, answer(http.StatusOK, ""))
	r, _ := newWebhookRunner(t)
	owner := &v1alpha1.BlueGreen{ObjectMeta: metav1.ObjectMeta{Name: "billing", Namespace: "shop"}}
	hook := FromBlueGreen(v1alpha1.BlueGreenHook{Name: "e2e", Type: v1alpha1.HookPrePromotion, HookAction: v1alpha1.HookAction{
		Webhook: &v1alpha1.WebhookHook{URL: ep.URL},
	}})

	st, err := r.Run(context.Background(), owner, hook, "rev1", nil)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Phase).To(Equal(v1alpha1.HookSucceeded))
	g.Expect(st.Type).To(Equal("pre-promotion"))
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var got Payload
	g.Expect(json.Unmarshal(ep.last, &got)).To(Succeed())
	g.Expect(got.Kind).To(Equal("BlueGreen"))
	g.Expect(got.HookType).To(Equal("pre-promotion"))
	g.Expect(got.Name).To(Equal("billing"))
}
