package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Result names used in status for the parts of a check that are not metrics.
const (
	// ResultSample is the result of the sample-size gate (minSampleRequests).
	ResultSample = "sample-size"
	// ResultJudge is the result of reading the judge's counters.
	ResultJudge = "judge"
)

// CredentialsReader turns a provider's Secret reference into credentials.
type CredentialsReader func(ctx context.Context, namespace string, ref *corev1.LocalObjectReference) (Credentials, error)

// Runner runs one analysis check for a release: every threshold metric, the
// sample-size gate and the judge's reading. It keeps no state: what it needs
// from the past (the judge's evidence) is passed in and handed back.
type Runner struct {
	// Providers builds a provider for each metric provider spec.
	Providers Registry
	// Credentials reads a provider's Secret; nil means no credentials.
	Credentials CredentialsReader
	// Default is the operator-wide provider of a metric or judge that names
	// none and whose analysis names none; nil means there is none.
	Default *DefaultProvider
}

// DefaultProvider is the operator-wide provider (--default-prometheus-*
// flags). Its Secret is read in the operator's namespace, so a release
// object borrows these credentials only for queries sent to this address:
// a release that names a provider of its own never gets them.
type DefaultProvider struct {
	// Spec is the provider; its secretRef names a Secret in
	// SecretNamespace, which must consent as any provider Secret does.
	Spec v1alpha1.MetricProvider
	// SecretNamespace is where Spec.SecretRef is read: the operator's own
	// namespace.
	SecretNamespace string
}

// Workloads are the names a check's queries are about.
type Workloads struct {
	// Namespace of the release.
	Namespace string
	// Name of the target.
	Name string
	// Canary is the workload being released (the canary, or the new color).
	Canary string
	// Primary is the stable workload it is compared with.
	Primary string
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	// Results has one entry per metric, a judge entry with an analysis that
	// has a judge, and a sample-size entry when the sample was too small or
	// could not be read.
	Results []v1alpha1.MetricResult
	// Judge is the judge's new status, nil without a judge. When its counters
	// could not be read it is the previous status, unchanged.
	Judge *v1alpha1.JudgeStatus
}

// MaxParallelQueries bounds how many queries of one check are in flight at
// once. The metrics of a check, and the judge's counters, are read in
// parallel up to this bound, so that a check takes about as long as its
// slowest query rather than the sum of them all; each query is bounded by
// its provider's timeout.
const MaxParallelQueries = 4

// Run runs the check at now. Problems with a provider never come back as an
// error: they are results with outcome Error or NoData, which hold a release.
func (r *Runner) Run(ctx context.Context, a *v1alpha1.Analysis, w Workloads, prevJudge *v1alpha1.JudgeStatus, now time.Time) CheckResult {
	run := &checkRun{Runner: r, built: map[string]builtProvider{}, slots: make(chan struct{}, MaxParallelQueries)}
	return run.run(ctx, a, w, prevJudge, now)
}

// run reads the judge's counters while the sample gate and then the
// metrics are read; results come back in the spec's order whatever order
// the answers arrive in.
func (r *checkRun) run(ctx context.Context, a *v1alpha1.Analysis, w Workloads, prevJudge *v1alpha1.JudgeStatus, now time.Time) CheckResult {
	var out CheckResult
	vars := QueryVars{Namespace: w.Namespace, Name: w.Name, Canary: w.Canary, Primary: w.Primary, Interval: interval(a)}
	var judged sync.WaitGroup
	var judgeRes v1alpha1.MetricResult
	if a.Judge != nil {
		judged.Go(func() { out.Judge, judgeRes = r.judge(ctx, a, vars, prevJudge, now) })
	}
	enough, sample := r.sampleGate(ctx, a, vars, now)
	results := make([]v1alpha1.MetricResult, len(a.Metrics))
	var checked sync.WaitGroup
	for i, m := range a.Metrics {
		if !enough {
			results[i] = v1alpha1.MetricResult{Name: m.Name, Outcome: sample.Outcome,
				Message: "not checked: " + sample.Message, Time: metav1.NewTime(now)}
			continue
		}
		checked.Go(func() {
			p, err := r.provider(ctx, w.Namespace, m.Provider, a.Provider)
			if err != nil {
				results[i] = Evaluate(m, 0, err, now)
				return
			}
			results[i] = Check(ctx, p, m, vars, now)
		})
	}
	checked.Wait()
	out.Results = results
	if !enough {
		out.Results = append(out.Results, sample)
	}
	judged.Wait()
	if a.Judge != nil {
		out.Results = append(out.Results, judgeRes)
	}
	return out
}

