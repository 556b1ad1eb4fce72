package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/workload"
)

// AnalysisOptions selects the release whose analysis `analysis` tries.
type AnalysisOptions struct {
	// Namespace and Name of the release.
	Namespace, Name string
	// Kind tells a Canary and a BlueGreen of the same name apart.
	Kind Kind
	// JSON prints the report as JSON instead of a table.
	JSON bool
	// Address, when set, receives every query instead of the provider the
	// spec names (for example through kubectl port-forward); an analysis
	// that names no provider (the operator's default) needs it.
	Address string
	// Providers builds the providers queries are sent to.
	Providers analysis.Registry
	// Credentials reads a provider's Secret with the user's own rights;
	// nil sends no credentials.
	Credentials analysis.CredentialsReader
}

// QueryReport is one query as `analysis` ran it.
type QueryReport struct {
	// Name of the metric, or of the judge's counter and the version read.
	Name string `json:"name"`
	// Query as rendered for the current canary and primary.
	Query string `json:"query"`
	// Value the provider returned, as text; empty without one.
	Value string `json:"value,omitempty"`
	// Threshold is the passing range, for a threshold metric.
	Threshold string `json:"threshold,omitempty"`
	// Outcome is Passed, Failed, NoData or Error, for a threshold metric;
	// Read or NoData or Error for a judge counter.
	Outcome string `json:"outcome"`
	// Cause says why there is no value, and what to look at.
	Cause string `json:"cause,omitempty"`
}

// AnalysisReport is what `analysis` found for one analysis of a release.
type AnalysisReport struct {
	// Release names the release, for example "canary shop/podinfo".
	Release string `json:"release"`
	// Field is the analysis: analysis, prePromotionAnalysis or
	// postPromotionAnalysis.
	Field string `json:"field"`
	// Source says where the analysis came from: the spec, a template
	// resolved now, or the analysis pinned by the release in flight.
	Source string `json:"source"`
	// Canary and Primary are the workloads the queries were rendered for.
	Canary  string `json:"canary"`
	Primary string `json:"primary"`
	// Queries are the threshold metrics, the sample gate and the judge's
	// counters, in that order.
	Queries []QueryReport `json:"queries"`
}

// Analysis renders every query of a release's analysis for its current
// canary and primary, runs it now, and prints each value with its threshold,
// or "no data" with a likely cause, and the judge's counters per version.
func Analysis(ctx context.Context, w io.Writer, c client.Client, o AnalysisOptions) error {
	r, err := find(ctx, c, o.Namespace, o.Name, o.Kind)
	if err != nil {
		return err
	}
	targets, err := analysesOf(ctx, c, r)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return fmt.Errorf("%s has no analysis: there are no queries to try", r)
	}
	t := &trial{o: o, built: map[string]analysis.Provider{}}
	reports := make([]AnalysisReport, 0, len(targets))
	for _, a := range targets {
		reports = append(reports, t.run(ctx, r, a))
	}
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	return printReports(w, reports)
}

// target is one analysis of a release, resolved.
type target struct {
	field, source    string
	a                *v1alpha1.Analysis
	canary, primary  string
	namespace, owner string
}

