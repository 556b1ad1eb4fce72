package promserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/test/framework/process"
)

// DefaultScrapeInterval is how often the server scrapes its targets unless
// Options say otherwise: short, so that tests see new samples quickly.
const DefaultScrapeInterval = time.Second

// portAttempts is how many free ports Run tries: another process may take
// the port between the moment it is picked and the moment Prometheus binds it.
const portAttempts = 3

// Options configure a server started by Run.
type Options struct {
	// Binary is the Prometheus binary. Empty means Binary().
	Binary string

	// Targets are scraped at /metrics, as host:port or http://host:port.
	Targets []string

	// ScrapeInterval defaults to DefaultScrapeInterval.
	ScrapeInterval time.Duration
}

// Server is a running Prometheus. Its methods are safe for concurrent use.
type Server struct {
	addr     string
	dir      string
	binary   string
	interval time.Duration
	proc     *process.Process

	mu      sync.Mutex
	targets []string
	stopped bool
}

// Run starts Prometheus and returns once it answers as ready. ctx bounds the
// start only: the server runs until Stop, which the caller must call.
func Run(ctx context.Context, opts Options) (*Server, error) {
	binary := opts.Binary
	if binary == "" {
		var err error
		if binary, err = Binary(); err != nil {
			return nil, err
		}
	}
	interval := opts.ScrapeInterval
	if interval <= 0 {
		interval = DefaultScrapeInterval
	}
	dir, err := os.MkdirTemp("", "sluice-prometheus-")
	if err != nil {
		return nil, fmt.Errorf("create the server's directory: %w", err)
	}
	var lastErr error
	for range portAttempts {
		s := &Server{dir: dir, binary: binary, interval: interval, targets: normalise(opts.Targets)}
		if lastErr = s.start(ctx, binary); lastErr == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
}

// start runs the binary on a free port and waits until it is ready. On
// failure the process is gone when it returns.
func (s *Server) start(ctx context.Context, binary string) error {
	port, err := process.FreePort()
	if err != nil {
		return err
	}
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	if err := s.writeConfig(); err != nil {
		return err
	}
	return s.launch(ctx, binary)
}

// launch runs the binary on s.addr with the configuration and storage in
// s.dir, and waits until it is ready. On failure the process is gone when it
// returns.
func (s *Server) launch(ctx context.Context, binary string) error {
	// The log is appended to: a server resumed after Halt keeps what it
	// logged before.
	proc, err := process.Start(process.Options{Name: "prometheus", Binary: binary, LogPath: s.LogPath(),
		AppendLog: true, Args: []string{
			"--config.file=" + s.configPath(),
			"--storage.tsdb.path=" + filepath.Join(s.dir, "data"),
			"--web.listen-address=" + s.addr,
			"--web.enable-lifecycle",
		}})
	if err != nil {
		return err
	}
	s.proc = proc
	if err := s.waitReady(ctx); err != nil {
		proc.Kill()
		return fmt.Errorf("prometheus on %s: %w; its log:\n%s", s.addr, err, s.LogTail(20))
	}
	return nil
}

// waitReady polls /-/ready until it answers 200, the process exits or ctx
// ends.
func (s *Server) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/-/ready", nil)
		if err != nil {
			return fmt.Errorf("build readiness request: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.proc.Exited():
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// URL is the base URL of the server's HTTP API, http://127.0.0.1:PORT.
func (s *Server) URL() string {
	return "http://" + s.addr
}

// Addr is the server's host:port.
func (s *Server) Addr() string {
	return s.addr
}

// LogPath is the file the server writes its log to. It is removed by Stop.
func (s *Server) LogPath() string {
	return filepath.Join(s.dir, "prometheus.log")
}

// LogTail returns the last n lines of the server's log, for diagnostics.
func (s *Server) LogTail(n int) string {
	return process.LogTail(s.LogPath(), n)
}

// Stop ends the server (SIGTERM, then SIGKILL after a grace period) and
// removes its directory. Calling it again does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	errs := []error{s.proc.Stop()}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", s.dir, err))
	}
	return errors.Join(errs...)
}

// Halt stops the server as an outage would (SIGTERM, then SIGKILL after a
// grace period) and keeps its address, configuration and storage, so that
// Resume brings the same server back: queries meanwhile are refused.
func (s *Server) Halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("prometheus was stopped")
	}
	return s.proc.Stop()
}

// Resume starts a halted server again on the same address, with the samples
// it had stored, and returns once it answers as ready. It does nothing to a
// server that runs.
func (s *Server) Resume(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("prometheus was stopped")
	}
	select {
	case <-s.proc.Exited():
	default:
		return nil
	}
	return s.launch(ctx, s.binary)
}

// readAll reads a response body for an error message.
func readAll(resp *http.Response) string {
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return strings.TrimSpace(b.String())
}
