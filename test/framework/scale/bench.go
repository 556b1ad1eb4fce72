package scale

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/cluster"
)

// Options configure one run of the benchmark.
type Options struct {
	// N is how many Canaries run.
	N int
	// Workers is the operator's --workers.
	Workers int
	// Wave is how many Canaries are released at once (at most N-Aborts).
	Wave int
	// Aborts is how many Canaries are aborted: half idle, half during the
	// wave.
	Aborts int
	// Pause is the length of each timed pause of a release.
	Pause time.Duration
	// Rest is how long the operator is watched at rest.
	Rest time.Duration
	// Log receives progress lines.
	Log io.Writer
	// OperatorLog, when set, is where the operator's log is kept (appended
	// to); empty: a temporary file removed with the run.
	OperatorLog string
	// LogLevel is the operator's --zap-log-level; "5" logs every reconcile
	// with controller-runtime's own lines, for tracing. Empty: error.
	LogLevel string
}

// Result is what one run measured.
type Result struct {
	Options
	Onboard                   time.Duration
	OnboardWrites, RestWrites Writes
	// OnboardRequests are the operator's API requests by method from its
	// start to the end of onboarding, OnboardEvents the Events it created.
	OnboardRequests                        Writes
	OnboardEvents                          Events
	NoopWrites, RestartWrites              Writes
	RestReconciles, Noops, RestartRecs     float64
	NoopP50, NoopP99                       float64
	RestartP50, RestartP99, RestartSeconds float64
	WaveSeconds, WaveP50, WaveP99          float64
	Lateness                               []time.Duration
	AbortIdle, AbortWave                   []time.Duration
	PeakMiB                                float64
	// Load is the machine's 1-minute load average over the run, WaveLoad
	// during the wave.
	Load, WaveLoad string
	// WaveCPU is the CPU time of the control plane's processes and the
	// operator during the wave.
	WaveCPU CPU
	// WaveReconciles and WaveRequests count the operator's reconciles and
	// API requests (by method) during the wave; WaveRTT50 and WaveRTT99 are
	// the requests' latency quantiles in seconds.
	WaveReconciles       float64
	WaveRequests         Writes
	WaveRTT50, WaveRTT99 float64
	// WaveReleases is how many releases the wave started (promoted and
	// aborted); WaveWrites are the writes of the operator to the resources
	// it writes during the wave (kube-apiserver's counts less the
	// benchmark's own image changes and commands), WaveEvents the Events it
	// created.
	WaveReleases int
	WaveWrites   Writes
	WaveEvents   Events
}

// bench holds what the phases share.
type bench struct {
	o       Options
	cluster *cluster.Cluster
	k8s     client.Client
	ns      string
	rec     *recorder
	op      *operator
	images  int
	load    loadSampler
}