// analysesOf resolves the analyses of r as the operator would: the pinned
// one while a release is in flight, else the template now.
func analysesOf(ctx context.Context, c client.Client, r release) ([]target, error) {
	var out []target
	add := func(field string, own *v1alpha1.Analysis, pins []v1alpha1.PinnedAnalysis, revision, canary, primary string) error {
		if own == nil {
			return nil
		}
		t := target{field: field, source: "spec", a: own, canary: canary, primary: primary,
			namespace: r.object().GetNamespace(), owner: r.object().GetName()}
		if pin := analysis.PinFor(pins, field, revision, own); pin != nil {
			t.a, t.source = &pin.Analysis, fmt.Sprintf("%s, pinned by the release of revision %s", pin.Template, revision)
		} else if own.TemplateRef != nil {
			tmpl, err := readTemplate(ctx, c, t.namespace, own.TemplateRef)
			if err != nil {
				return err
			}
			if t.a, err = analysis.Resolve(own, tmpl); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			t.source = analysis.TemplateName(own.TemplateRef) + ", resolved now"
		}
		out = append(out, t)
		return nil
	}
	if cn := r.canary; cn != nil {
		name := cn.Spec.TargetRef.Name
		err := add("analysis", cn.Spec.Analysis, cn.Status.PinnedAnalyses, cn.Status.CanaryRevision, name, workload.PrimaryName(name))
		return out, err
	}
	bg := r.blueGreen
	name := bg.Spec.TargetRef.Name
	fresh := bg.Status.ActiveColor.Other()
	if bg.Status.ActiveColor == "" {
		fresh = v1alpha1.ColorBlue
	}
	canary, primary := workload.ColorName(name, fresh), workload.ColorName(name, fresh.Other())
	for _, p := range []struct {
		field string
		p     *v1alpha1.PhaseAnalysis
	}{{"prePromotionAnalysis", bg.Spec.PrePromotionAnalysis}, {"postPromotionAnalysis", bg.Spec.PostPromotionAnalysis}} {
		if p.p == nil {
			continue
		}
		if err := add(p.field, &p.p.Analysis, bg.Status.PinnedAnalyses, bg.Status.PreviewRevision, canary, primary); err != nil {
			return out, err
		}
	}
	return out, nil
}

// readTemplate reads the template ref names; nil when it does not exist.
func readTemplate(ctx context.Context, c client.Client, ns string, ref *v1alpha1.AnalysisTemplateRef) (*v1alpha1.AnalysisTemplateSpec, error) {
	var err error
	if ref.Kind == v1alpha1.KindAnalysisTemplate {
		t := &v1alpha1.AnalysisTemplate{}
		if err = c.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, t); err == nil {
			return &t.Spec, nil
		}
	} else {
		t := &v1alpha1.ClusterAnalysisTemplate{}
		if err = c.Get(ctx, types.NamespacedName{Name: ref.Name}, t); err == nil {
			return &t.Spec, nil
		}
	}
	if client.IgnoreNotFound(err) == nil {
		return nil, nil
	}
	return nil, fmt.Errorf("read %s: %w", analysis.TemplateName(ref), err)
}

// trial runs the queries of one `analysis` command.
type trial struct {
	o     AnalysisOptions
	built map[string]analysis.Provider
}

func (t *trial) run(ctx context.Context, r release, tg target) AnalysisReport {
	rep := AnalysisReport{Release: r.String(), Field: tg.field, Source: tg.source, Canary: tg.canary, Primary: tg.primary}
	a := tg.a
	interval := time.Minute
	if a.Interval != nil && a.Interval.Duration > 0 {
		interval = a.Interval.Duration
	}
	vars := analysis.QueryVars{Namespace: tg.namespace, Name: tg.owner, Canary: tg.canary, Primary: tg.primary, Interval: interval}
	for _, m := range a.Metrics {
		q := t.one(ctx, m.Name, m.Query, m.Provider, a.Provider, vars)
		q.Threshold = thresholdText(m.ThresholdRange)
		if q.Outcome == "" {
			res := analysis.Evaluate(m, mustFloat(q.Value), nil, time.Now())
			q.Outcome = string(res.Outcome)
		}
		rep.Queries = append(rep.Queries, q)
	}
	if a.SampleQuery != "" {
		q := t.one(ctx, analysis.ResultSample, a.SampleQuery, nil, a.Provider, vars)
		q.Threshold = fmt.Sprintf("[%d, +Inf)", a.MinSampleRequests)
		if q.Outcome == "" {
			q.Outcome = string(v1alpha1.OutcomePassed)
			if mustFloat(q.Value) < float64(a.MinSampleRequests) {
				q.Outcome = string(v1alpha1.OutcomeNoData)
			}
		}
		rep.Queries = append(rep.Queries, q)
	}
	if j := a.Judge; j != nil {
		for _, side := range []struct{ version, workload string }{{"canary", tg.canary}, {"primary", tg.primary}} {
			v := vars
			v.Workload = side.workload
			for _, c := range []struct{ name, query string }{
				{analysis.JudgeQueryRequests, j.Requests}, {analysis.JudgeQueryErrors, j.Errors}, {analysis.JudgeQuerySlowRequests, j.SlowRequests},
			} {
				if c.query == "" {
					continue
				}
				q := t.one(ctx, "judge "+c.name+" ("+side.version+")", c.query, j.Provider, a.Provider, v)
				if q.Outcome == "" {
					q.Outcome = "Read"
				}
				rep.Queries = append(rep.Queries, q)
			}
		}
	}
	return rep
}

