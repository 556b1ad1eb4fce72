package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/hooks"
)

// SpecError is a spec the API server accepted that Sluice cannot act on,
// found before anything acts on it. Field names the offending field the way
// the API server would (spec.hooks[1].job.template).
type SpecError struct {
	// Field is the path of the offending field.
	Field string
	// Problem says what is wrong and what to write instead.
	Problem string
}

// Error implements error.
func (e *SpecError) Error() string { return e.Field + ": " + e.Problem }

// checkVars are the values query templates are tried with: any names do,
// what matters is that every template parses and every field it uses exists.
var checkVars = analysis.QueryVars{
	Namespace: "ns", Name: "app", Canary: "app", Primary: "app-primary", Interval: time.Minute, Workload: "app",
}

// CheckCanary returns what in a Canary's spec the API server could not
// check: query templates that do not parse or use an unknown field, and
// hook Job templates that did not decode. Nil when there is nothing.
func CheckCanary(spec *v1alpha1.CanarySpec) error {
	errs := checkAnalysis("spec.analysis", spec.Analysis)
	for i, h := range spec.Hooks {
		errs = append(errs, checkJob(fmt.Sprintf("spec.hooks[%d].job.template", i), h.Job))
	}
	return errors.Join(errs...)
}

// CheckBlueGreen is CheckCanary for a BlueGreen.
func CheckBlueGreen(spec *v1alpha1.BlueGreenSpec) error {
	var errs []error
	if p := spec.PrePromotionAnalysis; p != nil {
		errs = append(errs, checkAnalysis("spec.prePromotionAnalysis", &p.Analysis)...)
	}
	if p := spec.PostPromotionAnalysis; p != nil {
		errs = append(errs, checkAnalysis("spec.postPromotionAnalysis", &p.Analysis)...)
	}
	for i, h := range spec.Hooks {
		errs = append(errs, checkJob(fmt.Sprintf("spec.hooks[%d].job.template", i), h.Job))
	}
	return errors.Join(errs...)
}

func checkAnalysis(path string, a *v1alpha1.Analysis) []error {
	if a == nil {
		return nil
	}
	var errs []error
	for i, m := range a.Metrics {
		errs = append(errs, checkQuery(fmt.Sprintf("%s.metrics[%d].query", path, i), m.Query))
	}
	errs = append(errs, checkQuery(path+".sampleQuery", a.SampleQuery))
	if j := a.Judge; j != nil {
		errs = append(errs, checkQuery(path+".judge.requests", j.Requests),
			checkQuery(path+".judge.errors", j.Errors), checkQuery(path+".judge.slowRequests", j.SlowRequests))
	}
	return errs
}

func checkQuery(field, query string) error {
	if query == "" {
		return nil
	}
	if _, err := analysis.RenderQuery(query, checkVars); err != nil {
		return &SpecError{Field: field, Problem: err.Error()}
	}
	return nil
}

func checkJob(field string, j *v1alpha1.JobHook) error {
	if j == nil || j.TemplateError == "" {
		return nil
	}
	return &SpecError{Field: field, Problem: j.TemplateError +
		"; write a pod template, as in a Job: template: {metadata: {labels: ...}, spec: {containers: [...]}}"}
}

// CheckTargetPort returns a SpecError when the Services' targetPort names a
// container port that target's pod template does not declare: the Services
// Sluice writes would send every request to a port no pod serves. A port
// given by number, or no target yet (it is waited for), is not checked.
// Like the Service's own endpoints, only the containers' ports count.
func CheckTargetPort(port v1alpha1.ServicePort, target *appsv1.Deployment) error {
	if port.TargetPort == nil || port.TargetPort.Type != intstr.String || target == nil {
		return nil
	}
	name := port.TargetPort.StrVal
	var names []string
	for _, c := range target.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return nil
			}
			if p.Name != "" {
				names = append(names, p.Name)
			}
		}
	}
	named := "names no port"
	if len(names) > 0 {
		named = "names only " + strings.Join(names, ", ")
	}
	return &SpecError{Field: "spec.service.targetPort", Problem: fmt.Sprintf(
		"no container of Deployment %s has a port named %q (its pod template %s): name the container port %q in the Deployment, or write targetPort as a number",
		target.Name, name, named, name)}
}

// Admit checks what a reconcile of any release object checks, after its
// own spec, before it observes anything: the Job hooks hs of obj against
// the hook policy, and the target Deployment (named target) against the
// Services' port (see CheckTargetPort: no release starts on a template
// whose pods would not serve it, and nothing is called or checked). It
// returns the target, nil while it is missing (the state machines wait for
// it). An error that a spec change must fix is typed for Classify; a read
// that failed is transient.
func Admit(ctx context.Context, c client.Reader, policy hooks.JobPolicy, obj client.Object, hs []hooks.Hook,
	port v1alpha1.ServicePort, target string) (*appsv1.Deployment, error) {
	if err := policy.Check(obj.GetNamespace(), hs); err != nil {
		return nil, err
	}
	d, _, err := Deployment(ctx, c, obj.GetNamespace(), target)
	if err != nil {
		return nil, err
	}
	return d, CheckTargetPort(port, d)
}