func (b *bench) logf(format string, args ...any) {
	if b.o.Log != nil {
		_, _ = fmt.Fprintf(b.o.Log, "[N=%d %s] %s\n", b.o.N, time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}

// Run runs the benchmark once: a fresh control plane, N Canaries, the real
// operator binary.
func Run(ctx context.Context, o Options) (Result, error) {
	o.Aborts = min(o.Aborts, o.N/2)
	o.Wave = max(min(o.Wave, o.N-o.Aborts), 0)
	res := Result{Options: o}
	root, err := moduleRoot(ctx)
	if err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp("", "sluice-bench-scale-")
	if err != nil {
		return res, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	b := &bench{o: o, ns: "scale"}
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go b.load.run(lctx, 5*time.Second)
	b.logf("building the operator and starting the control plane")
	bin, err := buildOperator(ctx, root, dir)
	if err != nil {
		return res, err
	}
	crds, err := cluster.DefaultCRDs()
	if err != nil {
		return res, err
	}
	if b.cluster, err = cluster.Start(ctx, cluster.Options{CRDs: crds, Nodes: 4}); err != nil {
		return res, err
	}
	defer func() { _ = b.cluster.Stop() }()
	if b.k8s, err = client.New(b.cluster.Config(), client.Options{Scheme: apiserver.NewScheme()}); err != nil {
		return res, err
	}
	logPath := cmp.Or(o.OperatorLog, filepath.Join(dir, "operator.log"))
	b.op = &operator{bin: bin, kubeconfig: b.cluster.KubeconfigPath(), log: logPath, workers: o.Workers, logLevel: o.LogLevel}
	defer b.op.stop()
	err = b.phases(ctx, &res)
	res.Load = b.load.since(0)
	if err != nil {
		if tail, rerr := os.ReadFile(b.op.log); rerr == nil && len(tail) > 0 {
			lines := strings.Split(strings.TrimSpace(string(tail)), "\n")
			b.logf("operator log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	}
	return res, err
}

func (b *bench) phases(ctx context.Context, res *Result) error {
	for _, phase := range []struct {
		name string
		run  func(context.Context, *Result) error
	}{
		{"create the objects", b.create},
		{"onboard", b.onboard},
		{"rest", b.rest},
		{"no-op reconciles", b.noops},
		{"restart", b.restart},
		{"aborts while idle", b.abortIdle},
		{"wave", b.wave},
	} {
		b.logf("phase: %s", phase.name)
		if err := phase.run(ctx, res); err != nil {
			return fmt.Errorf("%s: %w", phase.name, err)
		}
	}
	b.op.sample()
	res.PeakMiB = b.op.peakMiB
	return nil
}

func (b *bench) create(ctx context.Context, _ *Result) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: b.ns}}
	if err := b.k8s.Create(ctx, ns); err != nil {
		return err
	}
	for ctx.Err() == nil {
		if b.k8s.Get(ctx, client.ObjectKey{Namespace: b.ns, Name: "default"}, &corev1.ServiceAccount{}) == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.rec = newRecorder(b.o.Pause, pauseSteps...)
	if err := b.rec.start(ctx, b.cluster.Config(), b.ns); err != nil {
		return err
	}
	for i := range b.o.N {
		d, c := release(b.ns, i, b.o.Pause)
		for _, obj := range []client.Object{d, c} {
			if err := b.k8s.Create(ctx, obj); err != nil {
				return fmt.Errorf("create %s: %w", obj.GetName(), err)
			}
		}
	}
	return nil
}

func (b *bench) writes(ctx context.Context) Writes {
	w, err := apiserverWrites(ctx, b.cluster.Config())
	if err != nil {
		b.logf("read the API server's metrics: %v", err)
	}
	return w
}

func (b *bench) reconciles(ctx context.Context) Reconciles {
	r, err := operatorReconciles(ctx, b.op.metricsURL)
	if err != nil {
		b.logf("read the operator's metrics: %v", err)
	}
	return r
}

// settle waits until the writes stop for quiet (at most limit).
func (b *bench) settle(ctx context.Context, quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, since := b.writes(ctx).Total(), time.Now()
	for time.Now().Before(deadline) && time.Since(since) < quiet && ctx.Err() == nil {
		time.Sleep(time.Second)
		if now := b.writes(ctx).Total(); now != last {
			last, since = now, time.Now()
		}
	}
}

func (b *bench) onboard(ctx context.Context, res *Result) error {
	before := b.writes(ctx)
	t0 := time.Now()
	if err := b.op.start(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	if err := waitCanaries(wctx, b.k8s, b.ns, indexes(0, b.o.N), readyAt(nil)); err != nil {
		return err
	}
	res.Onboard = time.Since(t0)
	b.settle(ctx, 5*time.Second, 2*time.Minute)
	res.OnboardWrites = b.writes(ctx).Minus(before)
	if reqs, err := operatorRequests(ctx, b.op.metricsURL); err == nil {
		res.OnboardRequests = reqs.ByMethod
	}
	var err error
	res.OnboardEvents, err = sluiceEvents(ctx, b.k8s, b.ns, t0)
	return err
}

func (b *bench) rest(ctx context.Context, res *Result) error {
	w, r := b.writes(ctx), b.reconciles(ctx)
	time.Sleep(b.o.Rest)
	res.RestWrites = b.writes(ctx).Minus(w)
	res.RestReconciles = b.reconciles(ctx).Total - r.Total
	return nil
}

func (b *bench) noops(ctx context.Context, res *Result) error {
	k := min(100, b.o.N)
	w, r := b.writes(ctx), b.reconciles(ctx)
	for i := range k {
		if err := annotate(ctx, b.k8s, b.ns, i, "example.com/poke", time.Now().Format(time.RFC3339Nano)); err != nil {
			return err
		}
	}
	b.waitReconciles(ctx, r.Total+float64(k), time.Minute)
	time.Sleep(2 * time.Second)
	after := b.reconciles(ctx)
	res.NoopWrites = b.writes(ctx).Minus(w).Minus(Writes{"PATCH canaries": float64(k)})
	res.Noops = after.Total - r.Total
	res.NoopP50, res.NoopP99 = after.Quantile(r, 0.5), after.Quantile(r, 0.99)
	return nil
}

func (b *bench) waitReconciles(ctx context.Context, total float64, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil && b.reconciles(ctx).Total < total {
		time.Sleep(200 * time.Millisecond)
	}
}

func (b *bench) restart(ctx context.Context, res *Result) error {
	b.op.stop()
	w := b.writes(ctx)
	t0 := time.Now()
	if err := b.op.start(ctx); err != nil {
		return err
	}
	b.waitReconciles(ctx, float64(b.o.N), 10*time.Minute)
	res.RestartSeconds = time.Since(t0).Seconds()
	b.settle(ctx, 5*time.Second, time.Minute)
	after := b.reconciles(ctx)
	res.RestartWrites = b.writes(ctx).Minus(w)
	res.RestartRecs = after.Total
	res.RestartP50, res.RestartP99 = after.Quantile(Reconciles{}, 0.5), after.Quantile(Reconciles{}, 0.99)
	return nil
}

// bump gives the Canaries of idx a new image at once.
func (b *bench) bump(ctx context.Context, idx []int) error {
	b.images++
	image := fmt.Sprintf("podinfo:6.1.%d", b.images)
	for _, i := range idx {
		if err := setImage(ctx, b.k8s, b.ns, i, image); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) wave(ctx context.Context, res *Result) error {
	during := indexes(b.o.Aborts/2, b.o.Aborts)
	wave := indexes(b.o.Aborts, b.o.Aborts+b.o.Wave)
	before, err := stableRevisions(ctx, b.k8s, b.ns)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	b.rec.lateness()
	m := b.mark(ctx)
	if err := b.bump(ctx, append(append([]int{}, wave...), during...)); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	aborts := make(chan error, 1)
	go func() {
		for n, i := range during {
			// Spread the aborts over the wave: one every pause/len(during).
			time.Sleep(time.Until(m.t0.Add(time.Duration(n+1) * 2 * b.o.Pause / time.Duration(len(during)+1))))
			d, err := b.abort(wctx, i)
			if err != nil {
				aborts <- fmt.Errorf("abort %s: %w", name(i), err)
				return
			}
			res.AbortWave = append(res.AbortWave, d)
		}
		aborts <- nil
	}()
	if err := waitCanaries(wctx, b.k8s, b.ns, wave, readyAt(before)); err != nil {
		return err
	}
	res.WaveSeconds = time.Since(m.t0).Seconds()
	if err := <-aborts; err != nil {
		return err
	}
	after := b.reconciles(ctx)
	res.WaveP50, res.WaveP99 = after.Quantile(m.recs, 0.5), after.Quantile(m.recs, 0.99)
	res.Lateness = b.rec.lateness()
	res.WaveLoad, res.WaveCPU = b.load.since(m.load), childrenCPU().Minus(m.cpu)
	res.WaveReleases = len(wave) + len(during)
	return b.countWave(ctx, res, m, Writes{
		"PATCH deployments": float64(res.WaveReleases), "PATCH canaries": float64(len(during))})
}

// waveMark is where the counters stood when the wave began.
type waveMark struct {
	t0     time.Time
	recs   Reconciles
	reqs   Requests
	writes Writes
	load   int
	cpu    CPU
}

func (b *bench) mark(ctx context.Context) waveMark {
	reqs, _ := operatorRequests(ctx, b.op.metricsURL)
	return waveMark{recs: b.reconciles(ctx), reqs: reqs, writes: b.writes(ctx), load: b.load.mark(), cpu: childrenCPU(),
		t0: time.Now()}
}

// countWave counts the operator's requests, writes and Events since m, the
// benchmark's own writes (own) left out. Why it settles first: the last
// promotions' scale-downs and Events come just after their Canaries read
// Ready.
func (b *bench) countWave(ctx context.Context, res *Result, m waveMark, own Writes) error {
	b.settle(ctx, 3*time.Second, 30*time.Second)
	res.WaveReconciles = b.reconciles(ctx).Total - m.recs.Total
	if now, err := operatorRequests(ctx, b.op.metricsURL); err == nil {
		res.WaveRequests = now.ByMethod.Minus(m.reqs.ByMethod)
		res.WaveRTT50, res.WaveRTT99 = now.Latency.Quantile(m.reqs.Latency, 0.5), now.Latency.Quantile(m.reqs.Latency, 0.99)
	}
	res.WaveWrites = b.writes(ctx).Minus(m.writes).Minus(own)
	var err error
	res.WaveEvents, err = sluiceEvents(ctx, b.k8s, b.ns, m.t0)
	return err
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}