// sampleGate reports whether the canary served enough requests in the
// interval for the metrics to count. Below the minimum, or when the sample
// cannot be read, the check holds.
func (r *checkRun) sampleGate(ctx context.Context, a *v1alpha1.Analysis, vars QueryVars, now time.Time) (bool, v1alpha1.MetricResult) {
	res := v1alpha1.MetricResult{Name: ResultSample, Time: metav1.NewTime(now)}
	if a.MinSampleRequests <= 0 || a.SampleQuery == "" {
		return true, res
	}
	value, err := r.query(ctx, vars.Namespace, a.SampleQuery, nil, a.Provider, vars)
	switch {
	case errors.Is(err, ErrNoData):
		res.Outcome, res.Message = v1alpha1.OutcomeNoData, "the canary served no requests in the interval"
		return false, res
	case err != nil:
		res.Outcome, res.Message = v1alpha1.OutcomeError, err.Error()
		return false, res
	case value < float64(a.MinSampleRequests):
		res.Outcome = v1alpha1.OutcomeNoData
		res.Value = fmt.Sprintf("%.0f", value)
		res.Message = fmt.Sprintf("the canary served %.0f requests in the interval, fewer than minSampleRequests %d",
			value, a.MinSampleRequests)
		return false, res
	}
	return true, res
}

// judge reads both versions' cumulative counters, series by series, and
// adds them to the judge's evidence. It always reports a result named
// ResultJudge, so that a check says what the judge measured: NoData for the
// baseline reading and for a reading with no new requests on either version
// (queries that match nothing, no traffic), Failed when the judge decided
// Rollback, Passed otherwise. When a counter cannot be read the evidence
// stays as it was and the problem is the result. Evidence gathered under
// another judge spec (another JudgeFingerprint) is dropped, never mixed in.
func (r *checkRun) judge(ctx context.Context, a *v1alpha1.Analysis, vars QueryVars, prev *v1alpha1.JudgeStatus, now time.Time) (*v1alpha1.JudgeStatus, v1alpha1.MetricResult) {
	j := a.Judge
	fingerprint := v1alpha1.JudgeFingerprint(j, a.Provider)
	if prev != nil && prev.Fingerprint != fingerprint {
		prev = nil
	}
	problem := func(err error) (*v1alpha1.JudgeStatus, v1alpha1.MetricResult) {
		return prev.DeepCopy(), Evaluate(v1alpha1.Metric{Name: ResultJudge}, 0, err, now)
	}
	queries := map[string]string{JudgeQueryRequests: j.Requests, JudgeQueryErrors: j.Errors}
	if j.SlowRequests != "" {
		queries[JudgeQuerySlowRequests] = j.SlowRequests
	}
	sample := JudgeSample{Canary: map[string]Series{}, Primary: map[string]Series{}}
	reads := r.judgeReads(ctx, queries, j.Provider, a.Provider, vars)
	for _, rd := range reads {
		if rd.err != nil {
			return problem(fmt.Errorf("read %s of %s: %w", rd.name, rd.workload, rd.err))
		}
		if rd.workload == vars.Canary {
			sample.Canary[rd.name] = rd.series
		} else {
			sample.Primary[rd.name] = rd.series
		}
	}
	st, data, err := EvaluateJudgeSample(*j, prev, sample)
	if err != nil {
		return problem(ProviderErrorf("evaluate the judge: %w", err))
	}
	st.Fingerprint = fingerprint
	return &st, judgeResult(st, prev == nil, data, now)
}

// judgeRead is one counter of one workload, read for the judge.
type judgeRead struct {
	workload, name string
	series         Series
	err            error
}

// judgeReads reads every counter of both workloads in parallel (up to the
// check's bound) and returns them in a fixed order, canary first, so that
// the first problem reported does not depend on which answer came first.
func (r *checkRun) judgeReads(ctx context.Context, queries map[string]string, own, def *v1alpha1.MetricProvider, vars QueryVars) []judgeRead {
	var reads []judgeRead
	for _, workload := range []string{vars.Canary, vars.Primary} {
		for _, name := range []string{JudgeQueryRequests, JudgeQueryErrors, JudgeQuerySlowRequests} {
			if _, ok := queries[name]; ok {
				reads = append(reads, judgeRead{workload: workload, name: name})
			}
		}
	}
	var wg sync.WaitGroup
	for i := range reads {
		wg.Go(func() {
			v := vars
			v.Workload = reads[i].workload
			reads[i].series, reads[i].err = r.series(ctx, queries[reads[i].name], own, def, v)
		})
	}
	wg.Wait()
	return reads
}

// judgeResult says what one reading of the judge measured.
func judgeResult(st v1alpha1.JudgeStatus, baseline, data bool, now time.Time) v1alpha1.MetricResult {
	res := v1alpha1.MetricResult{Name: ResultJudge, Time: metav1.NewTime(now), Message: st.Summary}
	switch {
	case st.Decision == v1alpha1.JudgeRollback:
		res.Outcome = v1alpha1.OutcomeFailed
	case baseline:
		res.Outcome = v1alpha1.OutcomeNoData
		res.Message = "first reading of the judge's counters, a baseline: the judge compares from the next check"
	case !data:
		res.Outcome = v1alpha1.OutcomeNoData
		res.Message = "no new requests on the canary or the primary since the last check " +
			"(the judge's queries matched no new traffic): no data, hold"
	default:
		res.Outcome = v1alpha1.OutcomePassed
	}
	return res
}

