package prometheus

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// operatorDefault is a runner whose only provider is the operator-wide
// default at address, with a Secret in the operator's namespace; it records
// the namespaces credentials were read in.
func operatorDefault(policy outbound.Policy, address string, readIn *[]string) *analysis.Runner {
	return &analysis.Runner{
		Providers: analysis.Registry{v1alpha1.ProviderPrometheus: Factory(WithOutbound(policy))},
		Credentials: func(_ context.Context, namespace string, ref *corev1.LocalObjectReference) (analysis.Credentials, error) {
			*readIn = append(*readIn, namespace+"/"+ref.Name)
			return analysis.Credentials{BearerToken: "operator-token"}, nil
		},
		Default: &analysis.DefaultProvider{
			Spec: v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: address, AllowInsecureCredentials: true,
				SecretRef: &corev1.LocalObjectReference{Name: "prometheus-auth"}},
			SecretNamespace: "sluice-system",
		},
	}
}

func providerless() *v1alpha1.Analysis {
	return &v1alpha1.Analysis{Metrics: []v1alpha1.Metric{{Name: "up", Query: "up",
		ThresholdRange: v1alpha1.ThresholdRange{Min: ptr(0.0)}}}}
}

// allowLoopback lets the tests reach their httptest servers.
var allowLoopback = outbound.Policy{Allow: outbound.Loopback()}

var w = analysis.Workloads{Namespace: "shop", Name: "app", Canary: "app", Primary: "app-primary"}

func TestAMetricWithoutProviderGoesToTheOperatorDefaultWithItsCredentials(t *testing.T) {
	g := NewWithT(t)
	var auth atomic.Value
	srv := fakePrometheus(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		answering(scalarAnswer)(rw, r)
	}))
	var readIn []string
	out := operatorDefault(allowLoopback, srv.URL, &readIn).Run(context.Background(), providerless(), w, nil, time.Now())
	g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomePassed), out.Results[0].Message)
	g.Expect(readIn).To(Equal([]string{"sluice-system/prometheus-auth"}), "the default's Secret is read in the operator's namespace")
	g.Expect(auth.Load()).To(Equal("Bearer operator-token"))
}

func TestAMetricWithItsOwnProviderNeverGetsTheDefaultCredentials(t *testing.T) {
	g := NewWithT(t)
	var auth atomic.Value
	auth.Store("")
	srv := fakePrometheus(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		answering(scalarAnswer)(rw, r)
	}))
	var readIn []string
	a := providerless()
	a.Provider = &v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: srv.URL}
	out := operatorDefault(allowLoopback, "http://prometheus.monitoring:9090", &readIn).Run(context.Background(), a, w, nil, time.Now())
	g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomePassed), out.Results[0].Message)
	g.Expect(readIn).To(BeEmpty())
	g.Expect(auth.Load()).To(BeEmpty())
}

func TestTheOutboundPolicyAppliesToTheOperatorDefault(t *testing.T) {
	g := NewWithT(t)
	var calls atomic.Int32
	srv := fakePrometheus(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		answering(scalarAnswer)(rw, r)
	}))
	var readIn []string
	// The zero policy is the default one, which refuses loopback.
	out := operatorDefault(outbound.Policy{}, srv.URL, &readIn).Run(context.Background(), providerless(), w, nil, time.Now())
	g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomeError))
	g.Expect(out.Results[0].Message).To(ContainSubstring("outbound policy"))
	g.Expect(calls.Load()).To(BeZero())
}

func TestWithoutAnyProviderACheckIsAProviderErrorThatSaysSo(t *testing.T) {
	g := NewWithT(t)
	r := &analysis.Runner{Providers: analysis.Registry{v1alpha1.ProviderPrometheus: Factory(loopback)}}
	out := r.Run(context.Background(), providerless(), w, nil, time.Now())
	g.Expect(out.Results[0].Outcome).To(Equal(v1alpha1.OutcomeError))
	g.Expect(out.Results[0].Message).To(ContainSubstring("the operator has no default provider"))
}
