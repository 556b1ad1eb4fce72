package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"text/template"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

//go:embed manifests/*.yaml
var manifests embed.FS

// Scenario is a named series of releases of one app.
type Scenario struct {
	// Name is what --scenario takes.
	Name string
	// Kind, App and Manifest say what is installed, at image v1.
	Kind, App, Manifest string
	// Releases follow one another.
	Releases []Release
	// Gateway says the releases go through Traefik: the sandbox must be
	// started with Options.Gateway.
	Gateway bool
}

// Scenarios are the sandbox's scenarios, in the order `all` runs them.
var Scenarios = []Scenario{
	{
		Name: "canary", Kind: KindCanary, App: "podinfo", Manifest: "manifests/podinfo.yaml",
		Releases: []Release{
			{Kind: KindCanary, App: "podinfo", Image: "v2", Want: Promoted, About: "healthy"},
			{Kind: KindCanary, App: "podinfo", Image: "v3-bad", Want: RolledBack, About: "5% errors and slow: past both ceilings"},
			{Kind: KindCanary, App: "podinfo", Image: "v4-slow", Want: RolledBack, About: "a slower tail, inside the p99 ceiling: the judge's case"},
		},
	},
	{
		Name: "bluegreen", Kind: KindBlueGreen, App: "checkout", Manifest: "manifests/checkout.yaml",
		Releases: []Release{
			{Kind: KindBlueGreen, App: "checkout", Image: "v2-bad", Want: RolledBack, About: "20% errors: the smoke test through the preview fails"},
			{Kind: KindBlueGreen, App: "checkout", Image: "v2", Want: Promoted, About: "healthy: tested, then flipped"},
		},
	},
	gatewayScenario,
}

// Select returns the scenarios a --scenario value names: "all" or one name.
func Select(name string) ([]Scenario, error) {
	if name == "" || name == "all" {
		return Scenarios, nil
	}
	var names []string
	for _, s := range Scenarios {
		if s.Name == name {
			return []Scenario{s}, nil
		}
		names = append(names, s.Name)
	}
	return nil, fmt.Errorf("no scenario %q: choose all, %s", name, strings.Join(names, " or "))
}

// Runner runs scenarios on a Sandbox.
type Runner struct {
	Sandbox *Sandbox
	// Journal receives a line for each thing the runner does or sees; nil
	// drops them.
	Journal func(line string)
	// Recheck is how long a weight above the step status has reached may
	// last before it counts as an overshoot: status is written first and
	// the route follows (one write in flight); zero means 500 ms. The
	// fault suite, whose operator is down for seconds at a time, allows
	// longer.
	Recheck time.Duration
	// Timeout bounds each release and each installation; zero means 3
	// minutes.
	Timeout time.Duration
	// Settle is how long traffic is measured after an outcome; zero means
	// 3 seconds.
	Settle time.Duration
	// Poll is how often the runner looks; zero means 100 ms.
	Poll time.Duration

	mu      sync.Mutex
	current string
	stable  map[string]string // app → image tag serving its live traffic
}

// Current says what the runner is doing now, for a live view's header.
func (r *Runner) Current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

func (r *Runner) doing(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.current = line
	r.mu.Unlock()
	r.note("%s", line)
}

func (r *Runner) note(format string, args ...any) {
	if r.Journal != nil {
		r.Journal(fmt.Sprintf(format, args...))
	}
}

func (r *Runner) timeout() time.Duration { return cmp.Or(r.Timeout, 3*time.Minute) }
func (r *Runner) settle() time.Duration  { return cmp.Or(r.Settle, 3*time.Second) }
func (r *Runner) poll() time.Duration    { return cmp.Or(r.Poll, 100*time.Millisecond) }
func (r *Runner) recheck() time.Duration { return cmp.Or(r.Recheck, 500*time.Millisecond) }

