// Command sandbox runs Sluice's whole closed loop on this machine, with no
// cluster: a local control plane, Sluice, a mesh emulator sending real HTTP
// traffic, a real Prometheus, and scenarios in which a good release is
// promoted and bad ones are rolled back, shown live; the gateway scenario
// releases through a real Traefik. `make sandbox` runs it.
//
//	go run ./cmd/sandbox [--scenario all|canary|bluegreen|gateway] [--rate N] [--keep] [--dir DIR]
//
// It exits 0 when every release ended as expected.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sluice-dev/sluice/internal/cli"
	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

func main() {
	os.Exit(run())
}

func run() int {
	scenario := flag.String("scenario", "all", "scenarios to run: all, canary, bluegreen or gateway")
	rate := flag.Float64("rate", sandbox.DefaultRate, "demo traffic per app, in requests per second")
	keep := flag.Bool("keep", false, "leave everything running after the scenarios, until Ctrl-C, and print how to reach it")
	dir := flag.String("dir", defaultDir(), "the control plane's kubeconfig (DIR/kubeconfig), certificates and logs; emptied at start, kept after exit")
	flag.Parse()
	scenarios, err := sandbox.Select(*scenario)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 2
	}
	if *rate <= 0 {
		fmt.Fprintln(os.Stderr, "sandbox: --rate must be a positive number of requests per second")
		return 2
	}
	// The operator's own logs would drown the view; its decisions show as
	// Events and status there. Errors still reach stderr.
	ctrllog.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel), zap.WriteTo(os.Stderr)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t0 := time.Now()
	term := isTerminal(os.Stdout)
	j := &journal{out: os.Stdout, live: true}

	sb, err := sandbox.Start(ctx, sandbox.Options{Rate: *rate, Dir: *dir, Log: j, Gateway: sandbox.NeedsGateway(scenarios)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 1
	}
	defer func() {
		if err := sb.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox: stop:", err)
		}
	}()

	runner := &sandbox.Runner{Sandbox: sb, Journal: j.line}
	viewCtx, stopView := context.WithCancel(ctx)
	var view sync.WaitGroup
	if term {
		j.setLive(false) // the view shows the journal in its header
	}
	view.Go(func() {
		err := cli.Watch(viewCtx, os.Stdout, sb.Client, cli.WatchOptions{
			Namespace: sandbox.Namespace,
			Terminal:  term,
			Interval:  500 * time.Millisecond,
			Header: func() string {
				return header(*scenario, sb.Rate(), time.Since(t0), runner.Current(), j.tail(6), term)
			},
		})
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "sandbox: live view:", err)
		}
	})
	results, runErr := runner.Run(ctx, scenarios)
	stopView()
	view.Wait()
	j.setLive(true)

	fmt.Println()
	fmt.Printf("Sluice sandbox: %d releases in %s\n", len(results), time.Since(t0).Round(time.Second))
	if len(results) > 0 {
		_ = sandbox.WriteSummary(os.Stdout, results)
	}
	code := 0
	for _, r := range results {
		if !r.OK() {
			code = 1
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Println("interrupted")
		return 130
	case runErr != nil:
		fmt.Fprintln(os.Stderr, "sandbox:", runErr)
		code = 1
	case code == 0:
		fmt.Println("every release ended as expected")
	default:
		fmt.Printf("some releases did not end as expected: see above; the control plane's logs are in %s/logs\n", sb.Cluster.Dir())
	}
	if *keep {
		keepRunning(ctx, sb)
	}
	return code
}

// keepRunning prints how to reach the sandbox and waits for Ctrl-C.
func keepRunning(ctx context.Context, sb *sandbox.Sandbox) {
	fmt.Printf(`
The sandbox keeps running until Ctrl-C. Point kubectl (or the plugin) at it:

  export KUBECONFIG=%s
  kubectl get canaries,bluegreens -n %s
  go run ./cmd/kubectl-sluice status podinfo -n %s --watch
  go run ./cmd/kubectl-sluice get -n %s

Prometheus: %s   (try istio_requests_total)
Release again: kubectl -n %s set image deployment/podinfo podinfo=demo/podinfo:v3-bad
Images and how they answer: v1, v2 healthy; v3-bad 5%% errors, slow; v4-slow a slower tail; v2-bad 20%% errors.
`, sb.Cluster.KubeconfigPath(), sandbox.Namespace, sandbox.Namespace, sandbox.Namespace, sb.Prometheus.URL(), sandbox.Namespace)
	if sb.Traefik != nil {
		fmt.Printf(`Traefik serves the Gateway at %s (try curl -i %s/); its metrics: traefik_service_requests_total.
Release storefront through it: kubectl -n %s set image deployment/storefront storefront=demo/storefront:v3-bad
`, sb.Traefik.URL(), sb.Traefik.URL(), sandbox.Namespace)
	}
	<-ctx.Done()
}

// defaultDir is where the sandbox keeps its control plane's files: a known
// place, beside the test tools' cache, so that the kubeconfig is always at
// the same path.
func defaultDir() string {
	cache := os.Getenv("SLUICE_CACHE")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "sluice-sandbox")
		}
		cache = filepath.Join(base, "sluice")
	}
	return filepath.Join(cache, "sandbox")
}

// header is the top of the live view: what runs and the latest journal.
func header(scenario string, rate float64, elapsed time.Duration, current string, tail []string, term bool) string {
	if !term {
		return "" // plain mode prints the journal as it goes
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Sluice sandbox   scenario %s   traffic %g req/s per app   %s\n", scenario, rate, elapsed.Round(time.Second))
	fmt.Fprintf(&b, "Now: %s\n", current)
	for _, l := range tail {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

// journal collects the sandbox's progress lines: printed at once while
// live, and kept for the live view's header.
type journal struct {
	mu    sync.Mutex
	out   io.Writer
	live  bool
	lines []string
}

func (j *journal) setLive(live bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.live = live
}

// line records one line, stamped with the time.
func (j *journal) line(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	s = time.Now().Format(time.TimeOnly) + " " + s
	j.lines = append(j.lines, s)
	if j.live {
		_, _ = fmt.Fprintln(j.out, s)
	}
}

// Write takes log lines from the sandbox's parts.
func (j *journal) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		j.line(l)
	}
	return len(p), nil
}

func (j *journal) tail(n int) []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.lines[max(0, len(j.lines)-n):]...)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
