package analysis

import (
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
)

// QueryVars are the values a query template can use.
type QueryVars struct {
	// Namespace of the release.
	Namespace string
	// Name of the target workload.
	Name string
	// Canary is the name of the workload running the new version.
	Canary string
	// Primary is the name of the workload running the stable version.
	Primary string
	// Interval is the analysis interval. Templates see it as a PromQL
	// duration such as 30s, 1m or 1m30s.
	Interval time.Duration
	// Workload is the workload a judge's counter query is read for: the
	// canary's or the primary's name in turn. Empty for threshold metrics.
	Workload string
}

// templateData is what a template executes against: Interval is already a
// PromQL duration, so that {{ .Interval }} never prints Go's "1m0s".
type templateData struct {
	Namespace string
	Name      string
	Canary    string
	Primary   string
	Interval  string
	Workload  string
}

// RenderQuery executes the Go template query with vars. A template that does
// not parse or refers to an unknown field is an ErrProvider error that names
// the problem; the check cannot run until the spec is fixed.
func RenderQuery(query string, vars QueryVars) (string, error) {
	tmpl, err := template.New("query").Option("missingkey=error").Parse(query)
	if err != nil {
		return "", ProviderErrorf("parse query template: %w", err)
	}
	data := templateData{
		Namespace: vars.Namespace,
		Name:      vars.Name,
		Canary:    vars.Canary,
		Primary:   vars.Primary,
		Interval:  PromQLDuration(vars.Interval),
		Workload:  vars.Workload,
	}
	var out strings.Builder
	if err := tmpl.Execute(&out, data); err != nil {
		return "", ProviderErrorf("render query template (fields are .Namespace, .Name, .Canary, "+
			".Primary, .Interval and .Workload): %w", err)
	}
	return out.String(), nil
}

// PromQLDuration formats d the way PromQL writes durations: 30s, 1m, 1h30m,
// 500ms. Precision below a millisecond is dropped.
func PromQLDuration(d time.Duration) string {
	return model.Duration(d).String()
}