// Run installs each scenario's app and runs its releases, returning every
// result. It stops at the first error; a release with an unexpected
// outcome is a result, not an error.
func (r *Runner) Run(ctx context.Context, scenarios []Scenario) ([]Result, error) {
	var results []Result
	for _, sc := range scenarios {
		if err := r.Install(ctx, sc); err != nil {
			return results, err
		}
		for _, rel := range sc.Releases {
			res, err := r.Release(ctx, rel)
			if err != nil {
				return results, err
			}
			results = append(results, res)
		}
	}
	return results, nil
}

// Install applies a scenario's manifest at image v1 and waits until Sluice
// has made it stable.
func (r *Runner) Install(ctx context.Context, sc Scenario) error {
	r.doing("installing %s %s/%s at v1", sc.Kind, Namespace, sc.App)
	if sc.Gateway && r.Sandbox.Traefik == nil {
		return fmt.Errorf("scenario %s releases through Traefik: start the sandbox with Options.Gateway", sc.Name)
	}
	values := map[string]string{
		"Namespace":  Namespace,
		"Image":      image(sc.App, "v1"),
		"Prometheus": r.Sandbox.Prometheus.URL(),
		"Tester":     r.Sandbox.TesterURL,
	}
	maps.Copy(values, r.Sandbox.gatewayValues())
	objs, err := render(sc.Manifest, values)
	if err != nil {
		return err
	}
	for _, u := range objs {
		err := r.Sandbox.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("sluice-sandbox"), client.ForceOwnership)
		if err != nil {
			return fmt.Errorf("apply %s %s from %s: %w", u.GetKind(), u.GetName(), sc.Manifest, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	err = r.until(ctx, func() (bool, error) {
		st, err := r.state(ctx, sc.Kind, sc.App)
		return err == nil && st.phase == v1alpha1.PhaseStable && st.stable != "", err
	})
	if err != nil {
		return fmt.Errorf("wait for %s %s/%s to be stable at v1: %w", sc.Kind, Namespace, sc.App, err)
	}
	r.note("%s %s/%s is stable at v1", sc.Kind, Namespace, sc.App)
	r.SetStable(sc.App, "v1")
	return nil
}

// SetStable records the image tag that serves app's live traffic, the
// version a rollback must leave serving.
func (r *Runner) SetStable(app, tag string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stable == nil {
		r.stable = map[string]string{}
	}
	r.stable[app] = tag
}

func (r *Runner) stableOf(app string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stable[app]
}

// image is the demo image of an app at a tag.
func image(app, tag string) string { return "demo/" + app + ":" + tag }

// render fills in a manifest's [[ ]] fields and decodes its objects.
func render(name string, values map[string]string) ([]*unstructured.Unstructured, error) {
	raw, err := manifests.ReadFile(name)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New(name).Delims("[[", "]]").Option("missingkey=error").Parse(string(raw))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, values); err != nil {
		return nil, fmt.Errorf("fill in %s: %w", name, err)
	}
	return decodeAll(name, &buf)
}

// state is what the runner reads of a release each poll.
type state struct {
	phase    v1alpha1.Phase
	stable   string // stable (Canary) or active (BlueGreen) revision
	inFlight string // canary (Canary) or preview (BlueGreen) revision
	aborted  bool
	reason   string
	step     int32 // Canary: current step
	// canaryFull is true once a Canary's promotion put all traffic on the
	// canary (status.canaryFullAt), until the release ends.
	canaryFull bool
	analysis   *v1alpha1.AnalysisStatus
	steps      []v1alpha1.CanaryStep
}

func (r *Runner) state(ctx context.Context, kind, app string) (state, error) {
	key := types.NamespacedName{Namespace: Namespace, Name: app}
	if kind == KindCanary {
		c := &v1alpha1.Canary{}
		if err := r.Sandbox.Client.Get(ctx, key, c); err != nil {
			return state{}, err
		}
		st := c.Status
		return state{
			phase: st.Phase, stable: st.StableRevision, inFlight: st.CanaryRevision, aborted: st.AbortedAt != nil,
			reason: st.AbortReason, step: st.CurrentStep, analysis: st.Analysis, steps: c.Spec.Steps,
			canaryFull: st.PromotingAt != nil || st.CanaryFullAt != nil,
		}, nil
	}
	bg := &v1alpha1.BlueGreen{}
	if err := r.Sandbox.Client.Get(ctx, key, bg); err != nil {
		return state{}, err
	}
	st := bg.Status
	return state{
		phase: st.Phase, stable: st.ActiveRevision, inFlight: st.PreviewRevision, aborted: st.AbortedAt != nil,
		reason: st.AbortReason, analysis: st.Analysis,
	}, nil
}

// until polls done until it is true, fails, or ctx ends.
func (r *Runner) until(ctx context.Context, done func() (bool, error)) error {
	var last error
	for {
		ok, err := done()
		if ok {
			return nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			last = err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-time.After(r.poll()):
		}
	}
}

// Release releases one version and watches it to its outcome.
func (r *Runner) Release(ctx context.Context, rel Release) (Result, error) {
	res := Result{Release: rel, Got: TimedOut, Stable: r.stableOf(rel.App)}
	r.doing("releasing %s (%s): expect %s", rel, rel.About, rel.Want)
	rev, err := r.setImage(ctx, rel.App, rel.Image)
	if err != nil {
		return res, err
	}
	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	var last state
	err = r.until(ctx, func() (bool, error) {
		st, err := r.state(ctx, rel.Kind, rel.App)
		if err != nil {
			return false, err
		}
		last = st
		if err := r.observe(ctx, &res, st, rev); err != nil {
			return false, err
		}
		switch {
		case st.stable == rev && st.phase == v1alpha1.PhaseStable:
			res.Got = Promoted
		case st.inFlight == rev && st.aborted:
			res.Got = RolledBack
		default:
			return false, nil
		}
		return true, nil
	})
	res.Took = time.Since(start)
	if parent.Err() != nil {
		return res, parent.Err() // interrupted: no outcome to report
	}
	if err != nil && ctx.Err() == nil {
		return res, err
	}
	if res.Got != Promoted {
		res.Reason = last.reason
	}
	if a := last.analysis; a != nil {
		for _, m := range a.Results {
			if m.Outcome == v1alpha1.OutcomeFailed {
				res.FailedMetrics = append(res.FailedMetrics, m.Name)
			}
		}
		if a.Judge != nil {
			res.Judge, res.JudgeSummary = a.Judge.Decision, a.Judge.Summary
		}
	}
	if res.Got == TimedOut {
		r.note("%s: no outcome within %s (phase %s)", rel, r.timeout(), last.phase)
		return res, nil
	}
	if res.Got == Promoted {
		r.SetStable(rel.App, rel.Image)
	}
	if rel.Kind == KindCanary {
		r.settleWeight(ctx, &res)
	}
	res.Served, err = r.served(ctx, rel)
	r.note("%s: %s after %s%s; then %s", rel, res.Got, res.Took.Round(100*time.Millisecond), because(res), servedText(res.Served))
	return res, err
}

// setImage changes the image of an app's Deployment and returns the
// revision Sluice will know it by.
func (r *Runner) setImage(ctx context.Context, app, tag string) (string, error) {
	d := &appsv1.Deployment{}
	key := types.NamespacedName{Namespace: Namespace, Name: app}
	if err := r.Sandbox.Client.Get(ctx, key, d); err != nil {
		return "", fmt.Errorf("read Deployment %s: %w", key, err)
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Image = image(app, tag)
	if err := r.Sandbox.Client.Patch(ctx, d, patch); err != nil {
		return "", fmt.Errorf("set the image of Deployment %s to %s: %w", key, tag, err)
	}
	return workload.Revision(&d.Spec.Template), nil
}
