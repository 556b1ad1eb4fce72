package release

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
)

// Analysis fields, as status.pinnedAnalyses names them.
const (
	FieldAnalysis              = "analysis"
	FieldPrePromotionAnalysis  = "prePromotionAnalysis"
	FieldPostPromotionAnalysis = "postPromotionAnalysis"
)

// +kubebuilder:rbac:groups=rollouts.sluice.dev,resources=analysistemplates;clusteranalysistemplates,verbs=get;list;watch

// Resolver resolves the analyses of release objects from their templates.
type Resolver struct {
	// Client reads AnalysisTemplates and ClusterAnalysisTemplates.
	Client client.Reader
	// HasDefaultProvider says whether the operator has a default provider:
	// without one, a metric or judge with no provider anywhere is a spec
	// error.
	HasDefaultProvider bool
}

// Resolve returns the analysis the field of a release object runs while
// revision is in flight (revision is "" when none is): the analysis pinned
// for that revision when the release object's own analysis is unchanged
// since, else a resolution of its template now, with its pin to keep (nil
// for an analysis without templateRef). A *SpecError means that the release
// object or its template must change; no release may start on it. Any other
// error is transient.
func (r Resolver) Resolve(ctx context.Context, namespace, field string, own *v1alpha1.Analysis,
	pins []v1alpha1.PinnedAnalysis, revision string) (*v1alpha1.Analysis, *v1alpha1.PinnedAnalysis, error) {
	if own == nil {
		return nil, nil, nil
	}
	path := "spec." + field
	if pin := analysis.PinFor(pins, field, revision, own); pin != nil {
		return pin.Analysis.DeepCopy(), pin, nil
	}
	var tmpl *v1alpha1.AnalysisTemplateSpec
	var generation int64
	if own.TemplateRef != nil {
		var err error
		if tmpl, generation, err = r.template(ctx, namespace, own.TemplateRef); err != nil {
			return nil, nil, err
		}
	}
	resolved, err := analysis.Resolve(own, tmpl)
	var te *analysis.TemplateError
	switch {
	case errors.As(err, &te):
		return nil, nil, &SpecError{Field: path + ".templateRef", Problem: te.Problem}
	case err != nil:
		return nil, nil, err
	}
	if missing := analysis.MissingProvider(resolved); missing != "" && !r.HasDefaultProvider {
		return nil, nil, &SpecError{Field: path + "." + missing, Problem: "no metric provider: set " + path +
			".provider (or this one's own), use a template that names one, or give the operator a default " +
			"(--default-prometheus-address, Helm value defaultProvider.address)"}
	}
	if own.TemplateRef == nil {
		return resolved, nil, nil
	}
	pin := analysis.Pin(field, own, resolved, generation)
	return resolved, &pin, nil
}

// template reads the template ref names; nil when it does not exist.
func (r Resolver) template(ctx context.Context, namespace string, ref *v1alpha1.AnalysisTemplateRef) (*v1alpha1.AnalysisTemplateSpec, int64, error) {
	var obj client.Object
	var spec *v1alpha1.AnalysisTemplateSpec
	key := types.NamespacedName{Name: ref.Name}
	if ref.Kind == v1alpha1.KindAnalysisTemplate {
		t := &v1alpha1.AnalysisTemplate{}
		obj, spec, key.Namespace = t, &t.Spec, namespace
	} else {
		t := &v1alpha1.ClusterAnalysisTemplate{}
		obj, spec = t, &t.Spec
	}
	if err := r.Client.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, 0, nil
		}
		return nil, 0, fmt.Errorf("read %s: %w", analysis.TemplateName(ref), err)
	}
	return spec, obj.GetGeneration(), nil
}

