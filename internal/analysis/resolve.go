package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// TemplateError is an analysis that cannot be resolved from its template: a
// template that does not exist, an argument missing, unknown or of the
// wrong type. The release object (or the template) must change; no release
// starts until it does.
type TemplateError struct {
	// Problem says what is wrong and what to write instead.
	Problem string
}

// Error implements error.
func (e *TemplateError) Error() string { return e.Problem }

func templateErrorf(format string, args ...any) error {
	return &TemplateError{Problem: fmt.Sprintf(format, args...)}
}

// argRef matches an argument in a query: $(args.name).
var argRef = regexp.MustCompile(`\$\(args\.([A-Za-z][A-Za-z0-9_]*)\)`)

// TemplateName writes a reference as Kind/name, the way status and messages
// name a template.
func TemplateName(ref *v1alpha1.AnalysisTemplateRef) string {
	kind := ref.Kind
	if kind == "" {
		kind = v1alpha1.KindClusterAnalysisTemplate
	}
	return string(kind) + "/" + ref.Name
}

// Resolve returns the analysis a release runs: a itself when it has no
// templateRef, else the template tmpl with the fields set in a laid over it
// and every $(args.name) replaced by its value. tmpl is nil when the
// template does not exist. It never changes a or tmpl. Every problem is a
// *TemplateError.
//
// Overrides: a scalar (interval, failureLimit, errorLimit,
// minSampleRequests, sampleQuery) or the provider set in a wins; a metric of
// a replaces the template's metric of the same name, and other metrics of a
// are added after the template's; a judge in a replaces the template's.
func Resolve(a *v1alpha1.Analysis, tmpl *v1alpha1.AnalysisTemplateSpec) (*v1alpha1.Analysis, error) {
	if a == nil || a.TemplateRef == nil {
		return a, nil
	}
	ref := a.TemplateRef
	if tmpl == nil {
		return nil, templateErrorf("%s not found: create it, or fix templateRef (the release waits and starts no new version until then)",
			TemplateName(ref))
	}
	values, err := argValues(ref, tmpl.Args)
	if err != nil {
		return nil, err
	}
	out := overlay(tmpl.Analysis.DeepCopy(), a)
	if err := substitute(out, values, TemplateName(ref)); err != nil {
		return nil, err
	}
	return out, nil
}

// argValues checks the reference's arguments against the template's
// declarations and returns the value of every argument.
func argValues(ref *v1alpha1.AnalysisTemplateRef, decl []v1alpha1.AnalysisTemplateArg) (map[string]string, error) {
	given := map[string]string{}
	for _, v := range ref.Args {
		given[v.Name] = v.Value
	}
	values := map[string]string{}
	var names []string
	for _, d := range decl {
		names = append(names, d.Name)
		v, ok := given[d.Name]
		delete(given, d.Name)
		switch {
		case ok:
		case d.Default != nil:
			v = *d.Default
		default:
			return nil, templateErrorf("%s needs argument %q (%s): add {name: %s, value: ...} to templateRef.args",
				TemplateName(ref), d.Name, describeArg(d), d.Name)
		}
		if err := checkArg(d, v); err != nil {
			return nil, templateErrorf("argument %q of %s: %v", d.Name, TemplateName(ref), err)
		}
		values[d.Name] = v
	}
	if len(given) > 0 {
		unknown := make([]string, 0, len(given))
		for name := range given {
			unknown = append(unknown, name)
		}
		slices.Sort(unknown)
		return nil, templateErrorf("%s has no argument %s (it declares: %s)", TemplateName(ref),
			strings.Join(unknown, ", "), orNone(names))
	}
	return values, nil
}

