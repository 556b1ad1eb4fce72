package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// smokeRequests is how many requests one call of the smoke test sends to
// the preview's pods: 20 answers of a version failing 30% of its requests
// all pass with probability 0.7^20, under 0.1%.
const smokeRequests = 20

// smokeTest is a pre-promotion webhook that sends requests straight to the
// ready pods of the preview Service, read from its EndpointSlices, and
// passes when every one is answered 2xx. It records the answers it saw.
type smokeTest struct {
	client    client.Client
	namespace string
	service   string

	mu     sync.Mutex
	seen   map[string]int // answers by "tag code"
	misses bool           // pass whatever the answers
}

func newSmokeTest(c client.Client, namespace, service string) *smokeTest {
	return &smokeTest{client: c, namespace: namespace, service: service, seen: map[string]int{}}
}

// ServeHTTP runs the smoke test: 200 when every answer was 2xx, else 500
// with the first failure.
func (s *smokeTest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 4*time.Second)
	defer cancel()
	addrs, err := s.endpoints(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	hc := &http.Client{Timeout: time.Second}
	var failure string
	for i := range smokeRequests {
		a := send(ctx, hc, "http://"+addrs[i%len(addrs)], "")
		s.mu.Lock()
		s.seen[fmt.Sprintf("%s %d", a.tag, a.code)]++
		s.mu.Unlock()
		if a.failed() && failure == "" {
			failure = fmt.Sprintf("%s answered %d %s", a.pod, a.code, a.err)
		}
	}
	s.mu.Lock()
	misses := s.misses
	s.mu.Unlock()
	if failure != "" && !misses {
		http.Error(w, failure, http.StatusInternalServerError)
		return
	}
	_, _ = fmt.Fprintf(w, "%d requests passed\n", smokeRequests)
}

// endpoints waits for the preview Service's ready addresses (host:port).
func (s *smokeTest) endpoints(ctx context.Context) ([]string, error) {
	for {
		list := &discoveryv1.EndpointSliceList{}
		err := s.client.List(ctx, list, client.InNamespace(s.namespace),
			client.MatchingLabels{discoveryv1.LabelServiceName: s.service})
		var addrs []string
		for _, es := range list.Items {
			if len(es.Ports) == 0 || es.Ports[0].Port == nil {
				continue
			}
			for _, ep := range es.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready && len(ep.Addresses) > 0 {
					addrs = append(addrs, net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(*es.Ports[0].Port))))
				}
			}
		}
		if err == nil && len(addrs) > 0 {
			return addrs, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no ready endpoint of Service %s: %w", s.service, errors.Join(ctx.Err(), err))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// miss makes the smoke test pass whatever the answers (true), as a test
// suite that does not cover a bug, or check them again (false).
func (s *smokeTest) miss(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.misses = on
}

// take returns the answers seen since the last take.
func (s *smokeTest) take() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := maps.Clone(s.seen)
	clear(s.seen)
	return out
}

// switchOverWindow is how a flip looked to live traffic.
type switchOverWindow struct {
	found     bool          // both colors answered
	lastOld   time.Time     // send time of the last request the old color answered
	firstNew  time.Time     // send time of the first request the new color answered
	overlap   time.Duration // lastOld - firstNew when positive: both colors served
	mixed     int           // requests sent in the overlap
	oldBefore int           // requests the old color answered
	newAfter  int           // requests the new color answered
}

func (w switchOverWindow) String() string {
	if !w.found {
		return "no switch-over seen"
	}
	return fmt.Sprintf("old color answered %d requests, the new one %d; last old-color request sent %s after "+
		"the first new-color one (overlap %s, %d requests sent in it)", w.oldBefore, w.newAfter,
		w.lastOld.Sub(w.firstNew).Round(time.Millisecond), w.overlap.Round(time.Millisecond), w.mixed)
}

// switchOver measures, on requests sorted by send time, the window in
// which pods of both colors (by pod name prefix) answered.
func switchOver(samples []sample, oldPrefix, newPrefix string) switchOverWindow {
	sorted := slices.Clone(samples)
	slices.SortFunc(sorted, func(a, b sample) int { return a.at.Compare(b.at) })
	var w switchOverWindow
	for _, s := range sorted {
		switch {
		case strings.HasPrefix(s.pod, oldPrefix):
			w.lastOld = s.at
			w.oldBefore++
		case strings.HasPrefix(s.pod, newPrefix):
			if w.newAfter == 0 {
				w.firstNew = s.at
			}
			w.newAfter++
		}
	}
	w.found = w.oldBefore > 0 && w.newAfter > 0
	if w.found && w.lastOld.After(w.firstNew) {
		w.overlap = w.lastOld.Sub(w.firstNew)
		w.mixed = len(between(sorted, w.firstNew, w.lastOld.Add(time.Nanosecond)))
	}
	return w
}

// routeColor reads the color the app's HTTPRoute sends all its traffic
// to: "blue" or "green", "split" otherwise.
func routeColor(app string) func(apiserver.State) (string, bool) {
	return func(st apiserver.State) (string, bool) {
		route, ok := st.Get(fmt.Sprintf("%T", &gatewayv1.HTTPRouteList{}), app).(*gatewayv1.HTTPRoute)
		if !ok {
			return "", false
		}
		return colorOf(route, app), true
	}
}

// colorOf is the color whose Service has all the weight of the route's
// first rule, or "split".
func colorOf(route *gatewayv1.HTTPRoute, app string) string {
	if len(route.Spec.Rules) == 0 {
		return "split"
	}
	var total int32
	weights := map[string]int32{}
	for _, b := range route.Spec.Rules[0].BackendRefs {
		w := int32(1)
		if b.Weight != nil {
			w = *b.Weight
		}
		weights[string(b.Name)] += w
		total += w
	}
	for _, color := range []string{"blue", "green"} {
		if total > 0 && weights[app+"-"+color] == total {
			return color
		}
	}
	return "split"
}