// ResolveCanary returns the Canary's spec with its analysis resolved, and
// the pins to keep once the decision says which revision is in flight (see
// analysis.PinsAt). Errors are as Resolve's.
func (r Resolver) ResolveCanary(ctx context.Context, c *v1alpha1.Canary) (v1alpha1.CanarySpec, []v1alpha1.PinnedAnalysis, error) {
	spec := *c.Spec.DeepCopy()
	a, pin, err := r.Resolve(ctx, c.Namespace, FieldAnalysis, c.Spec.Analysis, c.Status.PinnedAnalyses, c.Status.CanaryRevision)
	if err != nil {
		return spec, nil, err
	}
	spec.Analysis = a
	var pins []v1alpha1.PinnedAnalysis
	if pin != nil {
		pins = append(pins, *pin)
	}
	return spec, pins, nil
}

// ResolveBlueGreen is ResolveCanary for a BlueGreen's pre- and
// post-promotion analyses.
func (r Resolver) ResolveBlueGreen(ctx context.Context, bg *v1alpha1.BlueGreen) (v1alpha1.BlueGreenSpec, []v1alpha1.PinnedAnalysis, error) {
	spec := *bg.Spec.DeepCopy()
	var pins []v1alpha1.PinnedAnalysis
	for _, phase := range []struct {
		field string
		p     *v1alpha1.PhaseAnalysis
	}{{FieldPrePromotionAnalysis, spec.PrePromotionAnalysis}, {FieldPostPromotionAnalysis, spec.PostPromotionAnalysis}} {
		if phase.p == nil {
			continue
		}
		a, pin, err := r.Resolve(ctx, bg.Namespace, phase.field, &phase.p.Analysis, bg.Status.PinnedAnalyses,
			bg.Status.PreviewRevision)
		if err != nil {
			return spec, nil, err
		}
		phase.p.Analysis = *a
		if pin != nil {
			pins = append(pins, *pin)
		}
	}
	return spec, pins, nil
}

// WatchTemplates makes a controller watch AnalysisTemplates and
// ClusterAnalysisTemplates, mapped to the release objects (listed with
// newList) that refer to them: a template created after the release object
// that names it un-stalls it at once, and an edited template is resolved by
// the next release without waiting for a poll.
func WatchTemplates(c client.Reader, newList func() client.ObjectList) func(*builder.Builder) {
	mapper := func(kind v1alpha1.AnalysisTemplateKind) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return referring(ctx, c, newList, kind, o)
		})
	}
	return func(b *builder.Builder) {
		b.Watches(&v1alpha1.AnalysisTemplate{}, mapper(v1alpha1.KindAnalysisTemplate)).
			Watches(&v1alpha1.ClusterAnalysisTemplate{}, mapper(v1alpha1.KindClusterAnalysisTemplate))
	}
}

// referring returns the release objects that refer to the template o of
// kind: in its namespace for an AnalysisTemplate, anywhere for a cluster one.
func referring(ctx context.Context, c client.Reader, newList func() client.ObjectList,
	kind v1alpha1.AnalysisTemplateKind, o client.Object) []reconcile.Request {
	list := newList()
	var opts []client.ListOption
	if kind == v1alpha1.KindAnalysisTemplate {
		opts = append(opts, client.InNamespace(o.GetNamespace()))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "List the release objects of a template", "template", o.GetName())
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, item := range items {
		obj, ok := item.(client.Object)
		if !ok {
			continue
		}
		for _, ref := range TemplateRefs(obj) {
			kindOf := ref.Kind
			if kindOf == "" {
				kindOf = v1alpha1.KindClusterAnalysisTemplate
			}
			if kindOf == kind && ref.Name == o.GetName() {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
				break
			}
		}
	}
	return out
}

// TemplateRefs returns the template references of a Canary or a BlueGreen.
func TemplateRefs(o client.Object) []*v1alpha1.AnalysisTemplateRef {
	var out []*v1alpha1.AnalysisTemplateRef
	switch o := o.(type) {
	case *v1alpha1.Canary:
		if a := o.Spec.Analysis; a != nil && a.TemplateRef != nil {
			out = append(out, a.TemplateRef)
		}
	case *v1alpha1.BlueGreen:
		for _, p := range []*v1alpha1.PhaseAnalysis{o.Spec.PrePromotionAnalysis, o.Spec.PostPromotionAnalysis} {
			if p != nil && p.TemplateRef != nil {
				out = append(out, p.TemplateRef)
			}
		}
	}
	return out
}