func describeArg(d v1alpha1.AnalysisTemplateArg) string {
	typ := d.Type
	if typ == "" {
		typ = v1alpha1.ArgString
	}
	if d.Description == "" {
		return string(typ)
	}
	return string(typ) + ": " + d.Description
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// checkArg checks a value against its argument's type, so that no value can
// change the shape of a query it is put into.
func checkArg(d v1alpha1.AnalysisTemplateArg, v string) error {
	switch d.Type {
	case v1alpha1.ArgNumber:
		if _, err := strconv.ParseFloat(v, 64); err != nil || strings.ContainsAny(v, "xXpP_") {
			return fmt.Errorf("value %q is not a Number such as 0.99 or 500", v)
		}
	case v1alpha1.ArgDuration:
		if _, err := model.ParseDuration(v); err != nil {
			return fmt.Errorf("value %q is not a Duration such as 30s, 1m or 1h30m", v)
		}
	default:
		if strings.ContainsAny(v, "\"'`\\{}\n\r") {
			return fmt.Errorf("value %q holds a quote, a backslash, a brace or a line break, which a String may not", v)
		}
	}
	return nil
}

// overlay lays the fields set in own over base (a copy of the template's
// analysis) and returns base.
func overlay(base *v1alpha1.Analysis, own *v1alpha1.Analysis) *v1alpha1.Analysis {
	base.TemplateRef = nil
	if own.Interval != nil {
		base.Interval = own.Interval.DeepCopy()
	}
	if own.FailureLimit != 0 {
		base.FailureLimit = own.FailureLimit
	}
	if own.ErrorLimit != 0 {
		base.ErrorLimit = own.ErrorLimit
	}
	if own.MinSampleRequests != 0 {
		base.MinSampleRequests = own.MinSampleRequests
	}
	if own.SampleQuery != "" {
		base.SampleQuery = own.SampleQuery
	}
	if own.Provider != nil {
		base.Provider = own.Provider.DeepCopy()
	}
	if own.Judge != nil {
		base.Judge = own.Judge.DeepCopy()
	}
	for _, m := range own.Metrics {
		i := slices.IndexFunc(base.Metrics, func(t v1alpha1.Metric) bool { return t.Name == m.Name })
		if i >= 0 {
			base.Metrics[i] = *m.DeepCopy()
		} else {
			base.Metrics = append(base.Metrics, *m.DeepCopy())
		}
	}
	return base
}

// substitute replaces $(args.name) in every query of a. An argument the
// template does not declare is a *TemplateError.
func substitute(a *v1alpha1.Analysis, values map[string]string, template string) error {
	var missing []string
	replace := func(q string) string {
		return argRef.ReplaceAllStringFunc(q, func(m string) string {
			name := argRef.FindStringSubmatch(m)[1]
			v, ok := values[name]
			if !ok {
				missing = append(missing, name)
				return m
			}
			return v
		})
	}
	for i := range a.Metrics {
		a.Metrics[i].Query = replace(a.Metrics[i].Query)
	}
	a.SampleQuery = replace(a.SampleQuery)
	if j := a.Judge; j != nil {
		j.Requests, j.Errors, j.SlowRequests = replace(j.Requests), replace(j.Errors), replace(j.SlowRequests)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return templateErrorf("a query uses $(args.%s), which %s does not declare", strings.Join(slices.Compact(missing), "), $(args."), template)
	}
	return nil
}

// MissingProvider names the first part of a that has no provider (its own
// or the analysis'), or "" when every part has one. With an operator-wide
// default provider nothing is missing.
func MissingProvider(a *v1alpha1.Analysis) string {
	if a == nil || a.Provider != nil {
		return ""
	}
	for i, m := range a.Metrics {
		if m.Provider == nil {
			return fmt.Sprintf("metrics[%d] (%s)", i, m.Name)
		}
	}
	if a.SampleQuery != "" && a.MinSampleRequests > 0 {
		return "sampleQuery"
	}
	if a.Judge != nil && a.Judge.Provider == nil {
		return "judge"
	}
	return ""
}

// Digest identifies an analysis (or any value) by the hash of its JSON form.
func Digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// The API types always marshal; a value that does not is a bug,
		// and an empty digest never matches a stored one.
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// PinFor returns the pin in pins that a release of revision runs for field,
// or nil when none applies: the pin must be for this field and revision, and
// resolved from the release object's analysis as it is now (own, whose
// ReferenceDigest it records). An edit of the template leaves the pin as it
// is; an edit of the release object's analysis resolves again.
func PinFor(pins []v1alpha1.PinnedAnalysis, field, revision string, own *v1alpha1.Analysis) *v1alpha1.PinnedAnalysis {
	if revision == "" || own == nil || own.TemplateRef == nil {
		return nil
	}
	digest := Digest(own)
	for i := range pins {
		p := &pins[i]
		if p.Field == field && p.Revision == revision && p.ReferenceDigest == digest {
			return p
		}
	}
	return nil
}

// Pin records a just resolved analysis for field.
func Pin(field string, own, resolved *v1alpha1.Analysis, generation int64) v1alpha1.PinnedAnalysis {
	return v1alpha1.PinnedAnalysis{
		Field:              field,
		Template:           TemplateName(own.TemplateRef),
		TemplateGeneration: generation,
		ReferenceDigest:    Digest(own),
		Digest:             Digest(resolved),
		Analysis:           *resolved.DeepCopy(),
	}
}

// PinsAt returns the pins to keep in status once the decision says which
// revision is in flight: pins just resolved (no revision yet) are stamped
// with it, pins of another revision are dropped (a new revision resolves its
// templates afresh). Without a release in flight (revision "") nothing is
// pinned: the next release resolves its templates when it starts.
func PinsAt(pins []v1alpha1.PinnedAnalysis, revision string) []v1alpha1.PinnedAnalysis {
	var out []v1alpha1.PinnedAnalysis
	for _, p := range pins {
		if revision == "" || (p.Revision != "" && p.Revision != revision) {
			continue
		}
		p := *p.DeepCopy()
		p.Revision = revision
		out = append(out, p)
	}
	return out
}
