package sandbox

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/test/framework/podnet"
)

// edgeSlots bounds the requests in flight through the Gateway: a slow
// version (up to 700 ms) at the sandbox's rate needs about a hundred.
const edgeSlots = 256

// Edge sends the gateway app's live traffic: real HTTP requests at a fixed
// rate to Traefik's URL, which the HTTPRoute splits between the primary and
// canary pods. It keeps who answered each request (the image tag of the pod,
// podnet's X-Sluice-Image header) by the time the request was sent. Its
// methods are safe for concurrent use.
type Edge struct {
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu       sync.Mutex
	next     uint64               // the id of the next request
	inFlight map[uint64]time.Time // when each request in flight was sent
	answers  []answer             // the requests answered, recent ones (edgeKeep)
	skipped  int64                // ticks with every slot busy
}

// answer is who answered one request, and when it was sent.
type answer struct {
	sent time.Time
	tag  string // the image tag of the pod that answered; "" when none did
}

// edgeKeep is how long Edge keeps answers for AnsweredBetween.
const edgeKeep = 2 * time.Minute

// startEdge sends rate requests per second to url until Stop.
func startEdge(url string, rate float64) *Edge {
	ctx, cancel := context.WithCancel(context.Background())
	e := &Edge{cancel: cancel, inFlight: map[uint64]time.Time{}}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: edgeSlots}}
	slots := make(chan struct{}, edgeSlots)
	e.done.Go(func() {
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case slots <- struct{}{}:
			default:
				e.mu.Lock()
				e.skipped++
				e.mu.Unlock()
				continue
			}
			e.done.Go(func() {
				defer func() { <-slots }()
				e.send(ctx, hc, url)
			})
		}
	})
	return e
}

// send sends one request and records who answered it, by the time it was
// sent.
func (e *Edge) send(ctx context.Context, hc *http.Client, url string) {
	e.mu.Lock()
	id, sent := e.next, time.Now()
	e.next++
	e.inFlight[id] = sent
	e.mu.Unlock()
	tag := ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			tag = resp.Header.Get(podnet.HeaderImage)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.inFlight, id)
	if ctx.Err() != nil {
		return // stopping: not the app's doing
	}
	if n := len(e.answers); n > 0 && sent.Sub(e.answers[0].sent) > 2*edgeKeep {
		cut := sort.Search(n, func(i int) bool { return sent.Sub(e.answers[i].sent) <= edgeKeep })
		e.answers = append(e.answers[:0], e.answers[cut:]...)
	}
	e.answers = append(e.answers, answer{sent: sent, tag: tag})
}

// AnsweredBetween counts the requests sent in [from, to) by the image tag
// of the pod that answered them, whatever their status code, and those no
// pod answered (Traefik had no route or no ready endpoint, or the
// connection failed) under noAnswer. It first waits for the requests sent
// before to that are still in flight, so that a slow answer counts for the
// time its request was sent, not the time it came back.
func (e *Edge) AnsweredBetween(ctx context.Context, from, to time.Time) (map[string]int64, error) {
	for e.pendingBefore(to) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int64{}
	for _, a := range e.answers {
		if a.sent.Before(from) || !a.sent.Before(to) {
			continue
		}
		out[cmp.Or(a.tag, noAnswer)]++
	}
	return out, nil
}

// pendingBefore reports whether a request sent before t is in flight.
func (e *Edge) pendingBefore(t time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sent := range e.inFlight {
		if sent.Before(t) {
			return true
		}
	}
	return false
}

// Stop stops sending and waits for the requests in flight.
func (e *Edge) Stop() error {
	e.cancel()
	e.done.Wait()
	return nil
}
