package promserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// metricsServer serves one gauge, sluice_test_probe{name=...} = value.
func metricsServer(t *testing.T, name string, value float64) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_test_probe", Help: "A test gauge."}, []string{"name"})
	reg.MustRegister(g)
	g.WithLabelValues(name).Set(value)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return srv
}

// instant runs query on srv and returns the raw result vector.
func instant(g Gomega, srv *Server, query string) []map[string]any {
	resp, err := http.Get(srv.URL() + "/api/v1/query?query=" + url.QueryEscape(query))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Data struct {
			Result []map[string]any `json:"result"`
		} `json:"data"`
	}
	g.Expect(json.NewDecoder(resp.Body).Decode(&body)).To(Succeed())
	return body.Data.Result
}

func TestTheServerScrapesItsTargetsAndStopsWithoutALeftover(t *testing.T) {
	g := NewWithT(t)
	first := metricsServer(t, "first", 1)
	srv := Start(t, first.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	g.Expect(srv.WaitForTargets(ctx)).To(Succeed())
	g.Expect(instant(g, srv, `sluice_test_probe{name="first"}`)).To(HaveLen(1))

	second := metricsServer(t, "second", 2)
	g.Expect(srv.SetTargets(ctx, first.URL, second.URL)).To(Succeed())
	g.Expect(srv.WaitForTargets(ctx)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(instant(g, srv, `sluice_test_probe{name="second"}`)).To(HaveLen(1))
	}).WithTimeout(deadline.Scale(10 * time.Second)).Should(Succeed())

	dir := filepath.Dir(srv.LogPath())
	g.Expect(srv.Stop()).To(Succeed())
	g.Expect(srv.proc.Exited()).To(BeClosed(), "the process is gone")
	g.Expect(dir).NotTo(BeADirectory(), "the temporary directory is removed")
	g.Expect(srv.Stop()).To(Succeed(), "a second Stop does nothing")
}

func TestAMissingBinaryTellsToRunMakeTools(t *testing.T) {
	g := NewWithT(t)
	t.Setenv(BinaryEnv, filepath.Join(t.TempDir(), "no-such-prometheus"))

	_, err := Run(context.Background(), Options{})
	g.Expect(err).To(MatchError(ContainSubstring("make tools")))
}

func TestABinaryThatIsNotPrometheusFailsWithItsLog(t *testing.T) {
	g := NewWithT(t)
	fake := filepath.Join(t.TempDir(), "prometheus")
	g.Expect(os.WriteFile(fake, []byte("#!/bin/sh\necho 'bad flag' >&2\nexit 3\n"), 0o700)).To(Succeed())

	_, err := Run(context.Background(), Options{Binary: fake})
	g.Expect(err).To(MatchError(And(ContainSubstring("exited before it was ready"), ContainSubstring("bad flag"))))
}
