package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
	"github.com/sluice-dev/sluice/test/mesh"
)

//go:embed manifests/*.yaml
var manifests embed.FS

// Outcome is how a release ended.
type Outcome string

// Outcomes of a release.
const (
	Promoted   Outcome = "promoted"
	RolledBack Outcome = "rolled back"
	TimedOut   Outcome = "timed out"
)

// Kinds of release.
const (
	KindCanary    = "Canary"
	KindBlueGreen = "BlueGreen"
)

// Release is one version of a demo app, released by changing the image of
// its Deployment.
type Release struct {
	// Kind is KindCanary or KindBlueGreen.
	Kind string
	// App is the Deployment, Canary or BlueGreen name.
	App string
	// Image is the tag released; Images says how it answers.
	Image string
	// Want is the outcome a working Sluice gives.
	Want Outcome
	// About says what the version does, for people.
	About string
}

// String names the release for people.
func (r Release) String() string {
	return fmt.Sprintf("%s %s/%s %s", r.Kind, Namespace, r.App, r.Image)
}

// Result is what happened to a release.
type Result struct {
	Release
	// Got is how it ended.
	Got Outcome
	// Took is from the image change to the outcome.
	Took time.Duration
	// Reason is the abort reason of a rollback, empty on promotion.
	Reason string
	// FailedMetrics name the metrics whose last result failed.
	FailedMetrics []string
	// Judge is the judge's last decision and its summary, if it ran.
	Judge v1alpha1.JudgeDecision
	// JudgeSummary says what the judge saw.
	JudgeSummary string
	// Steps are the setWeight values of the Canary's steps.
	Steps []int32
	// PassedWeight is the weight of the last setWeight step the release
	// passed (got beyond) before it ended; zero when none.
	PassedWeight int32
	// Weights are the canary weights the VirtualService carried during the
	// release, each change once, in order (Canary).
	Weights []int32
	// Overshoots describe every time the VirtualService carried a weight
	// above the last setWeight step the release had reached, as status
	// said both then and a moment later (Canary). A working Sluice has none.
	Overshoots []string
	// Stable is the image tag that served the live traffic before the
	// release; a rollback must leave it serving.
	Stable string
	// Colors are the colors the live Service selected during the
	// release, each change once, in order (BlueGreen).
	Colors []string
	// Served counts the requests the app's live traffic sent to each image
	// tag in the Settle window after the outcome.
	Served map[string]int64
}

// OK reports whether the release ended as wanted and Check finds nothing
// wrong.
func (r Result) OK() bool { return r.Check() == nil }

// Check lists what went wrong with a release, beyond its outcome: the
// canary weight above the step in force or not back to 0, the live traffic
// afterwards not all served by the version that should serve it (the new
// one after a promotion, the stable one after a rollback), a blue-green
// Service that flipped when it should not have or did not when it should.
func (r Result) Check() error {
	var errs []error
	if r.Got != r.Want {
		errs = append(errs, fmt.Errorf("%s: want %s", r.Got, r.Want))
	}
	if r.Got == TimedOut {
		return errors.Join(errs...)
	}
	switch r.Kind {
	case KindCanary:
		for _, o := range r.Overshoots {
			errs = append(errs, errors.New(o))
		}
		if n := len(r.Weights); n == 0 || r.Weights[n-1] != 0 {
			errs = append(errs, fmt.Errorf("canary weight not back to 0 at the end: %v", r.Weights))
		}
	case KindBlueGreen:
		flipped := len(r.Colors) > 1
		if flipped != (r.Got == Promoted) {
			errs = append(errs, fmt.Errorf("live Service colors %v after a release %s", r.Colors, r.Got))
		}
	}
	serving := r.Stable
	if r.Got == Promoted {
		serving = r.Image
	}
	var total int64
	for _, n := range r.Served {
		total += n
	}
	if total == 0 || r.Served[serving] != total {
		errs = append(errs, fmt.Errorf("live traffic after the outcome should all be served by %s: %s", serving, servedText(r.Served)))
	}
	return errors.Join(errs...)
}