// series reads a cumulative counter query, series by series. A query that
// matches nothing is an empty reading (a version that has served nothing
// has counted nothing, or a gap). A provider that cannot return series
// answers with one number, read as a single series.
func (r *checkRun) series(ctx context.Context, query string, own, def *v1alpha1.MetricProvider, vars QueryVars) (Series, error) {
	p, err := r.provider(ctx, vars.Namespace, own, def)
	if err != nil {
		return nil, err
	}
	q, err := RenderQuery(query, vars)
	if err != nil {
		return nil, err
	}
	out := Series{}
	if sp, ok := p.(SeriesProvider); ok {
		values, err := sp.QuerySeries(ctx, q)
		if err != nil {
			return nil, err
		}
		for labels, v := range values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 {
				out[labels] = int64(math.Round(v))
			}
		}
		return out, nil
	}
	v, err := p.Query(ctx, q)
	switch {
	case errors.Is(err, ErrNoData):
		return out, nil
	case err != nil:
		return nil, err
	}
	out[""] = int64(math.Round(v))
	return out, nil
}

func (r *checkRun) query(ctx context.Context, namespace, tmpl string, own, def *v1alpha1.MetricProvider, vars QueryVars) (float64, error) {
	p, err := r.provider(ctx, namespace, own, def)
	if err != nil {
		return 0, err
	}
	q, err := RenderQuery(tmpl, vars)
	if err != nil {
		return 0, err
	}
	return p.Query(ctx, q)
}

// checkRun is one check in progress. It builds each provider (and reads its
// Secret) once per check, however many queries go to it, and lets at most
// MaxParallelQueries queries be in flight at once.
type checkRun struct {
	*Runner
	mu    sync.Mutex
	built map[string]builtProvider
	slots chan struct{}
}

type builtProvider struct {
	p   Provider
	err error
}

// provider returns the provider a query goes to, built once per check.
func (r *checkRun) provider(ctx context.Context, namespace string, own, def *v1alpha1.MetricProvider) (Provider, error) {
	spec, err := EffectiveProvider(own, def)
	key := providerKey(spec)
	switch {
	case err != nil && r.Default != nil:
		spec, namespace, key = r.Default.Spec, r.Default.SecretNamespace, "default|"+providerKey(r.Default.Spec)
	case err != nil:
		return nil, ProviderErrorf("%w (and the operator has no default provider)", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.built[key]; ok {
		return b.p, b.err
	}
	p, err := r.build(ctx, namespace, spec)
	if err == nil {
		p = bounded(p, r.slots)
	}
	r.built[key] = builtProvider{p, err}
	return p, err
}

// providerKey identifies a provider spec by value.
func providerKey(spec v1alpha1.MetricProvider) string {
	timeout, secret := "", ""
	if spec.Timeout != nil {
		timeout = spec.Timeout.Duration.String()
	}
	if spec.SecretRef != nil {
		secret = spec.SecretRef.Name
	}
	return fmt.Sprintf("%s|%s|%s|%s|%t|%t", spec.Type, spec.Address, timeout, secret, spec.InsecureSkipVerify,
		spec.AllowInsecureCredentials)
}

// build builds a provider. A missing or unreadable Secret is a provider
// error: the check holds, the release does not fail.
func (r *Runner) build(ctx context.Context, namespace string, spec v1alpha1.MetricProvider) (Provider, error) {
	var err error
	var creds Credentials
	if spec.SecretRef != nil && r.Credentials != nil {
		if creds, err = r.Credentials(ctx, namespace, spec.SecretRef); err != nil {
			return nil, ProviderErrorf("read credentials from Secret %s/%s: %w", namespace, spec.SecretRef.Name, err)
		}
	}
	p, err := r.Providers.New(spec, creds)
	if err != nil {
		return nil, ProviderErrorf("%w", err)
	}
	return p, nil
}

// SecretCredentials returns a CredentialsReader that reads Secrets with c,
// refuses those that do not consent to it (see CheckConsent) and decodes the
// others with decode (each provider knows its Secret's keys).
func SecretCredentials(c client.Reader, decode func(*corev1.Secret) (Credentials, error)) CredentialsReader {
	return func(ctx context.Context, namespace string, ref *corev1.LocalObjectReference) (Credentials, error) {
		var s corev1.Secret
		if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, &s); err != nil {
			return Credentials{}, err
		}
		if err := CheckConsent(&s); err != nil {
			return Credentials{}, err
		}
		return decode(&s)
	}
}

func interval(a *v1alpha1.Analysis) time.Duration {
	if a.Interval != nil && a.Interval.Duration > 0 {
		return a.Interval.Duration
	}
	return time.Minute
}
