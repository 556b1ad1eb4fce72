package promserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// configPath is where the server's configuration lives.
func (s *Server) configPath() string {
	return filepath.Join(s.dir, "prometheus.yml")
}

// writeConfig writes a configuration scraping s.targets every s.interval.
// The target's own labels win over Prometheus' (honor_labels), so stand-ins
// can export exactly the labels a mesh would.
func (s *Server) writeConfig() error {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n",
		s.interval, s.interval, s.interval)
	if len(s.targets) > 0 {
		b.WriteString("scrape_configs:\n- job_name: targets\n  honor_labels: true\n  static_configs:\n  - targets:\n")
		for _, t := range s.targets {
			fmt.Fprintf(&b, "    - %q\n", t) // a JSON string is a YAML string
		}
	}
	tmp := s.configPath() + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write prometheus configuration: %w", err)
	}
	if err := os.Rename(tmp, s.configPath()); err != nil {
		return fmt.Errorf("write prometheus configuration: %w", err)
	}
	return nil
}

// Targets returns the targets the server scrapes, as host:port.
func (s *Server) Targets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.targets)
}

// SetTargets replaces the scraped targets and reloads the configuration.
// Call WaitForTargets to know when the new targets have been scraped.
func (s *Server) SetTargets(ctx context.Context, targets ...string) error {
	s.mu.Lock()
	s.targets = normalise(targets)
	err := s.writeConfig()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/-/reload", nil)
	if err != nil {
		return fmt.Errorf("build reload request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reload prometheus configuration: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reload prometheus configuration: %s: %s", resp.Status, readAll(resp))
	}
	return nil
}

// activeTargets is the part of /api/v1/targets the server's users read.
type activeTargets struct {
	Data struct {
		ActiveTargets []struct {
			ScrapeURL string `json:"scrapeUrl"`
			Health    string `json:"health"`
			LastError string `json:"lastError"`
		} `json:"activeTargets"`
	} `json:"data"`
}

// WaitForTargets returns once every target has been scraped successfully at
// least once, so that queries see their series; it fails when ctx ends first,
// saying which targets were not up and why. Prometheus applies a new target
// list within about five seconds.
func (s *Server) WaitForTargets(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		pending, err := s.pendingTargets(ctx)
		if err == nil && len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("wait for targets: %w (last: %w)", ctx.Err(), err)
			}
			return fmt.Errorf("wait for targets: %w; not up: %s", ctx.Err(), strings.Join(pending, "; "))
		case <-tick.C:
		}
	}
}

// pendingTargets lists the targets not yet scraped successfully, with the
// reason when Prometheus knows one.
func (s *Server) pendingTargets(ctx context.Context) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/api/v1/targets?state=active", nil)
	if err != nil {
		return nil, fmt.Errorf("build targets request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body activeTargets
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode targets: %w", err)
	}
	var pending []string
	for _, want := range s.Targets() {
		state := "not discovered yet"
		for _, got := range body.Data.ActiveTargets {
			if got.ScrapeURL != "http://"+want+"/metrics" {
				continue
			}
			state = got.Health
			if got.LastError != "" {
				state += ": " + got.LastError
			}
		}
		if state != "up" {
			pending = append(pending, want+" "+state)
		}
	}
	return pending, nil
}

// normalise turns targets into host:port, dropping an http:// prefix.
func normalise(targets []string) []string {
	out := make([]string, 0, len(targets))
	for _, t := range targets {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(t, "http://"), "/"))
	}
	return out
}
