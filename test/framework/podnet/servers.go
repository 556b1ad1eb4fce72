package podnet

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluice-dev/sluice/test/framework/mesh"
)

// server answers for one port of one pod.
type server struct {
	pod    string
	uid    types.UID
	tag    string
	goneAt time.Time // when the pod stopped wanting it; zero while it does
	http   *http.Server
	served chan error

	closeOnce sync.Once
	closeErr  error

	mu        sync.Mutex
	behaviour mesh.Behaviour
	rng       *rand.Rand
	count     func(tag string, code int)
}

// wanted is a server a pod needs.
type wanted struct {
	pod *corev1.Pod
	tag string
}

// syncServers starts a server for every port of every pod that has a
// loopback address, and closes those of pods gone for longer than Linger.
func (n *Net) syncServers(pods []*corev1.Pod, now time.Time) error {
	want := map[string]wanted{}
	for _, pod := range pods {
		ip := net.ParseIP(pod.Status.PodIP)
		if ip == nil || !ip.IsLoopback() || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, c := range pod.Spec.Containers {
			for _, p := range c.Ports {
				if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
					addr := net.JoinHostPort(ip.String(), strconv.Itoa(int(p.ContainerPort)))
					want[addr] = wanted{pod: pod, tag: ImageTag(c.Image)}
				}
			}
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var errs []error
	for addr, s := range n.servers {
		w, ok := want[addr]
		switch {
		case ok && w.pod.UID == s.uid:
			s.goneAt = time.Time{}
			continue
		case ok: // the address went to another pod: its server takes over
		case s.goneAt.IsZero():
			s.goneAt = now
			continue
		case now.Sub(s.goneAt) < n.opts.Linger:
			continue
		}
		errs = append(errs, s.close())
		delete(n.servers, addr)
	}
	for addr, w := range want {
		if _, ok := n.servers[addr]; ok {
			continue
		}
		s, err := n.serve(addr, w)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n.servers[addr] = s
	}
	return errors.Join(errs...)
}

// listening holds the server on each pod address of this process,
// whichever Net started it. Why: kwok hands a freed pod IP to the next pod
// of any namespace at once, so a Net's new pod takes its address over from
// another Net's server still lingering for a pod that is gone.
var listening = struct {
	sync.Mutex
	by map[string]*server
}{by: map[string]*server{}}

// serve starts a server for a pod on addr.
func (n *Net) serve(addr string, w wanted) (*server, error) {
	listening.Lock()
	defer listening.Unlock()
	if prev := listening.by[addr]; prev != nil {
		_ = prev.close() // its pod is gone: the address is this pod's now
		delete(listening.by, addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve pod %s: %w", w.pod.Name, err)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(addr + "/" + string(w.pod.UID)))
	s := &server{
		pod: w.pod.Name, uid: w.pod.UID, tag: w.tag, served: make(chan error, 1),
		behaviour: n.opts.Images[w.tag], rng: rand.New(rand.NewPCG(n.opts.Seed, h.Sum64())), count: n.count,
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { s.served <- s.http.Serve(l) }()
	listening.by[addr] = s
	return s, nil
}

// draw decides one answer: its status code and latency.
func (s *server) draw() (int, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.behaviour
	code, latency := http.StatusOK, b.Latency
	if s.rng.Float64() < b.ErrorFraction {
		code = http.StatusInternalServerError
	}
	if b.Jitter > 0 {
		latency += time.Duration(s.rng.Int64N(int64(b.Jitter)))
	}
	return code, latency
}

// ServeHTTP answers as the pod's image does, after its latency.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, latency := s.draw()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.count(s.tag, code)
	w.Header().Set(HeaderImage, s.tag)
	w.Header().Set(HeaderPod, s.pod)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, "%s %s %d\n", s.pod, s.tag, code)
}

// close stops the server at once and reports why it had stopped serving if
// that was not this.
func (s *server) close() error {
	s.closeOnce.Do(func() {
		if err := s.http.Close(); err != nil {
			s.closeErr = fmt.Errorf("stop the server of pod %s: %w", s.pod, err)
			return
		}
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = fmt.Errorf("the server of pod %s stopped serving: %w", s.pod, err)
		}
	})
	return s.closeErr
}

// ImageTag is the part of an image reference after the last colon (after
// the last slash), or "latest" when there is none.
func ImageTag(image string) string {
	name := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(name, ":"); i >= 0 {
		return name[i+1:]
	}
	return "latest"
}
