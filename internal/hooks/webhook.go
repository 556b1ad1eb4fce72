package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/outbound"
)

const (
	// RetryDelay is the pause after a webhook's first failed attempt. Each
	// further failure doubles it, up to MaxRetryDelay. The pause counts from
	// the end of the attempt's timeout, so a slow endpoint is not hammered.
	RetryDelay = 5 * time.Second
	// MaxRetryDelay bounds the pause between two attempts of a webhook.
	MaxRetryDelay = time.Minute
	// DefaultWebhookTimeout bounds a call when the hook sets no timeout.
	DefaultWebhookTimeout = 10 * time.Second
)

// answerBytes bounds how much of a webhook's answer is read.
const answerBytes = 4096

// Payload is the JSON body POSTed to a webhook. Receivers can tell the runs
// of a release apart by Kind, Namespace, Name, HookName and Revision; Attempt
// is 1 on the first call and grows with each retry.
type Payload struct {
	// Name of the Canary or BlueGreen.
	Name string `json:"name"`
	// Namespace of the Canary or BlueGreen.
	Namespace string `json:"namespace"`
	// Kind is Canary or BlueGreen.
	Kind string `json:"kind"`
	// Revision is the pod template hash being released.
	Revision string `json:"revision"`
	// HookType says when the hook runs, for example pre-rollout.
	HookType string `json:"hookType"`
	// HookName is the hook's name in the spec.
	HookName string `json:"hookName"`
	// Attempt numbers this call, from 1.
	Attempt int32 `json:"attempt"`
	// Metadata is the hook's metadata from the spec.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// runWebhook makes progress on a webhook run: when an attempt is due it
// starts it and waits up to the Runner's Await for the answer, or finds it
// in flight and looks without waiting. An attempt still in flight is
// returned as such, and a later call collects its answer; so a slow webhook
// never holds the caller longer than Await, and the attempt itself is
// bounded by the hook's timeout.
func (r *Runner) runWebhook(ctx context.Context, owner client.Object, hook Hook, st v1alpha1.HookStatus) (v1alpha1.HookStatus, error) {
	wh := *hook.Action.Webhook
	if st.Attempts > 0 && r.now().Before(nextAttemptAt(wh, st)) {
		return st, nil
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("call webhook: %w", err)
	}
	body, err := r.payload(owner, hook, st)
	if err != nil {
		return st, err
	}
	key := keyOf(owner, hook, st)
	call, started := r.calls.startOrJoin(ctx, key, r.now(), func(ctx context.Context) (bool, string) {
		passed, answer, err := r.call(ctx, wh, body)
		if err != nil {
			return false, "call failed: " + describe(err)
		}
		return passed, answer
	})
	if !answered(ctx, call, r.await(started)) {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("wait for webhook %s: %w", hook.Name, err)
		}
		return inFlight(st, wh, call.started), nil
	}
	r.calls.forget(key)
	st = start(st, call.started)
	st.Attempts++
	allowed := wh.Attempts()
	switch {
	case call.passed:
		return succeed(st, r.now(), call.answer), nil
	case st.Attempts >= allowed:
		return fail(st, r.now(), fmt.Sprintf("attempt %d of %d failed: %s", st.Attempts, allowed, call.answer)), nil
	default:
		st.Message = truncate(fmt.Sprintf("attempt %d of %d failed, retrying: %s", st.Attempts, allowed, call.answer), MaxMessageBytes)
		return st, nil
	}
}