// Scenario is a named series of releases of one app.
type Scenario struct {
	// Name is what --scenario takes.
	Name string
	// Kind, App and Manifest say what is installed, at image v1.
	Kind, App, Manifest string
	// Releases follow one another.
	Releases []Release
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
	objs, err := render(sc.Manifest, map[string]string{
		"Namespace":  Namespace,
		"Image":      image(sc.App, "v1"),
		"Prometheus": r.Sandbox.Prometheus.URL(),
		"Tester":     r.Sandbox.TesterURL,
	})
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

// settleWeight follows the canary weight for up to Recheck after the outcome:
// status is written before the route, so the last weight write may still be
// in flight when status says how the release ended.
func (r *Runner) settleWeight(ctx context.Context, res *Result) {
	deadline := time.Now().Add(r.recheck())
	for {
		w, ok, err := r.canaryWeight(ctx, res.App)
		if err == nil && ok {
			if n := len(res.Weights); n == 0 || res.Weights[n-1] != w {
				res.Weights = append(res.Weights, w)
			}
			if w == 0 {
				return
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return
		}
		time.Sleep(r.poll())
	}
}

// because explains an outcome in a few words.
func because(res Result) string {
	if res.Got != RolledBack {
		return ""
	}
	return " (" + res.Reason + ")"
}

// servedText describes who served the traffic after an outcome.
func servedText(served map[string]int64) string {
	var total int64
	for _, n := range served {
		total += n
	}
	if total == 0 {
		return "no traffic measured"
	}
	var parts []string
	for _, tag := range slices.Sorted(maps.Keys(served)) {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", tag, 100*float64(served[tag])/float64(total)))
	}
	return "live traffic served by " + strings.Join(parts, ", ")
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

// observe records the canary weight the VirtualService carries, the step
// the release has passed, and the color the live Service selects.
func (r *Runner) observe(ctx context.Context, res *Result, st state, rev string) error {
	if res.Kind == KindBlueGreen {
		svc := &corev1.Service{}
		err := r.Sandbox.Client.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: workload.ApexName(res.App)}, svc)
		if err != nil {
			return client.IgnoreNotFound(err)
		}
		if c := svc.Spec.Selector[workload.LabelColor]; c != "" && (len(res.Colors) == 0 || res.Colors[len(res.Colors)-1] != c) {
			res.Colors = append(res.Colors, c)
		}
		return nil
	}
	res.Steps = setWeights(st.steps)
	res.PassedWeight = max(res.PassedWeight, passedWeight(st, rev))
	w, ok, err := r.canaryWeight(ctx, res.App)
	if err != nil || !ok {
		return err
	}
	if n := len(res.Weights); n == 0 || res.Weights[n-1] != w {
		res.Weights = append(res.Weights, w)
	}
	if w <= reachedWeight(st, rev) {
		return nil
	}
	// The route and status are two writes: look again a moment later, at
	// both, before calling it an overshoot.
	time.Sleep(r.recheck())
	later, err := r.state(ctx, res.Kind, res.App)
	if err != nil {
		return err
	}
	w, ok, err = r.canaryWeight(ctx, res.App)
	if err != nil || !ok {
		return err
	}
	if reached := reachedWeight(later, rev); w > reached {
		res.Overshoots = append(res.Overshoots, fmt.Sprintf(
			"the VirtualService sent %d%% to the canary while status had reached a step of %d%% (step index %d)", w, reached, later.step))
	}
	return nil
}

// canaryWeight reads the weight the app's VirtualService gives the canary.
func (r *Runner) canaryWeight(ctx context.Context, app string) (int32, bool, error) {
	vs := &networkingv1.VirtualService{}
	if err := r.Sandbox.Client.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: app}, vs); err != nil {
		return 0, false, client.IgnoreNotFound(err)
	}
	for _, h := range vs.Spec.GetHttp() {
		for _, d := range h.GetRoute() {
			if strings.HasPrefix(d.GetDestination().GetHost(), workload.CanaryName(app)) {
				return d.GetWeight(), true, nil
			}
		}
	}
	return 0, false, nil
}

// setWeights are the weights of a Canary's setWeight steps, in order.
func setWeights(steps []v1alpha1.CanaryStep) []int32 {
	var out []int32
	for _, s := range steps {
		if s.SetWeight != nil {
			out = append(out, *s.SetWeight)
		}
	}
	return out
}

// passedWeight is the weight of the last setWeight step the release of rev
// has got beyond; 0 when none, or when status is about another revision.
func passedWeight(st state, rev string) int32 {
	w := int32(0)
	for i, s := range st.steps {
		if s.SetWeight != nil && st.inFlight == rev && int32(i) < st.step {
			w = *s.SetWeight
		}
	}
	return w
}

// reachedWeight is the most the canary of rev may get by status: the
// weight of the last setWeight step at or before the current one, all of
// them once every step passed (while the primary takes over), and 0 when
// status is about another revision or the release was rolled back.
func reachedWeight(st state, rev string) int32 {
	switch {
	case st.inFlight != rev:
		return 0
	case st.canaryFull:
		// A promotion moves all traffic to the canary, ready at full
		// size, while the primary takes the new version; a rollback from
		// there keeps it until the primary is back.
		return 100
	case st.aborted:
		return 0
	}
	w := int32(0)
	for i, s := range st.steps {
		if s.SetWeight != nil && int32(i) <= st.step {
			w = *s.SetWeight
		}
	}
	return w
}

// served measures which image tags the app's live traffic reaches for the
// Settle window.
func (r *Runner) served(ctx context.Context, rel Release) (map[string]int64, error) {
	m := r.Sandbox.Podinfo
	if rel.Kind == KindBlueGreen {
		m = r.Sandbox.Checkout
	}
	// The emulator rereads routes and endpoints every 200 ms and lets the
	// requests in flight finish: what it sends after this grace follows
	// the outcome.
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Second):
	}
	before := sentByImage(m)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(r.settle()):
	}
	after := sentByImage(m)
	out := map[string]int64{}
	for tag, n := range after {
		if d := n - before[tag]; d > 0 {
			out[tag] = d
		}
	}
	return out, nil
}

func sentByImage(m *mesh.Mesh) map[string]int64 {
	out := map[string]int64{}
	for tag := range Images {
		out[tag] = m.SentToImage(tag)
	}
	return out
}
