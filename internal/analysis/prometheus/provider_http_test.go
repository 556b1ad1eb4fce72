package prometheus

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/analysis"
	"github.com/sluice-dev/sluice/internal/outbound"
)

// These tests cover what a real Prometheus does not readily produce:
// timeouts, authentication, TLS, proxies in front of it and warnings.

// scalarAnswer is Prometheus' answer to a query whose value is 0.25.
const scalarAnswer = `{"status":"success","data":{"resultType":"scalar","result":[1764158400,"0.25"]}}`

// answering returns a handler writing body as a Prometheus API answer.
func answering(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}
}

// fakePrometheus serves handler on loopback for the test's duration.
func fakePrometheus(t *testing.T, handler http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

// loopback is the outbound policy of these tests: their servers listen on
// loopback, which they allow as a user on a laptop would.
var loopback = WithOutbound(outbound.Policy{Allow: outbound.Loopback()})

// newProvider builds a Provider for address or fails the test.
func newProvider(t *testing.T, spec v1alpha1.MetricProvider, creds analysis.Credentials) *Provider {
	t.Helper()
	spec.Type = v1alpha1.ProviderPrometheus
	p, err := New(spec, creds, loopback)
	if err != nil {
		t.Fatalf("new provider: %v", err)
	}
	return p
}

func TestAnUnreachableServerIsAProviderError(t *testing.T) {
	g := NewWithT(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	address := "http://" + l.Addr().String()
	g.Expect(l.Close()).To(Succeed())
	p := newProvider(t, v1alpha1.MetricProvider{Address: address}, analysis.Credentials{})

	_, err = p.Query(context.Background(), "up")

	g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
	g.Expect(err).To(MatchError(And(ContainSubstring(address), ContainSubstring("connection refused"))))
}

func TestASlowServerTimesOutAsAProviderErrorAndIsToldTheTimeout(t *testing.T) {
	g := NewWithT(t)
	var mu sync.Mutex
	var sentTimeout string
	srv := fakePrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sentTimeout = r.FormValue("timeout")
		mu.Unlock()
		select { // sleep until the client gives up
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	p := newProvider(t, v1alpha1.MetricProvider{Address: srv.URL,
		Timeout: &metav1.Duration{Duration: 200 * time.Millisecond}}, analysis.Credentials{})

	start := time.Now()
	_, err := p.Query(context.Background(), "up")

	g.Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second), "the client gave up on its own")
	g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
	g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue())
	g.Expect(err).To(MatchError(ContainSubstring("timed out after 200ms")))
	mu.Lock()
	defer mu.Unlock()
	g.Expect(sentTimeout).To(Equal("200ms"), "the server is asked to stop evaluating too")
}

func TestBasicAuthReachesTheServer(t *testing.T) {
	srv := fakePrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "sluice" || pass != "s3cret" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		answering(scalarAnswer)(w, r)
	}))
	spec := v1alpha1.MetricProvider{Address: srv.URL, AllowInsecureCredentials: true}

	t.Run("the right credentials are accepted", func(t *testing.T) {
		g := NewWithT(t)
		p := newProvider(t, spec, analysis.Credentials{Username: "sluice", Password: "s3cret"})
		g.Expect(p.Query(context.Background(), "up")).To(Equal(0.25))
	})
	t.Run("a refusal is a provider error that quotes the server", func(t *testing.T) {
		g := NewWithT(t)
		p := newProvider(t, spec, analysis.Credentials{Username: "sluice", Password: "wrong"})
		_, err := p.Query(context.Background(), "up")
		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
		g.Expect(err).To(MatchError(And(ContainSubstring("401"), ContainSubstring("who are you?"))))
	})
}

func TestABearerTokenReachesTheServer(t *testing.T) {
	g := NewWithT(t)
	srv := fakePrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			http.Error(w, "no token", http.StatusForbidden)
			return
		}
		answering(scalarAnswer)(w, r)
	}))

	ok := newProvider(t, v1alpha1.MetricProvider{Address: srv.URL, AllowInsecureCredentials: true},
		analysis.Credentials{BearerToken: "t0ken"})
	anonymous := newProvider(t, v1alpha1.MetricProvider{Address: srv.URL}, analysis.Credentials{})

	g.Expect(ok.Query(context.Background(), "up")).To(Equal(0.25))
	_, err := anonymous.Query(context.Background(), "up")
	g.Expect(err).To(MatchError(ContainSubstring("403")))
}

func TestWarningsAreLoggedAndTheValueStands(t *testing.T) {
	g := NewWithT(t)
	srv := fakePrometheus(t, answering(`{"status":"success","warnings":["store eu-1 unreachable"],`+
		`"data":{"resultType":"vector","result":[{"metric":{},"value":[1764158400,"3"]}]}}`))
	p := newProvider(t, v1alpha1.MetricProvider{Address: srv.URL}, analysis.Credentials{})
	var logs bytes.Buffer
	ctx := logr.NewContext(context.Background(), funcr.New(func(prefix, args string) {
		logs.WriteString(args + "\n")
	}, funcr.Options{}))

	v, err := p.Query(ctx, "up")

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v).To(Equal(3.0))
	g.Expect(logs.String()).To(ContainSubstring("store eu-1 unreachable"))
}

