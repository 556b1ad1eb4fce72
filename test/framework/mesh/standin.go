package mesh

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// HeaderWorkload is the response header in which a stand-in names the
// workload it stands for.
const HeaderWorkload = "X-Sluice-Workload"

// Behaviour is how a stand-in answers.
type Behaviour struct {
	// ErrorFraction is the probability, 0 to 1, that a request is answered
	// with 500 instead of 200.
	ErrorFraction float64
	// Latency is the least latency of a request.
	Latency time.Duration
	// Jitter is added to Latency, drawn uniformly from [0, Jitter).
	Jitter time.Duration
}

// validate reports a Behaviour that cannot be drawn from.
func (b Behaviour) validate() error {
	if b.ErrorFraction < 0 || b.ErrorFraction > 1 {
		return fmt.Errorf("error fraction %v is outside 0-1", b.ErrorFraction)
	}
	if b.Latency < 0 || b.Jitter < 0 {
		return fmt.Errorf("latency %s and jitter %s must not be negative", b.Latency, b.Jitter)
	}
	return nil
}

// outcome is what a stand-in drew for one request.
type outcome struct {
	code    int
	latency time.Duration
}

// standIn is the HTTP server standing for one workload's pods.
type standIn struct {
	workload  string
	namespace string
	delay     bool
	telemetry *telemetry
	server    *http.Server
	listener  net.Listener
	served    chan error // receives what Serve returned, once

	images map[string]Behaviour // by image tag; read-only

	mu        sync.Mutex
	behaviour Behaviour
	rng       *rand.Rand
}

// newStandIn listens on a free loopback port; serve starts answering.
func newStandIn(workload, namespace string, b Behaviour, images map[string]Behaviour, seed uint64, delay bool, t *telemetry) (*standIn, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for stand-in %s: %w", workload, err)
	}
	s := &standIn{
		workload: workload, namespace: namespace, delay: delay, telemetry: t, listener: l, served: make(chan error, 1),
		images: images, behaviour: b, rng: newStandInRand(seed, workload),
	}
	s.server = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// newStandInRand gives each workload its own random stream under one seed.
func newStandInRand(seed uint64, workload string) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(workload))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// serve answers requests until shutdown.
func (s *standIn) serve() {
	s.served <- s.server.Serve(s.listener)
}

// close stops the server at once, and reports why it had stopped serving if
// that was not this. The emulator's own requests have finished by then.
func (s *standIn) close() error {
	if err := s.server.Close(); err != nil {
		return fmt.Errorf("stop stand-in %s: %w", s.workload, err)
	}
	if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stand-in %s stopped serving: %w", s.workload, err)
	}
	return nil
}

// url is where the stand-in answers.
func (s *standIn) url() string {
	return "http://" + s.listener.Addr().String()
}

// setBehaviour changes how the following requests are answered.
func (s *standIn) setBehaviour(b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviour = b
}

// draw decides the answer to one request to a pod running image: as
// Options.Images says that image answers, or else as the stand-in's
// Behaviour.
func (s *standIn) draw(image string) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.behaviour
	if ib, ok := s.images[imageTag(image)]; ok && image != "" {
		b = ib
	}
	o := outcome{code: http.StatusOK, latency: b.Latency}
	if s.rng.Float64() < b.ErrorFraction {
		o.code = http.StatusInternalServerError
	}
	if b.Jitter > 0 {
		o.latency += time.Duration(s.rng.Int64N(int64(b.Jitter)))
	}
	return o
}

// ServeHTTP answers one request as the behaviour says and counts it under
// the Service named by the request's Host header, as the destination's
// sidecar would.
func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o := s.draw(r.Header.Get(HeaderImage))
	if s.delay && o.latency > 0 {
		t := time.NewTimer(o.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.telemetry.record(s.workload, s.namespace, r.Host, o)
	w.Header().Set(HeaderWorkload, s.workload)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(o.code)
	_, _ = fmt.Fprintf(w, "%s %d\n", s.workload, o.code)
}