// answered reports whether call has its answer, waiting up to wait for it
// (or until ctx ends).
func answered(ctx context.Context, call *webhookCall, wait time.Duration) bool {
	select {
	case <-call.done:
		return true
	default:
	}
	if wait <= 0 {
		return false
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-call.done:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// inFlight is st with its next attempt in flight since started: the run's
// start is recorded, the attempt is not counted until its answer is in.
func inFlight(st v1alpha1.HookStatus, wh v1alpha1.WebhookHook, started time.Time) v1alpha1.HookStatus {
	st = start(st, started)
	st.Message = fmt.Sprintf("attempt %d of %d in flight since %s (timeout %s)", st.Attempts+1, wh.Attempts(),
		started.UTC().Format(time.RFC3339), webhookTimeout(wh))
	return st
}

// payload encodes the body of the next call.
func (r *Runner) payload(owner client.Object, hook Hook, st v1alpha1.HookStatus) ([]byte, error) {
	kind, err := r.kindOf(owner)
	if err != nil {
		return nil, err
	}
	p := Payload{
		Name:      owner.GetName(),
		Namespace: owner.GetNamespace(),
		Kind:      kind,
		Revision:  st.Revision,
		HookType:  hook.Type,
		HookName:  hook.Name,
		Attempt:   st.Attempts + 1,
		Metadata:  hook.Action.Webhook.Metadata,
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode the payload of webhook hook %s: %w", hook.Name, err)
	}
	return body, nil
}

// kindOf returns the kind of owner, from its type meta or the client's scheme.
func (r *Runner) kindOf(owner client.Object) (string, error) {
	if kind := owner.GetObjectKind().GroupVersionKind().Kind; kind != "" {
		return kind, nil
	}
	if r.Client == nil {
		return "", fmt.Errorf("find the kind of %s: no client, so no scheme", owner.GetName())
	}
	gvk, err := apiutil.GVKForObject(owner, r.Client.Scheme())
	if err != nil {
		return "", fmt.Errorf("find the kind of %s: %w", owner.GetName(), err)
	}
	return gvk.Kind, nil
}

// call POSTs body to the webhook once, within its timeout. It reports whether
// the answer passed and describes the answer (or its absence) for status. The
// error is only for ctx being done: that is no attempt at all.
func (r *Runner) call(ctx context.Context, wh v1alpha1.WebhookHook, body []byte) (bool, string, error) {
	timeout := webhookTimeout(wh)
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, wh.URL, bytes.NewReader(body))
	if err != nil {
		return false, "the webhook URL is not valid: " + describe(err), nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sluice-hooks")
	resp, err := r.httpClient().Do(req)
	if err != nil {
		if ctxDone(ctx, err) {
			return false, "", fmt.Errorf("call webhook: %w", ctx.Err())
		}
		if isTimeout(err) {
			return false, fmt.Sprintf("timed out: no answer within %s", timeout), nil
		}
		return false, "call failed: " + describe(err), nil
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, answerBytes))
	if err != nil && ctxDone(ctx, err) {
		return false, "", fmt.Errorf("read webhook answer: %w", ctx.Err())
	}
	if err != nil && isTimeout(err) {
		return false, fmt.Sprintf("timed out: answered %s but sent no complete body within %s", resp.Status, timeout), nil
	}
	answer := "answered " + oneLine(resp.Status)
	if excerpt := truncate(oneLine(string(raw)), excerptBytes); excerpt != "" {
		answer += ": " + excerpt
	}
	return resp.StatusCode >= 200 && resp.StatusCode < 300, answer, nil
}

// nextAttemptAt is when the attempt after st's last one is due. It is computed
// from status alone (the first attempt's start, the number of attempts, the
// timeout) so that it survives a restart: attempt n+1 is due n timeouts plus
// the pauses after the first n failures past the first attempt's start.
func nextAttemptAt(wh v1alpha1.WebhookHook, st v1alpha1.HookStatus) time.Time {
	if st.StartedAt == nil || st.Attempts == 0 {
		return time.Time{}
	}
	at := st.StartedAt.Time
	for i := int32(1); i <= st.Attempts; i++ {
		at = at.Add(webhookTimeout(wh) + retryDelay(i))
	}
	return at
}

// retryDelay is the pause after the n-th failed attempt.
func retryDelay(n int32) time.Duration {
	d := RetryDelay
	for i := int32(1); i < n && d < MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, MaxRetryDelay)
}

// webhookTimeout is the hook's timeout, or the default.
func webhookTimeout(wh v1alpha1.WebhookHook) time.Duration {
	if wh.Timeout != nil && wh.Timeout.Duration > 0 {
		return wh.Timeout.Duration
	}
	return DefaultWebhookTimeout
}

// defaultClient calls webhooks under the default outbound policy when the
// Runner is given no client: never http.DefaultClient, which follows
// redirects and dials anywhere.
var defaultClient = outbound.Policy{}.HTTPClient()

func (r *Runner) httpClient() *http.Client {
	if r.HTTP != nil {
		return r.HTTP
	}
	return defaultClient
}

// isTimeout reports whether a call ended because its deadline passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// describe returns the cause of a failed call without the URL, which may
// carry credentials, fit for status.
func describe(err error) string {
	var refused *outbound.RefusedError
	if errors.As(err, &refused) {
		return refused.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return truncate(oneLine(err.Error()), excerptBytes)
}