func TestAnErrorPageFromAProxyIsAProviderErrorThatQuotesIt(t *testing.T) {
	g := NewWithT(t)
	srv := fakePrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream prometheus is down", http.StatusBadGateway)
	}))
	p := newProvider(t, v1alpha1.MetricProvider{Address: srv.URL}, analysis.Credentials{})

	_, err := p.Query(context.Background(), "up")

	g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
	g.Expect(err).To(MatchError(And(ContainSubstring("502"), ContainSubstring("upstream prometheus is down"))))
}

func TestTLSVerifiesTheServerWithTheGivenCA(t *testing.T) {
	srv := httptest.NewTLSServer(answering(scalarAnswer))
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	spec := v1alpha1.MetricProvider{Address: srv.URL}

	t.Run("the server's CA makes it trusted", func(t *testing.T) {
		g := NewWithT(t)
		p := newProvider(t, spec, analysis.Credentials{CA: ca})
		g.Expect(p.Query(context.Background(), "up")).To(Equal(0.25))
	})
	t.Run("without it the server is not trusted", func(t *testing.T) {
		g := NewWithT(t)
		p := newProvider(t, spec, analysis.Credentials{})
		_, err := p.Query(context.Background(), "up")
		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
		g.Expect(err).To(MatchError(ContainSubstring("certificate")))
	})
	t.Run("insecureSkipVerify trusts it anyway", func(t *testing.T) {
		g := NewWithT(t)
		insecure := spec
		insecure.InsecureSkipVerify = true
		p := newProvider(t, insecure, analysis.Credentials{})
		g.Expect(p.Query(context.Background(), "up")).To(Equal(0.25))
	})
}

func TestAClientCertificateIsPresentedToTheServer(t *testing.T) {
	clientCert, clientKey := selfSignedPair(t, "sluice")
	pool := certPool(t, clientCert)
	srv := httptest.NewUnstartedServer(answering(scalarAnswer))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	spec := v1alpha1.MetricProvider{Address: srv.URL}

	t.Run("with the certificate the query is answered", func(t *testing.T) {
		g := NewWithT(t)
		p := newProvider(t, spec, analysis.Credentials{CA: ca, ClientCert: clientCert, ClientKey: clientKey})
		g.Expect(p.Query(context.Background(), "up")).To(Equal(0.25))
	})
	t.Run("without it the server refuses the connection", func(t *testing.T) {
		g := NewWithT(t)
		p := newProvider(t, spec, analysis.Credentials{CA: ca})
		_, err := p.Query(context.Background(), "up")
		g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
	})
}

func TestNewRefusesSpecsThatCannotWork(t *testing.T) {
	tests := []struct {
		name    string
		address string
		creds   analysis.Credentials
		want    string
	}{
		{name: "an address that is not http", address: "ftp://127.0.0.1:9090", want: "not an http:// or https:// URL"},
		{name: "an address without a host", address: "http://", want: "not an http:// or https:// URL"},
		{name: "a username without a password", address: "https://127.0.0.1:9090",
			creds: analysis.Credentials{Username: "u"}, want: `"password" is missing`},
		{name: "basic and bearer authentication at once", address: "https://127.0.0.1:9090",
			creds: analysis.Credentials{Username: "u", Password: "p", BearerToken: "t"}, want: "not both"},
		{name: "a CA that is not PEM", address: "https://127.0.0.1:9090",
			creds: analysis.Credentials{CA: []byte("not pem")}, want: "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := New(v1alpha1.MetricProvider{Address: tt.address}, tt.creds)
			g.Expect(err).To(MatchError(ContainSubstring(tt.want)))
		})
	}
}

func TestTheFactoryBuildsAProviderWithItsOptions(t *testing.T) {
	g := NewWithT(t)
	srv := fakePrometheus(t, answering(scalarAnswer))
	observed := 0
	factory := Factory(WithObserver(func(time.Duration, error) { observed++ }), loopback)
	reg := analysis.Registry{v1alpha1.ProviderPrometheus: factory}

	p, err := reg.New(v1alpha1.MetricProvider{Type: v1alpha1.ProviderPrometheus, Address: srv.URL}, analysis.Credentials{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.Query(context.Background(), "up")).To(Equal(0.25))
	g.Expect(observed).To(Equal(1))
}

func TestQuerySeriesReadsAScalarAsOneSeriesAndRefusesAMatrix(t *testing.T) {
	g := NewWithT(t)
	p := newProvider(t, v1alpha1.MetricProvider{Address: fakePrometheus(t, answering(scalarAnswer)).URL}, analysis.Credentials{})
	got, err := p.QuerySeries(context.Background(), "scalar(x)")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(map[string]float64{"": 0.25}))

	matrix := `{"status":"success","data":{"resultType":"matrix","result":[]}}`
	p = newProvider(t, v1alpha1.MetricProvider{Address: fakePrometheus(t, answering(matrix)).URL}, analysis.Credentials{})
	_, err = p.QuerySeries(context.Background(), "x[1m]")
	g.Expect(errors.Is(err, analysis.ErrProvider)).To(BeTrue())
	g.Expect(err).To(MatchError(ContainSubstring("returned a matrix")))
}
