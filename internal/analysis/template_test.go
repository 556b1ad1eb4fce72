package analysis

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestRenderQuery(t *testing.T) {
	vars := QueryVars{Namespace: "shop", Name: "podinfo", Canary: "podinfo-canary", Primary: "podinfo-primary",
		Interval: 30 * time.Second, Workload: "podinfo-primary"}
	tests := []struct {
		name  string
		query string
		vars  QueryVars
		want  string
	}{
		{name: "fill every field",
			query: `{{ .Namespace }} {{ .Name }} {{ .Canary }} {{ .Primary }} {{ .Interval }} {{ .Workload }}`,
			vars:  vars, want: "shop podinfo podinfo-canary podinfo-primary 30s podinfo-primary"},
		{name: "write a minute as 1m, not Go's 1m0s", query: "[{{ .Interval }}]",
			vars: QueryVars{Interval: time.Minute}, want: "[1m]"},
		{name: "write a mixed interval as a compound PromQL duration", query: "[{{ .Interval }}]",
			vars: QueryVars{Interval: 90 * time.Second}, want: "[1m30s]"},
		{name: "write an hour as 1h", query: "[{{ .Interval }}]",
			vars: QueryVars{Interval: time.Hour}, want: "[1h]"},
		{name: "leave a query without fields untouched", query: `sum(up{job="x"})`, vars: vars,
			want: `sum(up{job="x"})`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := RenderQuery(tt.query, tt.vars)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestRenderQueryErrors(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "name an unknown field and list the known ones", query: `x{w="{{ .Canry }}"}`,
			want: []string{"Canry", ".Namespace, .Name, .Canary, .Primary, .Interval and .Workload"}},
		{name: "say that a template does not parse", query: `x{w="{{ .Canary }"}`,
			want: []string{"parse query template"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := RenderQuery(tt.query, QueryVars{})
			g.Expect(errors.Is(err, ErrProvider)).To(BeTrue(), "a template error is a provider error")
			g.Expect(errors.Is(err, ErrNoData)).To(BeFalse())
			for _, part := range tt.want {
				g.Expect(err).To(MatchError(ContainSubstring(part)))
			}
		})
	}
}
