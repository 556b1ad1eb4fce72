package sandbox

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/test/framework/podnet"
)

func TestEdgeCountsSlowAnswersByTheTimeTheirRequestWasSent(t *testing.T) {
	release := make(chan struct{}) // the pods answer once it is closed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set(podnet.HeaderImage, r.URL.Query().Get("tag"))
	}))
	defer srv.Close()
	ctx := context.Background()
	e := &Edge{inFlight: map[uint64]time.Time{}}
	hc := srv.Client()
	var wg sync.WaitGroup
	launched := 0
	burst := func(n int, tag string) {
		for range n {
			wg.Go(func() { e.send(ctx, hc, srv.URL+"/?tag="+tag) })
		}
		launched += n
		// Every one of them sent; none is answered yet.
		for e.inFlightCount() < launched {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
	}
	burst(5, "before")
	from := time.Now()
	burst(10, "inside")
	to := time.Now()
	burst(3, "after")
	type counted struct {
		got map[string]int64
		err error
	}
	done := make(chan counted, 1)
	go func() {
		got, err := e.AnsweredBetween(ctx, from, to)
		done <- counted{got, err}
	}()
	select {
	case c := <-done:
		t.Fatalf("counted %v (%v) with the window's requests still in flight", c.got, c.err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	c := <-done
	got, err := c.got, c.err
	if err != nil {
		t.Fatal(err)
	}
	// Every answer came back after to: each counts for the time its
	// request was sent.
	if want := map[string]int64{"inside": 10}; !maps.Equal(got, want) {
		t.Errorf("answers to the requests sent in the window: %v, want %v", got, want)
	}
	wg.Wait()
}

func TestEdgeCountsRequestsNoPodAnswered(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler()) // Traefik with no route: no pod header
	defer srv.Close()
	e := startEdge(srv.URL, 50)
	defer func() { _ = e.Stop() }()
	from := time.Now()
	time.Sleep(500 * time.Millisecond)
	got, err := e.AnsweredBetween(context.Background(), from, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got[noAnswer] == 0 || len(got) != 1 {
		t.Errorf("answers with no pod: %v, want them all under %q", got, noAnswer)
	}
	res := Result{Release: Release{Kind: KindCanary, App: GatewayApp, Image: "v2", Want: Promoted}, Got: Promoted,
		Weights: []int32{0, 20, 0}, Served: map[string]int64{"v2": 500, noAnswer: got[noAnswer]}}
	if res.OK() {
		t.Error("a promotion after which some requests reached no pod passes Check")
	}
}

func (e *Edge) inFlightCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.inFlight)
}
