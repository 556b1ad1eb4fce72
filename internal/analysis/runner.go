package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
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
}

// Workloads are the names a check's queries are about.
type Workloads struct {
	// Namespace of the release.
	Namespace string
	// Name of the target.
	Name string
	// Canary is the workload being released (the canary, or the new colour).
	Canary string
	// Primary is the stable workload it is compared with.
	Primary string
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	// Results has one entry per metric, plus sample-size and judge entries
	// when those could not be evaluated.
	Results []v1alpha1.MetricResult
	// Judge is the judge's new status, nil without a judge. When its counters
	// could not be read it is the previous status, unchanged.
	Judge *v1alpha1.JudgeStatus
}

// Run runs the check at now. Problems with a provider never come back as an
// error: they are results with outcome Error or NoData, which hold a release.
func (r *Runner) Run(ctx context.Context, a *v1alpha1.Analysis, w Workloads, prevJudge *v1alpha1.JudgeStatus, now time.Time) CheckResult {
	return (&checkRun{Runner: r, built: map[string]builtProvider{}}).run(ctx, a, w, prevJudge, now)
}

func (r *checkRun) run(ctx context.Context, a *v1alpha1.Analysis, w Workloads, prevJudge *v1alpha1.JudgeStatus, now time.Time) CheckResult {
	var out CheckResult
	vars := QueryVars{Namespace: w.Namespace, Name: w.Name, Canary: w.Canary, Primary: w.Primary, Interval: interval(a)}
	enough, sample := r.sampleGate(ctx, a, vars, now)
	for _, m := range a.Metrics {
		if !enough {
			out.Results = append(out.Results, v1alpha1.MetricResult{Name: m.Name, Outcome: sample.Outcome,
				Message: "not checked: " + sample.Message, Time: metav1.NewTime(now)})
			continue
		}
		p, err := r.provider(ctx, w.Namespace, m.Provider, a.Provider)
		if err != nil {
			out.Results = append(out.Results, Evaluate(m, 0, err, now))
			continue
		}
		out.Results = append(out.Results, Check(ctx, p, m, vars, now))
	}
	if !enough {
		out.Results = append(out.Results, sample)
	}
	if a.Judge != nil {
		judge, problem := r.judge(ctx, a, vars, prevJudge, now)
		out.Judge = judge
		if problem != nil {
			out.Results = append(out.Results, *problem)
		}
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

// judge reads both versions' cumulative counters and adds them to the
// judge's evidence. When a counter cannot be read the evidence stays as it
// was and the problem comes back as a result.
func (r *checkRun) judge(ctx context.Context, a *v1alpha1.Analysis, vars QueryVars, prev *v1alpha1.JudgeStatus, now time.Time) (*v1alpha1.JudgeStatus, *v1alpha1.MetricResult) {
	j := a.Judge
	problem := func(err error) (*v1alpha1.JudgeStatus, *v1alpha1.MetricResult) {
		res := Evaluate(v1alpha1.Metric{Name: ResultJudge}, 0, err, now)
		return prev.DeepCopy(), &res
	}
	var reading JudgeReading
	for _, side := range []struct {
		workload string
		into     *JudgeCounters
	}{{vars.Canary, &reading.Canary}, {vars.Primary, &reading.Primary}} {
		v := vars
		v.Workload = side.workload
		var err error
		if side.into.Requests, err = r.count(ctx, j.Requests, j.Provider, a.Provider, v); err != nil {
			return problem(fmt.Errorf("read requests of %s: %w", side.workload, err))
		}
		if side.into.Errors, err = r.count(ctx, j.Errors, j.Provider, a.Provider, v); err != nil {
			return problem(fmt.Errorf("read errors of %s: %w", side.workload, err))
		}
		if j.SlowRequests != "" {
			if side.into.SlowRequests, err = r.count(ctx, j.SlowRequests, j.Provider, a.Provider, v); err != nil {
				return problem(fmt.Errorf("read slow requests of %s: %w", side.workload, err))
			}
		}
	}
	st, err := EvaluateJudge(*j, prev, reading)
	if err != nil {
		return problem(ProviderErrorf("evaluate the judge: %w", err))
	}
	return &st, nil
}

// count reads a cumulative counter. A counter with no series yet is zero: a
// version that has served nothing has counted nothing.
func (r *checkRun) count(ctx context.Context, query string, own, def *v1alpha1.MetricProvider, vars QueryVars) (int64, error) {
	v, err := r.query(ctx, vars.Namespace, query, own, def, vars)
	if errors.Is(err, ErrNoData) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return int64(math.Round(v)), nil
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
// Secret) once per check, however many queries go to it.
type checkRun struct {
	*Runner
	built map[string]builtProvider
}

type builtProvider struct {
	p   Provider
	err error
}

// provider returns the provider a query goes to, built once per check.
func (r *checkRun) provider(ctx context.Context, namespace string, own, def *v1alpha1.MetricProvider) (Provider, error) {
	spec, err := EffectiveProvider(own, def)
	if err != nil {
		return nil, ProviderErrorf("%w", err)
	}
	key := providerKey(spec)
	if b, ok := r.built[key]; ok {
		return b.p, b.err
	}
	p, err := r.build(ctx, namespace, spec)
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