// one renders and runs one query; Outcome is left empty when it returned a
// number, for the caller to judge.
func (t *trial) one(ctx context.Context, name, tmpl string, own, def *v1alpha1.MetricProvider, vars analysis.QueryVars) QueryReport {
	q := QueryReport{Name: name}
	rendered, err := analysis.RenderQuery(tmpl, vars)
	if err != nil {
		q.Query, q.Outcome, q.Cause = tmpl, string(v1alpha1.OutcomeError), err.Error()
		return q
	}
	q.Query = rendered
	p, err := t.provider(ctx, vars.Namespace, own, def)
	if err != nil {
		q.Outcome, q.Cause = string(v1alpha1.OutcomeError), err.Error()
		return q
	}
	value, err := p.Query(ctx, rendered)
	switch {
	case errors.Is(err, analysis.ErrNoData):
		q.Outcome, q.Cause = string(v1alpha1.OutcomeNoData), diagnose(ctx, p, rendered, value)
	case err != nil:
		q.Outcome, q.Cause = string(v1alpha1.OutcomeError), providerCause(err)
	default:
		q.Value = strconv.FormatFloat(value, 'g', 6, 64)
	}
	return q
}

// provider builds the provider a query goes to: --prometheus-address when
// given, else the spec's.
func (t *trial) provider(ctx context.Context, ns string, own, def *v1alpha1.MetricProvider) (analysis.Provider, error) {
	spec, err := analysis.EffectiveProvider(own, def)
	switch {
	case t.o.Address != "":
		spec = v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: t.o.Address}
	case err != nil:
		return nil, fmt.Errorf("the analysis names no provider (the operator's default answers it): " +
			"give its address with --prometheus-address, for example after kubectl port-forward")
	}
	key := fmt.Sprintf("%s|%s", spec.Address, spec.SecretRef)
	if p, ok := t.built[key]; ok {
		return p, nil
	}
	var creds analysis.Credentials
	if spec.SecretRef != nil && t.o.Credentials != nil {
		if creds, err = t.o.Credentials(ctx, ns, spec.SecretRef); err != nil {
			return nil, fmt.Errorf("read credentials from Secret %s/%s: %w", ns, spec.SecretRef.Name, err)
		}
	}
	p, err := t.o.Providers.New(spec, creds)
	if err != nil {
		return nil, err
	}
	t.built[key] = p
	return p, nil
}

func thresholdText(r v1alpha1.ThresholdRange) string {
	lower, upper := "(-Inf", "+Inf)"
	if r.Min != nil {
		lower = "[" + strconv.FormatFloat(*r.Min, 'g', -1, 64)
	}
	if r.Max != nil {
		upper = strconv.FormatFloat(*r.Max, 'g', -1, 64) + "]"
	}
	return lower + ", " + upper
}

func mustFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// printReports writes each report as a table.
func printReports(w io.Writer, reports []AnalysisReport) error {
	for i, rep := range reports {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s, %s (%s): canary %s, primary %s\n", rep.Release, rep.Field, rep.Source, rep.Canary, rep.Primary)
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "QUERY\tVALUE\tTHRESHOLD\tOUTCOME")
		for _, q := range rep.Queries {
			value := q.Value
			if value == "" {
				value = "no data"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", q.Name, value, orDash(q.Threshold), q.Outcome)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, q := range rep.Queries {
			fmt.Fprintf(w, "  %s: %s\n", q.Name, strings.Join(strings.Fields(q.Query), " "))
			if q.Cause != "" {
				fmt.Fprintf(w, "    -> %s\n", q.Cause)
			}
		}
	}
	return nil
}
