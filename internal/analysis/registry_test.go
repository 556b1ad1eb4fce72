package analysis

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestRegistryBuildsTheProviderRegisteredForTheType(t *testing.T) {
	g := NewWithT(t)
	var gotSpec v1alpha1.MetricProvider
	var gotCreds Credentials
	built := &fixedProvider{value: 1}
	reg := Registry{v1alpha1.ProviderPrometheus: func(spec v1alpha1.MetricProvider, creds Credentials) (Provider, error) {
		gotSpec, gotCreds = spec, creds
		return built, nil
	}}
	spec := v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: "http://127.0.0.1:9090"}

	p, err := reg.New(spec, Credentials{BearerToken: "t"})

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p).To(BeIdenticalTo(built))
	g.Expect(gotSpec).To(Equal(spec))
	g.Expect(gotCreds.BearerToken).To(Equal("t"))
}

func TestRegistryRefusesAnUnknownTypeInsteadOfDefaulting(t *testing.T) {
	reg := Registry{v1alpha1.ProviderPrometheus: func(v1alpha1.MetricProvider, Credentials) (Provider, error) {
		return &fixedProvider{}, nil
	}}
	for _, typ := range []v1alpha1.ProviderType{"datadog", ""} {
		t.Run(string(typ), func(t *testing.T) {
			g := NewWithT(t)
			p, err := reg.New(v1alpha1.MetricProvider{Type: typ, Address: "http://127.0.0.1:1"}, Credentials{})
			g.Expect(p).To(BeNil())
			g.Expect(errors.Is(err, ErrUnknownProvider)).To(BeTrue())
			g.Expect(err).To(MatchError(ContainSubstring("known: prometheus")))
		})
	}
}

func TestRegistryWrapsAFactoryErrorWithTheProvider(t *testing.T) {
	g := NewWithT(t)
	reg := Registry{v1alpha1.ProviderPrometheus: func(v1alpha1.MetricProvider, Credentials) (Provider, error) {
		return nil, errors.New("bad address")
	}}

	_, err := reg.New(v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: "ftp://x"}, Credentials{})

	g.Expect(err).To(MatchError("build prometheus provider for ftp://x: bad address"))
}

func TestEffectiveProvider(t *testing.T) {
	own := &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: "http://own:9090"}
	shared := &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: "http://shared:9090"}
	tests := []struct {
		name          string
		own, fallback *v1alpha1.MetricProvider
		want          string
		wantErr       bool
	}{
		{name: "prefer the metric's own provider", own: own, fallback: shared, want: own.Address},
		{name: "fall back to the analysis' provider", fallback: shared, want: shared.Address},
		{name: "refuse when neither is set", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := EffectiveProvider(tt.own, tt.fallback)
			if tt.wantErr {
				g.Expect(errors.Is(err, ErrNoProvider)).To(BeTrue())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Address).To(Equal(tt.want))
		})
	}
}
