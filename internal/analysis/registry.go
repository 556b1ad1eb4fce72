package analysis

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Factory builds a Provider from its spec and the credentials read from the
// Secret the spec names. It checks the spec (address, timeout, credentials)
// and returns an error instead of a Provider that would fail every query.
type Factory func(spec v1alpha1.MetricProvider, creds Credentials) (Provider, error)

// Registry maps each provider type to its Factory. cmd/main.go builds it;
// tests build their own.
type Registry map[v1alpha1.ProviderType]Factory

// ErrUnknownProvider means that a spec names a provider type no Factory is
// registered for. It is a spec error: retrying will not help.
var ErrUnknownProvider = errors.New("unknown metric provider type")

// ErrNoProvider means that neither a metric nor its analysis names a provider.
var ErrNoProvider = errors.New("no metric provider")

// New builds the Provider spec describes with the Factory registered for its
// type. An empty or unregistered type is ErrUnknownProvider, never a default.
func (r Registry) New(spec v1alpha1.MetricProvider, creds Credentials) (Provider, error) {
	factory, ok := r[spec.Type]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownProvider, spec.Type, r.known())
	}
	p, err := factory(spec, creds)
	if err != nil {
		return nil, fmt.Errorf("build %s provider for %s: %w", spec.Type, spec.Address, err)
	}
	return p, nil
}

// known lists the registered types, sorted, for error messages.
func (r Registry) known() string {
	names := make([]string, 0, len(r))
	for t := range r {
		names = append(names, string(t))
	}
	if len(names) == 0 {
		return "none registered"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// EffectiveProvider picks the provider a metric or a judge queries: its own
// when set, else the analysis' default. With neither it returns
// ErrNoProvider (the API server refuses such a spec).
func EffectiveProvider(own, analysisDefault *v1alpha1.MetricProvider) (v1alpha1.MetricProvider, error) {
	switch {
	case own != nil:
		return *own, nil
	case analysisDefault != nil:
		return *analysisDefault, nil
	}
	return v1alpha1.MetricProvider{}, fmt.Errorf("%w: set analysis.provider or the metric's own provider", ErrNoProvider)
}
