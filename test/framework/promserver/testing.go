package promserver

import (
	"context"
	"testing"
	"time"
)

// startTimeout bounds how long Start waits for the server to be ready.
const startTimeout = time.Minute

// Start runs a Prometheus scraping targets (host:port or http://host:port)
// every second and stops it when the test ends. It fails the test when the
// binary is missing or the server does not start; it never skips.
func Start(t testing.TB, targets ...string) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := Run(ctx, Options{Targets: targets})
	if err != nil {
		t.Fatalf("start a real Prometheus: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheus log (last lines):\n%s", s.LogTail(30))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop prometheus: %v", err)
		}
	})
	return s
}
